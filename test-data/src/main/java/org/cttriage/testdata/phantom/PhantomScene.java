package org.cttriage.testdata.phantom;

import java.util.List;
import java.util.stream.IntStream;

/**
 * A planned phantom that has not been rendered: its anatomy and findings are fixed by the spec,
 * and any axis-aligned region of it can be rendered on any lattice. This is how organ crops are
 * made for training at an organ's fine spacing without rendering the whole 512² volume: the
 * spec still decides lesion placement, softness and coverage exactly as for {@link PhantomGenerator}.
 *
 * <p>Regions use the same plane renderer as whole phantoms; a region whose lattice is that of
 * the whole phantom, rendered with the same noise seeds, is bit-identical to it
 * (PhantomSceneTest).
 */
public final class PhantomScene {
    private final PhantomSpec spec;
    private final FindingPlanner.Plan plan;

    private PhantomScene(PhantomSpec spec, FindingPlanner.Plan plan) {
        this.spec = spec;
        this.plan = plan;
    }

    /** Plans the phantom of {@code spec} (anatomy, findings, truth); renders nothing. */
    public static PhantomScene plan(PhantomSpec spec) {
        return new PhantomScene(spec, FindingPlanner.plan(spec));
    }

    /** The spec the scene was planned from. */
    public PhantomSpec spec() {
        return spec;
    }

    /** Every inserted finding, as {@link Phantom#truth()} would list it. */
    public List<FindingTruth> truth() {
        return plan.truth;
    }

    /** The simulated patient's body habitus. */
    public PatientHabitus habitus() {
        return plan.anatomy.habitus;
    }

    /**
     * LPS x of the patient's midline: the plane that separates right (smaller x) from left organs
     * (lungs, kidneys), as {@link FindingTruth#side()} uses it.
     */
    public double midlineXLps() {
        return plan.anatomy.ox;
    }

    /** LPS z of the centre of the most superior slice the spec covers (slice 0 of the whole phantom). */
    public double topSliceZLps() {
        return plan.zTop;
    }

    /**
     * Noise of a slab of {@code thicknessMm}: thinner slabs collect fewer photons, as the planner
     * models it for whole phantoms.
     */
    public double noiseSigma(double thicknessMm) {
        return plan.anatomy.noiseSigma * Math.max(0.6, Math.min(2.0, Math.sqrt(3.75 / Math.max(thicknessMm, 0.25))));
    }

    /**
     * Renders a region: voxel (i, j, k) lies at {@code originLps + (i·sx, j·sy, k·sz)} (x towards the
     * patient's left, y posterior, z superior), each voxel averaging a slab of thickness sz, with
     * noise of {@link #noiseSigma(double) noiseSigma(sz)} seeded from the spec's seed and
     * {@code noiseStream} (use a different stream per region of one scene).
     *
     * @param originLps  centre of voxel (0, 0, 0), LPS mm
     * @param spacingMm  sx, sy, sz; sx must equal sy (the renderer's planes are square-pixelled)
     * @param size       voxels along x, y, z
     */
    public PhantomRegion render(double[] originLps, double[] spacingMm, int[] size, long noiseStream) {
        double sigma = noiseSigma(spacingMm[2]);
        return render(originLps, spacingMm, size, sigma,
                k -> Rng.mix(spec.seed() ^ 0x2545F4914F6CDD1DL, noiseStream * 1_000_003L + k));
    }

    /**
     * {@link #render(double[], double[], int[], long)} without noise: the phantom's content alone, so
     * that tests can compare what two lattices make of the same content (train/serve parity of the
     * organ crops) without the noise of each lattice in the way.
     */
    public PhantomRegion renderWithoutNoise(double[] originLps, double[] spacingMm, int[] size) {
        return render(originLps, spacingMm, size, 0, k -> 0L);
    }

    /** Noise seed of plane k of a region. */
    @FunctionalInterface
    interface PlaneSeed {
        long of(int k);
    }

    PhantomRegion render(double[] originLps, double[] spacingMm, int[] size, double sigma, PlaneSeed seeds) {
        if (originLps.length != 3 || spacingMm.length != 3 || size.length != 3) {
            throw new IllegalArgumentException("origin, spacing and size need 3 values (x, y, z)");
        }
        if (spacingMm[0] != spacingMm[1]) {
            throw new IllegalArgumentException("in-plane spacing must be equal on x and y, was "
                    + spacingMm[0] + " and " + spacingMm[1]);
        }
        for (int a = 0; a < 3; a++) {
            if (size[a] < 1 || size[a] > 2048 || !(spacingMm[a] > 0)) {
                throw new IllegalArgumentException("size must be 1..2048 and spacing > 0 on every axis");
            }
        }
        int nx = size[0], ny = size[1], nz = size[2], plane = nx * ny;
        short[] hu = new short[plane * nz];
        byte[] labels = new byte[plane * nz];
        short[] mask = new short[plane * nz];
        double x0Model = originLps[0] - plan.anatomy.ox;
        double y0Model = originLps[1] - plan.anatomy.oy;
        // Planes write disjoint ranges of the arrays, so the result does not depend on scheduling.
        IntStream.range(0, nz).parallel().forEach(k -> {
            Canvas c = new Canvas(nx, ny, x0Model, y0Model, spacingMm[0], plan.maskPad);
            PhantomGenerator.renderPlane(plan.elements, c, originLps[2] + k * spacingMm[2], spacingMm[2], sigma,
                    seeds.of(k), hu, labels, mask, k * plane);
        });
        return new PhantomRegion(size, originLps, spacingMm, hu, labels, mask);
    }

    /** The planner's state, for the whole-phantom renderer and tests in this package. */
    FindingPlanner.Plan planState() {
        return plan;
    }
}

package org.cttriage.testdata.phantom;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Renders {@link PhantomSpec}s into {@link Phantom}s. Output depends only on the spec: each slice
 * is rendered from the immutable model and its own noise stream seeded from (seed, slice), so the
 * arrays are bit-identical whatever the pool size or scheduling.
 */
public final class PhantomGenerator {
    private static final int MAX_SUBSAMPLES = 16;

    /** Generates using a temporary pool sized to the available processors. */
    public Phantom generate(PhantomSpec spec) {
        int threads = Math.min(Runtime.getRuntime().availableProcessors(), spec.slices());
        if (threads <= 1) {
            return generate(spec, null);
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "phantom-render");
            t.setDaemon(true);
            return t;
        });
        try {
            return generate(spec, pool);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Generates with slices rendered on the given pool (null renders on the calling thread). The
     * pool is not shut down.
     */
    public Phantom generate(PhantomSpec spec, ExecutorService pool) {
        return generate(PhantomScene.plan(spec), pool);
    }

    /**
     * Renders a planned scene whole, as {@link #generate(PhantomSpec, ExecutorService)}: for a caller that also
     * renders regions of the same scene ({@link PhantomScene#render}) and should not plan it twice.
     */
    public Phantom generate(PhantomScene scene, ExecutorService pool) {
        PhantomSpec spec = scene.spec();
        FindingPlanner.Plan plan = scene.planState();
        int nx = spec.columns(), ny = spec.rows(), nz = spec.slices();
        int plane = nx * ny;
        short[] hu = new short[plane * nz];
        byte[] labels = new byte[plane * nz];
        short[] mask = new short[plane * nz];
        if (pool == null) {
            for (int z = 0; z < nz; z++) {
                renderSlice(spec, plan, z, hu, labels, mask);
            }
        } else {
            List<Future<?>> futures = new ArrayList<>(nz);
            for (int z = 0; z < nz; z++) {
                final int zi = z;
                futures.add(pool.submit(() -> renderSlice(spec, plan, zi, hu, labels, mask)));
            }
            try {
                for (Future<?> f : futures) {
                    f.get();
                }
            } catch (InterruptedException e) {
                futures.forEach(f -> f.cancel(true));
                Thread.currentThread().interrupt();
                throw new IllegalStateException("phantom generation interrupted", e);
            } catch (ExecutionException e) {
                futures.forEach(f -> f.cancel(true));
                Throwable c = e.getCause();
                if (c instanceof RuntimeException re) {
                    throw re;
                }
                throw new IllegalStateException("phantom generation failed", c);
            }
        }
        return new Phantom(spec, hu, labels, mask, plan.x0Lps, plan.y0Lps, plan.zTop, plan.truth, plan.anatomy.habitus);
    }

    private static void renderSlice(PhantomSpec spec, FindingPlanner.Plan plan, int zi,
                                    short[] hu, byte[] labels, short[] mask) {
        int nx = spec.columns(), ny = spec.rows();
        double zc = plan.zTop - zi * spec.sliceSpacingMm();
        Canvas c = new Canvas(nx, ny, plan.x0Model, plan.y0Model, spec.pixelSpacingMm(), plan.maskPad);
        renderPlane(plan.elements, c, zc, spec.sliceThicknessMm(), plan.noiseSigma,
                Rng.mix(spec.seed() ^ 0x5DEECE66DL, 100_000L + zi), hu, labels, mask, zi * nx * ny);
    }

    /**
     * Renders one axial plane at height {@code zc} into the canvas's lattice: HU averaged over a slab
     * of {@code thicknessMm} (sub-sampled every ~1 mm) plus blurred noise of {@code sigma} from
     * {@code noiseSeed}; labels and mask at the plane's centre. Writes at {@code off} in the arrays.
     * The one renderer of whole phantoms and of regions ({@link PhantomScene#render}).
     */
    static void renderPlane(List<Element> elements, Canvas c, double zc, double thicknessMm, double sigma,
                            long noiseSeed, short[] hu, byte[] labels, short[] mask, int off) {
        int nx = c.nx, ny = c.ny, plane = nx * ny;
        int n = subsamples(thicknessMm);
        float[] acc = new float[plane];
        boolean haveCentre = false;
        for (int s = 0; s < n; s++) {
            double z = n == 1 ? zc : zc + thicknessMm * ((s + 0.5) / n - 0.5);
            render(elements, c, z);
            for (int i = 0; i < plane; i++) {
                acc[i] += c.hu[i];
            }
            if (n % 2 == 1 && s == n / 2) {
                System.arraycopy(c.lab, 0, labels, off, plane);
                System.arraycopy(c.mask, 0, mask, off, plane);
                haveCentre = true;
            }
        }
        if (!haveCentre) {
            // Labels and masks describe the voxel centre, which an even sub-sample count misses.
            render(elements, c, zc);
            System.arraycopy(c.lab, 0, labels, off, plane);
            System.arraycopy(c.mask, 0, mask, off, plane);
        }
        float inv = 1f / n;
        for (int i = 0; i < plane; i++) {
            acc[i] *= inv;
        }
        if (sigma > 0) {
            addNoise(acc, nx, ny, sigma, noiseSeed);
        }
        for (int i = 0; i < plane; i++) {
            float v = acc[i];
            v = v < -1024 ? -1024 : (v > 3071 ? 3071 : v);
            hu[off + i] = (short) Math.round(v);
        }
    }

    static int subsamples(double thicknessMm) {
        return (int) Math.max(1, Math.min(MAX_SUBSAMPLES, Math.round(thicknessMm / 1.0)));
    }

    static void render(List<Element> elements, Canvas c, double z) {
        c.reset();
        for (Element e : elements) {
            if (z >= e.zMin && z <= e.zMax) {
                e.paint(c, z);
            }
        }
    }

    /**
     * White Gaussian noise blurred with a separable [1 2 1]/4 kernel, which gives the fine-grained
     * correlated texture of filtered back-projection; the gain restores the requested sigma.
     */
    private static void addNoise(float[] img, int nx, int ny, double sigma, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = nx * ny;
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) r.nextGaussian();
        }
        float[] t = new float[n];
        for (int y = 0; y < ny; y++) {
            int row = y * nx;
            for (int x = 0; x < nx; x++) {
                float l = w[row + Math.max(0, x - 1)], m = w[row + x], rr = w[row + Math.min(nx - 1, x + 1)];
                t[row + x] = 0.25f * l + 0.5f * m + 0.25f * rr;
            }
        }
        float gain = (float) (sigma / 0.375);
        for (int y = 0; y < ny; y++) {
            int up = Math.max(0, y - 1) * nx, mid = y * nx, dn = Math.min(ny - 1, y + 1) * nx;
            for (int x = 0; x < nx; x++) {
                img[mid + x] += gain * (0.25f * t[up + x] + 0.5f * t[mid + x] + 0.25f * t[dn + x]);
            }
        }
    }
}

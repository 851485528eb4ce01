package org.cttriage.core.inference;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.volume.Volume;

/**
 * Multi-scale Hessian dot filters (issue 12, run P: the lung nodules), manifest {@code organCrops.dotFilters}:
 * a classical detector of compact bright blobs (Li, Sone and Doi 2003), run on a finer crop of the organ than
 * its encoder's. The learned scorers could not see nodules: at the 3 mm lung crop a nodule of 3 to 6 mm is a
 * vessel's cross-section (ctglip-ref's card, run O). A vessel is a tube, a nodule is round, and the Hessian's
 * eigenvalues tell them apart at any resolution that resolves them.
 *
 * <pre>
 * "dotFilters": {
 *   "lung": {
 *     "findings": ["pulmonary_nodule"],
 *     "gridSize": [112, 128, 192], "spacingMm": [1.5, 1.5, 1.5],   the filter's own crop of the organ's box
 *     "sigmasMm": [1.5, 2.5, 4.0, 6.0],                           the scales (ctglip-ref-v2: 1.5 and 2.5 only)
 *     "clipHu": [-1000, -400],                                    the filter's input is the HU clipped to this
 *     "floorHu": -750,                                            no voxel below it is a candidate
 *     "regionDilateVoxels": 2,                                    the organ mask dilated (6-connected)
 *     "referenceDot": 60,                                         the dot value scored as probability 0.5
 *     "secondLook": {                                             optional: a CNN on the candidates (run Q)
 *       "file": "nodule_second_look.onnx", "inputs": [...], "outputs": [...],   patch [n, 1, P, P, P] -> logit [n]
 *       "candidates": 32,            the K largest local maxima of the dot map over the region
 *       "peakWindowVoxels": 5,       a local maximum is the largest value of the cube of this side around it
 *       "patchVoxels": 16,           P: the patch of the filter's crop around a candidate (voxel P / 2 on it)
 *       "clipHu": [-1000, 200],      the patch's HU clipped to this and mapped onto [-1, 1]
 *       "patchSpacingMm": 1.5,       optional: cut the patches from the volume at this spacing, finer than the
 *                                    filter's crop by a whole factor m (the filter proposes on a coarse crop)
 *       "refineVoxels": 2,           with it: how far (fine voxels) a candidate may move onto its blob
 *       "refineSigmasMm": [1.5, 2.5] with it, optional: the fine dot filter's scales that say where its blob is
 *     }
 *   }
 * }
 * </pre>
 *
 * <p>Per scale σ (in voxels of the crop, s = σ / spacing): the clipped footprint-mean HU is smoothed by a
 * Gaussian of s (truncated at 4 s, mirrored at the crop's faces, as scipy.ndimage.gaussian_filter), its Hessian
 * taken by central differences (mirrored faces) and scaled by s². With its eigenvalues λ1 ≤ λ2 ≤ λ3, the dot
 * value is λ3² / |λ1| where all three are negative (a bright blob), else 0. A voxel's value is the largest over
 * the scales; the finding's score on the crop is the largest value over the organ mask (fraction at least 0.5)
 * dilated by {@code regionDilateVoxels} where the HU exceeds {@code floorHu}, its point that voxel. The score is
 * reported as the probability d / (d + referenceDot), so that its logit is ln(d / referenceDot), which the
 * package's calibration maps like a lesion detector's. The reference implementation is
 * {@code models/ctglip-ref/experiments/dot_filter.py}; {@code DotFiltersTest} holds the two to the same values.
 *
 * <p>With a second look, the dot value only proposes: the candidates are the region's voxels whose value is above 0
 * and the largest of the {@code peakWindowVoxels} cube around them (faces clamped), the {@code candidates} largest
 * (ties: the lower index first). Each one's patch (indices clamped to the crop) goes through the second look's
 * network, and the finding's score is the largest logit as its probability, its point that candidate's voxel; no
 * candidate scores 0 without a point. The filter tells a blob from a tube; the network learned from the phantoms
 * which blobs are nodules and which are vessels' crossings and branchings (models/ctglip-ref/experiments/
 * second_look.py, its reference and trainer).
 *
 * <p>With {@code patchSpacingMm} the filter may run on a coarser crop than the network's patches (the lung's 3 mm
 * crop, which its encoder has already made: {@code CropStage} shares it when the grids are the same), and each
 * candidate's patch is cut from the volume on the fine crop's lattice, on its blob ({@link #finePatches}): the fine
 * filter's cost (two 1.5 mm crops, their masks and smoothing) is what the 3 mm proposal saves, about a third of a
 * study's time on two cores. The shipped package does not use it: its second look, trained on the 1.5 mm filter's
 * candidates, ranks nodules worse on the 3 mm filter's, and so does one trained on the 3 mm filter's own (run T),
 * because the 3 mm filter does not propose some 5 mm nodules at all (docs/benchmarks.md, 2026-12-07).
 */
public final class DotFilters {
    /** Gaussian truncation, in standard deviations (scipy's default). */
    static final double TRUNCATE = 4.0;

    /** The second look's input and output names. */
    static final String PATCH = "patch";
    static final String LOGIT = "logit";

    /** One organ's filter: its findings, its crop grid, its parameters and its second look (null: none). */
    record Filter(String organ, List<String> findings, OrganCropSpec.OrganGrid grid, double[] sigmasMm,
                  double clipLowHu, double clipHighHu, double floorHu, int dilate, double referenceDot,
                  SecondLook secondLook) {
    }

    /**
     * A network that scores the patches around the filter's candidates (manifest {@code secondLook}).
     * {@code patchSpacingMm} 0: the patches are cut from the filter's crop; above 0: each is cut from the volume at
     * that spacing around its candidate, moved within {@code refineVoxels} onto its blob ({@link #finePatches}; the
     * fine dot filter's scales {@code refineSigmasMm}, none: the brightest voxel).
     */
    record SecondLook(OrtSession session, int candidates, int peakWindow, int patch, double clipLowHu,
                      double clipHighHu, double patchSpacingMm, int refineVoxels, double[] refineSigmasMm) {
    }

    private final Map<String, Filter> filters;
    private final Set<String> findings;

    private DotFilters(Map<String, Filter> filters) {
        this.filters = filters;
        Set<String> all = new TreeSet<>();
        filters.values().forEach(f -> all.addAll(f.findings()));
        this.findings = java.util.Collections.unmodifiableSet(all);
    }

    /**
     * Reads {@code organCrops.dotFilters} and checks it: each organ must have a crop encoder and a grid in the crop
     * spec (whose label, sides and margin the filter's crop keeps), each finding must be a crop finding of that
     * organ, and the parameters must make sense; a second look's ONNX signature must be the manifest's and take
     * its patches. Null when the node is missing.
     */
    static DotFilters open(JsonNode node, OrganCropSpec spec, Set<String> encoderOrgans,
                           Map<String, Integer> findingChannels, Map<String, String> organOfFinding,
                           CropStage.Opener opener) throws TriageException, OrtException {
        if (node.isMissingNode()) {
            return null;
        }
        Map<String, Filter> out = new LinkedHashMap<>();
        List<OrtSession> sessions = new ArrayList<>();
        try {
            read(node, spec, encoderOrgans, findingChannels, organOfFinding, opener, out, sessions);
        } catch (TriageException | OrtException | RuntimeException e) {
            sessions.forEach(InferenceEngine::closeQuietly);
            throw e;
        }
        return new DotFilters(out);
    }

    private static void read(JsonNode node, OrganCropSpec spec, Set<String> encoderOrgans,
                             Map<String, Integer> findingChannels, Map<String, String> organOfFinding,
                             CropStage.Opener opener, Map<String, Filter> out, List<OrtSession> sessions)
            throws TriageException, OrtException {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String organ = e.getKey();
            JsonNode d = e.getValue();
            if (!encoderOrgans.contains(organ)) {
                throw invalid(organ + " has a dot filter but no crop encoder: the filter runs on stage 2's organ boxes");
            }
            List<String> findings = LesionDetectors.organFindings(d.path("findings"), organ, organ + "'s dot filter",
                    findingChannels, organOfFinding, DotFilters::invalid);
            double[] sigmas = doubles(d.path("sigmasMm"));
            double[] clip = doubles(d.path("clipHu"));
            int dilate = d.path("regionDilateVoxels").asInt(-1);
            double floor = d.path("floorHu").asDouble(Double.NaN);
            double reference = d.path("referenceDot").asDouble(Double.NaN);
            if (findings.isEmpty() || sigmas.length == 0 || java.util.Arrays.stream(sigmas).anyMatch(s -> !(s > 0))
                    || clip.length != 2 || !(clip[0] < clip[1]) || dilate < 0 || Double.isNaN(floor)
                    || !(reference > 0)) {
                throw invalid(organ + "'s dot filter needs findings, sigmasMm above 0, clipHu [low, high], floorHu, "
                        + "regionDilateVoxels >= 0 and referenceDot above 0");
            }
            OrganCropSpec.OrganGrid grid;
            try {
                OrganCropSpec.OrganGrid stage = spec.organ(organ);
                double[] spacing = doubles(d.path("spacingMm"));
                if (spacing.length != 3 || spacing[0] != spacing[1] || spacing[1] != spacing[2]) {
                    throw new IllegalArgumentException("spacingMm must be isotropic (the scales are in voxels of it)");
                }
                grid = new OrganCropSpec.OrganGrid(organ, stage.label(), stage.bySide(), ints(d.path("gridSize")), spacing,
                        stage.marginMm());
            } catch (IllegalArgumentException x) {
                throw invalid(organ + "'s dot filter: " + x.getMessage());
            }
            SecondLook look = d.has("secondLook") ? secondLook(organ, d.path("secondLook"), opener, sessions) : null;
            if (look != null && look.patchSpacingMm() > 0) {
                double m = grid.spacingMm()[0] / look.patchSpacingMm();
                if (Math.abs(m - Math.round(m)) > 1e-9 || Math.round(m) < 1) {
                    throw invalid(organ + "'s second look: patchSpacingMm " + look.patchSpacingMm()
                            + " must divide the filter's spacing " + grid.spacingMm()[0] + " a whole number of times");
                }
            }
            out.put(organ, new Filter(organ, List.copyOf(findings), grid, sigmas, clip[0], clip[1], floor, dilate,
                    reference, look));
        }
    }

    private static SecondLook secondLook(String organ, JsonNode n, CropStage.Opener opener, List<OrtSession> sessions)
            throws TriageException, OrtException {
        int k = n.path("candidates").asInt(0);
        int window = n.path("peakWindowVoxels").asInt(0);
        int p = n.path("patchVoxels").asInt(0);
        double[] clip = doubles(n.path("clipHu"));
        if (k < 1 || window < 1 || window % 2 != 1 || p < 2 || p % 2 != 0 || clip.length != 2 || !(clip[0] < clip[1])) {
            throw invalid(organ + "'s second look needs candidates >= 1, an odd peakWindowVoxels, an even "
                    + "patchVoxels and clipHu [low, high]");
        }
        double patchSpacing = n.path("patchSpacingMm").asDouble(0);
        int refine = n.path("refineVoxels").asInt(0);
        double[] refineSigmas = doubles(n.path("refineSigmasMm"));
        if (n.has("patchSpacingMm") && !(patchSpacing > 0) || refine < 0
                || (refine > 0 || refineSigmas.length > 0) && !(patchSpacing > 0)
                || java.util.Arrays.stream(refineSigmas).anyMatch(x -> !(x > 0))) {
            throw invalid(organ + "'s second look: patchSpacingMm must be above 0, and refineVoxels (>= 0) and "
                    + "refineSigmasMm (above 0) need it");
        }
        OrtSession s = opener.open(n.path("file").asText());
        sessions.add(s);
        InferenceEngine.checkSignature(s, n, organ + "'s second look");
        long[] in = ((ai.onnxruntime.TensorInfo) s.getInputInfo().get(PATCH).getInfo()).getShape();
        long[] outShape = ((ai.onnxruntime.TensorInfo) s.getOutputInfo().get(LOGIT).getInfo()).getShape();
        if (in.length != 5 || in[1] != 1 || in[2] != p || in[3] != p || in[4] != p || outShape.length != 1) {
            throw new TriageException(ErrorCode.MODEL_SIGNATURE_MISMATCH, organ + "'s second look takes "
                    + java.util.Arrays.toString(in) + " and gives " + java.util.Arrays.toString(outShape)
                    + "; the manifest gives patches of " + p + " voxels, one logit each");
        }
        return new SecondLook(s, k, window, p, clip[0], clip[1], patchSpacing, refine, refineSigmas);
    }

    /** Closes the second looks' sessions. */
    void close() {
        filters.values().stream().filter(f -> f.secondLook() != null)
                .forEach(f -> InferenceEngine.closeQuietly(f.secondLook().session()));
    }

    private static TriageException invalid(String why) {
        return new TriageException(ErrorCode.MODEL_PACKAGE_INVALID, "organCrops.dotFilters: " + why);
    }

    private static double[] doubles(JsonNode a) {
        double[] out = new double[a.isArray() ? a.size() : 0];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asDouble(Double.NaN);
        }
        return out;
    }

    private static int[] ints(JsonNode a) {
        if (!a.isArray() || a.size() != 3) {
            throw new IllegalArgumentException("gridSize needs 3 values (x, y, z)");
        }
        return new int[] {a.get(0).asInt(), a.get(1).asInt(), a.get(2).asInt()};
    }

    /** The findings any filter scores. */
    Set<String> findings() {
        return findings;
    }

    /** The filter of {@code organ}, or null. */
    Filter filter(String organ) {
        return filters.get(organ);
    }

    /** The study's volume and the crop stage's footprint sampling, from which a second look cuts finer patches. */
    record Fine(OrganCrops crops, Volume volume) {
    }

    /**
     * Scores the filter's findings on one crop of its grid: the crop's footprint-mean HU and organ mask fraction,
     * [z, y, x] of {@code grid}'s size. {@code env} runs the second look (unused without one); {@code fine} gives a
     * second look with {@code patchSpacingMm} its patches (unused otherwise, may be null then).
     */
    static Map<String, LesionDetectors.Lesion> detect(OrtEnvironment env, Filter f, float[] meanHu, float[] mask,
                                                     OrganCrops.CropGrid grid, Fine fine) throws OrtException {
        int[] size = f.grid().gridSize();
        int[] cells = cells(region(meanHu, mask, size, f.dilate(), f.floorHu()));
        float[] best = dot(meanHu, cells, size, f);
        double probability;
        double[] point = null;
        if (f.secondLook() == null) {
            int at = -1;
            for (int v : cells) {
                if (at < 0 || best[v] > best[at]) {
                    at = v;
                }
            }
            double d = at < 0 ? 0 : best[at];
            probability = d / (d + f.referenceDot());
            point = at < 0 ? null : positionOf(grid, size, at);
        } else {
            SecondLook look = f.secondLook();
            int[] peaks = peaks(best, cells, size, look.peakWindow(), look.candidates());
            float[] x;
            double[][] points = new double[peaks.length][];
            if (look.patchSpacingMm() > 0) {
                x = finePatches(f, fine, grid, size, peaks, points);
            } else {
                x = patches(meanHu, size, peaks, look.patch(), look.clipLowHu(), look.clipHighHu());
                for (int i = 0; i < peaks.length; i++) {
                    points[i] = positionOf(grid, size, peaks[i]);
                }
            }
            float[] logits = peaks.length == 0 ? new float[0] : logits(env, look, x, peaks.length);
            int at = -1;
            for (int i = 0; i < logits.length; i++) {
                if (at < 0 || logits[i] > logits[at]) {
                    at = i;
                }
            }
            probability = at < 0 ? 0 : 1 / (1 + Math.exp(-logits[at]));
            point = at < 0 ? null : points[at];
        }
        Map<String, LesionDetectors.Lesion> out = new LinkedHashMap<>();
        for (String id : f.findings()) {
            out.put(id, new LesionDetectors.Lesion(probability, point));
        }
        return out;
    }

    private static double[] positionOf(OrganCrops.CropGrid grid, int[] size, int v) {
        return grid.positionOf(v % size[0], (v / size[0]) % size[1], v / (size[0] * size[1]));
    }

    /**
     * The second look's patches cut from the volume at its {@code patchSpacingMm} when the filter proposes on a crop
     * m times coarser (m a whole number): the fine lattice divides each voxel of the filter's crop into m³, the lattice
     * of a crop of the same box, centre and extent at the fine spacing (the crop the network was trained on), so that
     * a patch holds the very footprint means that crop would. A candidate (voxel i of the coarse crop, per axis) is
     * moved to a fine voxel of m i - r .. m i + m - 1 + r (r {@code refineVoxels}), where the network learned to look:
     * with {@code refineSigmasMm}, the largest dot value of the fine lattice at those scales (the filter's own, on the
     * HU clipped as the filter's: the values the fine crop's filter would give there, the cube holding every voxel its
     * smoothing reads); where none is above 0, or without them, the largest HU clipped as the patch's and smoothed by a
     * Gaussian of one fine voxel (the first in z, y, x order). The patch is the p³ fine voxels around it (voxel p / 2
     * on it). {@code points} gets each moved candidate's position. [n, z, y, x] flattened, the HU clipped and mapped
     * onto [-1, 1] as {@link #patches}'s.
     */
    static float[] finePatches(Filter f, Fine fine, OrganCrops.CropGrid grid, int[] size, int[] peaks,
                               double[][] points) {
        SecondLook look = f.secondLook();
        OrganCropSpec.OrganGrid filterGrid = f.grid();
        int p = look.patch();
        int r = look.refineVoxels();
        double sf = look.patchSpacingMm();
        double sc = filterGrid.spacingMm()[0];
        int m = (int) Math.round(sc / sf);
        int reach = 0; // how far the refinement's smoothing and Hessian read beyond a voxel
        for (double sigma : look.refineSigmasMm()) {
            reach = Math.max(reach, (kernel(sigma / sf).length - 1) / 2 + 1);
        }
        int margin = Math.max(p / 2, reach);
        int side = m + 2 * r + 2 * margin;
        int[] cube = {side, side, side};
        OrganCropSpec.OrganGrid patchGrid = new OrganCropSpec.OrganGrid(filterGrid.name(), filterGrid.label(),
                filterGrid.bySide(), cube, new double[] {sf, sf, sf}, 0);
        double[] coarseOrigin = grid.originLps(); // crop grids are LPS-aligned: voxel i at origin + i * spacing
        int lo = margin;
        int hi = margin + m - 1 + 2 * r;
        // the window is all that is compared, the Hessian reads one voxel around it: only that box is smoothed
        int[] window = {lo, lo, lo};
        int[] windowEnd = {hi, hi, hi};
        int[] read = {lo - 1, lo - 1, lo - 1};
        int[] readEnd = {hi + 1, hi + 1, hi + 1};
        int n = p * p * p;
        float[] out = new float[peaks.length * n];
        IntStream.range(0, peaks.length).parallel().forEach(i -> {
            int[] at = {peaks[i] % size[0], (peaks[i] / size[0]) % size[1], peaks[i] / (size[0] * size[1])};
            double[] origin = new double[3]; // the cube's voxel 0: fine voxel m i - r - margin of the lattice, whose
            for (int a = 0; a < 3; a++) {    // voxel 0 lies (sf - sc) / 2 before the coarse crop's
                origin[a] = coarseOrigin[a] + (sf - sc) / 2 + (m * at[a] - r - margin) * sf;
            }
            OrganCrops.CropGrid g = new OrganCrops.CropGrid(patchGrid, origin, true);
            float[] hu = fine.crops().meanHu(fine.volume(), g);
            float[] dots = new float[hu.length];
            if (look.refineSigmasMm().length > 0) {
                float[] h = clip(hu, f.clipLowHu(), f.clipHighHu());
                for (double sigma : look.refineSigmasMm()) {
                    double s = sigma / sf;
                    float[] smoothed = smooth(h, cube, s, read, readEnd, null);
                    forEachIn(lo, hi, side, v -> dots[v] = Math.max(dots[v], (float) dotAt(smoothed, cube, v, s * s)));
                }
            }
            int best = largest(dots, lo, hi, side);
            if (!(dots[best] > 0)) {
                float[] bright = smooth(clip(hu, look.clipLowHu(), look.clipHighHu()), cube, 1.0, window, windowEnd, null);
                best = largest(bright, lo, hi, side);
            }
            points[i] = positionOf(g, cube, best);
            float[] one = patches(hu, cube, new int[] {best}, p, look.clipLowHu(), look.clipHighHu());
            System.arraycopy(one, 0, out, i * n, n);
        });
        return out;
    }

    /** {@code hu} clipped to [lo, hi]. */
    private static float[] clip(float[] hu, double lo, double hi) {
        float[] out = new float[hu.length];
        for (int v = 0; v < out.length; v++) {
            out[v] = (float) Math.max(lo, Math.min(hi, hu[v]));
        }
        return out;
    }

    private static void forEachIn(int lo, int hi, int side, java.util.function.IntConsumer action) {
        for (int z = lo; z <= hi; z++) {
            for (int y = lo; y <= hi; y++) {
                for (int x = lo; x <= hi; x++) {
                    action.accept((z * side + y) * side + x);
                }
            }
        }
    }

    /** The voxel of the cube lo..hi (per axis) of {@code values} with the largest value, the first in z, y, x order. */
    private static int largest(float[] values, int lo, int hi, int side) {
        int[] best = {-1};
        forEachIn(lo, hi, side, v -> {
            if (best[0] < 0 || values[v] > values[best[0]]) {
                best[0] = v;
            }
        });
        return best[0];
    }

    /** The second look's logit of each candidate's patch. */
    private static float[] logits(OrtEnvironment env, SecondLook look, float[] x, int count) throws OrtException {
        int p = look.patch();
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {count, 1, p, p, p});
             OrtSession.Result r = look.session().run(Map.of(PATCH, t))) {
            FloatBuffer b = ((OnnxTensor) r.get(LOGIT).orElseThrow()).getFloatBuffer();
            float[] out = new float[b.remaining()];
            b.get(out);
            if (out.length != count) {
                throw new IllegalStateException("the second look gave " + out.length + " logits for " + count
                        + " patches");
            }
            return out;
        }
    }

    /**
     * The candidates: voxels of {@code cells} (the region's indices, ascending) whose value is above 0 and the largest
     * of the cube of side {@code window} around them (clamped to the crop), the {@code k} largest by value (ties: lower
     * index first). Only the region's voxels are visited: the lungs are about a third of their crops.
     */
    static int[] peaks(float[] best, int[] cells, int[] size, int window, int k) {
        int nx = size[0];
        int ny = size[1];
        int r = window / 2;
        List<Integer> found = new ArrayList<>();
        for (int v : cells) {
            float c = best[v];
            if (c > 0 && largestAround(best, size, v % nx, (v / nx) % ny, v / (nx * ny), r, c)) {
                found.add(v);
            }
        }
        found.sort((a, b) -> best[a] != best[b] ? Float.compare(best[b], best[a]) : Integer.compare(a, b));
        return found.stream().limit(k).mapToInt(Integer::intValue).toArray();
    }

    private static boolean largestAround(float[] best, int[] size, int x, int y, int z, int r, float c) {
        int nx = size[0];
        int ny = size[1];
        for (int c2 = Math.max(0, z - r); c2 <= Math.min(size[2] - 1, z + r); c2++) {
            for (int b = Math.max(0, y - r); b <= Math.min(ny - 1, y + r); b++) {
                int row = (c2 * ny + b) * nx;
                for (int a = Math.max(0, x - r); a <= Math.min(nx - 1, x + r); a++) {
                    if (best[row + a] > c) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /**
     * The patches of {@code p}³ voxels of {@code hu} ([z, y, x] of {@code size}) around each of {@code centres}
     * (voxel p / 2 of the patch on it, indices clamped to the crop), [n, z, y, x] flattened, the HU clipped to
     * [lo, hi] and mapped onto [-1, 1].
     */
    static float[] patches(float[] hu, int[] size, int[] centres, int p, double lo, double hi) {
        int nx = size[0];
        int ny = size[1];
        int nz = size[2];
        double mid = (lo + hi) / 2;
        double half = (hi - lo) / 2;
        float[] out = new float[centres.length * p * p * p];
        int o = 0;
        for (int v : centres) {
            int x = v % nx;
            int y = (v / nx) % ny;
            int z = v / (nx * ny);
            for (int c = 0; c < p; c++) {
                int zz = Math.max(0, Math.min(nz - 1, z - p / 2 + c));
                for (int b = 0; b < p; b++) {
                    int yy = Math.max(0, Math.min(ny - 1, y - p / 2 + b));
                    for (int a = 0; a < p; a++, o++) {
                        int xx = Math.max(0, Math.min(nx - 1, x - p / 2 + a));
                        double h = Math.max(lo, Math.min(hi, hu[(zz * ny + yy) * nx + xx]));
                        out[o] = (float) ((h - mid) / half);
                    }
                }
            }
        }
        return out;
    }

    /** The candidate voxels: the mask (fraction at least 0.5) dilated by {@code dilate} 6-connected steps, above the floor. */
    static boolean[] region(float[] hu, float[] mask, int[] size, int dilate, double floorHu) {
        int n = hu.length;
        int nx = size[0];
        int ny = size[1];
        int nz = size[2];
        int plane = nx * ny;
        boolean[] cur = new boolean[n];
        for (int v = 0; v < n; v++) {
            cur[v] = mask[v] >= 0.5f;
        }
        for (int step = 0; step < dilate; step++) {
            boolean[] was = cur;
            boolean[] next = cur.clone();
            IntStream.range(0, nz).parallel().forEach(z -> {
                for (int y = 0; y < ny; y++) {
                    int row = (z * ny + y) * nx;
                    for (int x = 0; x < nx; x++) {
                        int v = row + x;
                        if (!was[v]) {
                            next[v] = (x > 0 && was[v - 1]) || (x < nx - 1 && was[v + 1])
                                    || (y > 0 && was[v - nx]) || (y < ny - 1 && was[v + nx])
                                    || (z > 0 && was[v - plane]) || (z < nz - 1 && was[v + plane]);
                        }
                    }
                }
            });
            cur = next;
        }
        for (int v = 0; v < n; v++) {
            cur[v] &= hu[v] > floorHu;
        }
        return cur;
    }

    /** The indices of {@code region}'s voxels, ascending. */
    static int[] cells(boolean[] region) {
        return IntStream.range(0, region.length).filter(v -> region[v]).toArray();
    }

    /**
     * The dot value of every voxel of {@code cells} (0 elsewhere), the largest over the filter's scales. The Hessian
     * reads the smoothed crop only within one voxel of the cells, so each scale smooths only their box (and what its
     * passes read), its last pass only those voxels ({@link #smooth(float[], int[], double, int[], int[], boolean[])}):
     * the same values there. A lung's cells (its voxels above the floor: vessels, walls, nodules) are about a tenth of
     * its crop, their box nearly all of it.
     */
    static float[] dot(float[] meanHu, int[] cells, int[] size, Filter f) {
        int n = meanHu.length;
        float[] best = new float[n];
        if (cells.length == 0) {
            return best;
        }
        float[] h = clip(meanHu, f.clipLowHu(), f.clipHighHu());
        int[] lo = {size[0], size[1], size[2]};
        int[] hi = {-1, -1, -1};
        int nx = size[0];
        int ny = size[1];
        for (int v : cells) {
            int[] at = {v % nx, (v / nx) % ny, v / (nx * ny)};
            for (int a = 0; a < 3; a++) {
                lo[a] = Math.min(lo[a], Math.max(0, at[a] - 1));
                hi[a] = Math.max(hi[a], Math.min(size[a] - 1, at[a] + 1));
            }
        }
        boolean[] read = stencil(cells, size);
        double spacing = f.grid().spacingMm()[0];
        for (double sigmaMm : f.sigmasMm()) {
            double s = sigmaMm / spacing;
            float[] g = smooth(h, size, s, lo, hi, read);
            double s2 = s * s;
            IntStream.range(0, cells.length).parallel().forEach(i -> {
                int v = cells[i];
                float d = (float) dotAt(g, size, v, s2);
                if (d > best[v]) {
                    best[v] = d;
                }
            });
        }
        return best;
    }

    /** The voxels within one step (the 3 x 3 x 3 cube, clamped to the crop) of {@code cells}: what the Hessian reads. */
    static boolean[] stencil(int[] cells, int[] size) {
        int nx = size[0];
        int ny = size[1];
        boolean[] out = new boolean[nx * ny * size[2]];
        for (int v : cells) {
            int x = v % nx;
            int y = (v / nx) % ny;
            int z = v / (nx * ny);
            for (int c = Math.max(0, z - 1); c <= Math.min(size[2] - 1, z + 1); c++) {
                for (int b = Math.max(0, y - 1); b <= Math.min(ny - 1, y + 1); b++) {
                    int row = (c * ny + b) * nx;
                    for (int a = Math.max(0, x - 1); a <= Math.min(nx - 1, x + 1); a++) {
                        out[row + a] = true;
                    }
                }
            }
        }
        return out;
    }

    /** The dot value at voxel {@code v} of the smoothed crop {@code g}, its Hessian scaled by {@code s2}. */
    static double dotAt(float[] g, int[] size, int v, double s2) {
        int nx = size[0];
        int plane = nx * size[1];
        int x = v % nx;
        int y = (v / nx) % size[1];
        int z = v / plane;
        // mirrored neighbours along each axis, as offsets from v
        int xm = mirror(x - 1, nx) - x;
        int xp = mirror(x + 1, nx) - x;
        int ym = (mirror(y - 1, size[1]) - y) * nx;
        int yp = (mirror(y + 1, size[1]) - y) * nx;
        int zm = (mirror(z - 1, size[2]) - z) * plane;
        int zp = (mirror(z + 1, size[2]) - z) * plane;
        double c = 2.0 * g[v];
        double xx = (g[v + xp] - c + g[v + xm]) * s2;
        double yy = (g[v + yp] - c + g[v + ym]) * s2;
        double zz = (g[v + zp] - c + g[v + zm]) * s2;
        double xy = (g[v + xp + yp] - g[v + xp + ym] - g[v + xm + yp] + g[v + xm + ym]) / 4 * s2;
        double xz = (g[v + xp + zp] - g[v + xp + zm] - g[v + xm + zp] + g[v + xm + zm]) / 4 * s2;
        double yz = (g[v + yp + zp] - g[v + yp + zm] - g[v + ym + zp] + g[v + ym + zm]) / 4 * s2;
        // a bright blob has all three eigenvalues negative: the Hessian is negative definite (Sylvester: its leading
        // minors alternate in sign), which rejects most voxels (tubes, sheets, background) before the eigenvalues
        double minor2 = xx * yy - xy * xy;
        double det = xx * (yy * zz - yz * yz) - xy * (xy * zz - yz * xz) + xz * (xy * yz - yy * xz);
        if (!(xx < 0 && minor2 > 0 && det < 0)) {
            return 0;
        }
        double[] l = eigenvalues(xx, yy, zz, xy, xz, yz);
        // l[0] <= l[1] <= l[2]
        return l[2] < 0 ? l[2] * l[2] / Math.max(-l[0], 1e-12) : 0;
    }

    /**
     * Eigenvalues of the symmetric matrix [[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]], ascending (the
     * trigonometric solution of the characteristic cubic).
     */
    static double[] eigenvalues(double xx, double yy, double zz, double xy, double xz, double yz) {
        double p1 = xy * xy + xz * xz + yz * yz;
        if (p1 == 0) {
            double[] l = {xx, yy, zz};
            java.util.Arrays.sort(l);
            return l;
        }
        double q = (xx + yy + zz) / 3;
        double p2 = (xx - q) * (xx - q) + (yy - q) * (yy - q) + (zz - q) * (zz - q) + 2 * p1;
        double p = Math.sqrt(p2 / 6);
        double a = (xx - q) / p;
        double b = (yy - q) / p;
        double c = (zz - q) / p;
        double d = xy / p;
        double e = xz / p;
        double f = yz / p;
        double det = a * (b * c - f * f) - d * (d * c - f * e) + e * (d * f - b * e);
        double r = Math.max(-1, Math.min(1, det / 2));
        double phi = Math.acos(r) / 3;
        double largest = q + 2 * p * Math.cos(phi);
        double smallest = q + 2 * p * Math.cos(phi + 2 * Math.PI / 3);
        return new double[] {smallest, 3 * q - largest - smallest, largest};
    }

    /** Index {@code i} mirrored into 0..n-1 (scipy's "reflect": d c b a | a b c d | d c b a). */
    static int mirror(int i, int n) {
        if (i >= 0 && i < n) {
            return i; // nearly every call (the passes' rows, the Hessian's neighbours): no division
        }
        int period = 2 * n;
        int k = Math.floorMod(i, period);
        return k < n ? k : period - 1 - k;
    }

    /** The Gaussian kernel of standard deviation {@code s} voxels, radius round(4 s), normalised. */
    static double[] kernel(double s) {
        int r = (int) (TRUNCATE * s + 0.5);
        double[] k = new double[2 * r + 1];
        double sum = 0;
        for (int i = -r; i <= r; i++) {
            k[i + r] = Math.exp(-0.5 * i * i / (s * s));
            sum += k[i + r];
        }
        for (int i = 0; i < k.length; i++) {
            k[i] /= sum;
        }
        return k;
    }

    /** {@code h} ([z, y, x] of {@code size}) smoothed by a Gaussian of {@code s} voxels along each axis. */
    static float[] smooth(float[] h, int[] size, double s) {
        return smooth(h, size, s, new int[] {0, 0, 0}, new int[] {size[0] - 1, size[1] - 1, size[2] - 1}, null);
    }

    /**
     * {@link #smooth(float[], int[], double)} within the box [lo, hi] (inclusive voxel indices), and there only where
     * {@code wanted} is true (null: the whole box); 0 elsewhere. The passes run x, y, z: the z pass fills the wanted
     * voxels of the box, reading the y pass's output over the box widened by the kernel's radius along z, which reads
     * the x pass's over that widened by the radius along y (a mirrored index stays inside the widened box). Each value
     * is the full smoothing's: the same terms, added in the same order.
     */
    static float[] smooth(float[] h, int[] size, double s, int[] lo, int[] hi, boolean[] wanted) {
        double[] k = kernel(s);
        int r = k.length / 2;
        int[] zLo = lo.clone();
        int[] zHi = hi.clone();
        int[] yLo = zLo.clone();
        int[] yHi = zHi.clone();
        yLo[2] = Math.max(0, lo[2] - r);
        yHi[2] = Math.min(size[2] - 1, hi[2] + r);
        int[] xLo = yLo.clone();
        int[] xHi = yHi.clone();
        xLo[1] = Math.max(0, lo[1] - r);
        xHi[1] = Math.min(size[1] - 1, hi[1] + r);
        float[] cur = along(h, size, 0, k, xLo, xHi);
        cur = along(cur, size, 1, k, yLo, yHi);
        return wanted == null ? along(cur, size, 2, k, zLo, zHi) : alongZ(cur, size, k, zLo, zHi, wanted);
    }

    /** The z pass over the runs of {@code wanted} voxels along the rows of the box: each voxel as {@link #along}'s. */
    private static float[] alongZ(float[] in, int[] size, double[] k, int[] lo, int[] hi, boolean[] wanted) {
        int nx = size[0];
        int nz = size[2];
        int plane = nx * size[1];
        int r = k.length / 2;
        float[] out = new float[in.length];
        IntStream.rangeClosed(lo[2], hi[2]).parallel().forEach(z -> {
            double[] acc = new double[hi[0] - lo[0] + 1];
            for (int y = lo[1]; y <= hi[1]; y++) {
                int row = z * plane + y * nx;
                int x = lo[0];
                while (x <= hi[0]) {
                    if (!wanted[row + x]) {
                        x++;
                        continue;
                    }
                    int start = x;
                    while (x <= hi[0] && wanted[row + x]) {
                        x++;
                    }
                    int length = x - start;
                    java.util.Arrays.fill(acc, 0, length, 0);
                    for (int j = 0; j < k.length; j++) {
                        int src = mirror(z + j - r, nz) * plane + y * nx + start;
                        double w = k[j];
                        for (int i = 0; i < length; i++) {
                            acc[i] += w * in[src + i];
                        }
                    }
                    for (int i = 0; i < length; i++) {
                        out[row + start + i] = (float) acc[i];
                    }
                }
            }
        });
        return out;
    }

    /**
     * One pass of the separable filter along {@code axis} (0 x, 1 y, 2 z), mirrored at the faces, over the box [lo, hi].
     * Accumulates in double and stores float, as scipy does between its passes; the loops run along contiguous rows,
     * which the JIT vectorises.
     */
    private static float[] along(float[] in, int[] size, int axis, double[] k, int[] lo, int[] hi) {
        int nx = size[0];
        int ny = size[1];
        int nz = size[2];
        int plane = nx * ny;
        int r = k.length / 2;
        int width = hi[0] - lo[0] + 1;
        float[] out = new float[in.length];
        if (axis == 2) {
            IntStream.rangeClosed(lo[2], hi[2]).parallel().forEach(z -> {
                int rows = hi[1] - lo[1] + 1;
                double[] acc = new double[rows * width];
                for (int j = 0; j < k.length; j++) {
                    int src = mirror(z + j - r, nz) * plane;
                    double w = k[j];
                    for (int y = lo[1]; y <= hi[1]; y++) {
                        int row = src + y * nx + lo[0];
                        int a = (y - lo[1]) * width;
                        for (int i = 0; i < width; i++) {
                            acc[a + i] += w * in[row + i];
                        }
                    }
                }
                for (int y = lo[1]; y <= hi[1]; y++) {
                    int o = z * plane + y * nx + lo[0];
                    int a = (y - lo[1]) * width;
                    for (int i = 0; i < width; i++) {
                        out[o + i] = (float) acc[a + i];
                    }
                }
            });
        } else if (axis == 1) {
            IntStream.rangeClosed(lo[2], hi[2]).parallel().forEach(z -> {
                double[] acc = new double[width];
                for (int y = lo[1]; y <= hi[1]; y++) {
                    java.util.Arrays.fill(acc, 0);
                    for (int j = 0; j < k.length; j++) {
                        int src = z * plane + mirror(y + j - r, ny) * nx + lo[0];
                        double w = k[j];
                        for (int i = 0; i < width; i++) {
                            acc[i] += w * in[src + i];
                        }
                    }
                    int o = z * plane + y * nx + lo[0];
                    for (int i = 0; i < width; i++) {
                        out[o + i] = (float) acc[i];
                    }
                }
            });
        } else {
            IntStream.rangeClosed(lo[2], hi[2]).parallel().forEach(z -> {
                double[] acc = new double[width];
                float[] buf = new float[nx + 2 * r];
                for (int y = lo[1]; y <= hi[1]; y++) {
                    int o = z * plane + y * nx;
                    for (int i = 0; i < buf.length; i++) {
                        buf[i] = in[o + mirror(i - r, nx)];
                    }
                    java.util.Arrays.fill(acc, 0);
                    for (int j = 0; j < k.length; j++) {
                        double w = k[j];
                        for (int i = 0; i < width; i++) {
                            acc[i] += w * buf[lo[0] + i + j];
                        }
                    }
                    for (int i = 0; i < width; i++) {
                        out[o + lo[0] + i] = (float) acc[i];
                    }
                }
            });
        }
        return out;
    }
}

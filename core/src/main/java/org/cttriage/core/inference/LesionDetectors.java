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
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;

/**
 * The third stage of a two-stage package (manifest {@code organCrops.lesionDetectors}, issue 12 run L): per
 * organ, a lesion detector that segments the organ's focal lesions on the organ's crop, trained per voxel
 * (models/ctglip-ref/experiments/lesion_detector.py). Where the crop encoder's pooled embedding and its finding
 * head miss small cysts and masses, a network trained only to outline them does better (run L: pancreatic mass
 * 0.83 against 0.77, renal cyst 0.73 against 0.69 on the same phantoms).
 *
 * <p>Manifest form:
 * <pre>
 * "lesionDetectors": {
 *   "channels": [{"name": "organ_contrast", "centreHu": "organMedian", "scaleHu": 100, "clip": 1.5},
 *                {"name": "soft_tissue", "centreHu": 40, "scaleHu": 200, "clip": 1}],
 *   "detectors": {"kidney": {"file": "lesion_detector_kidney.onnx", "findings": ["renal_cyst"],
 *                 "windowVoxels": 48, "strideVoxels": 36, "smoothVoxels": 3, "regionDilateVoxels": 2,
 *                 "inputs": [...], "outputs": [...]}, ...}
 * }
 * </pre>
 * A detector takes {@code window} [N, channels, w, w, w] and gives {@code lesion_probability} [N, findings, w/2,
 * w/2, w/2]. Each input channel is clip((footprint-mean HU − centre) / scale, ±clip) per crop voxel; centre
 * {@code organMedian} is the median footprint-mean HU of the crop voxels more than half in the served organ mask
 * (40 HU when there are none): the only thing the detector takes from the mask, so a lesion the coarse mask
 * leaves out is still seen. The crop, padded with zeros to even sizes of at least a window, is cut into windows
 * {@code strideVoxels} apart (the last one flush with the end) so that instance normalisation sees a window's
 * statistics, as in training; overlapping outputs are averaged, then smoothed by a mean over
 * {@code smoothVoxels}³ (zeros outside, counted). A finding's score on the crop is the largest smoothed
 * probability inside the organ mask dilated by {@code regionDilateVoxels} crop voxels (anywhere when the mask
 * is empty), and its location that voxel's centre.
 *
 * <p>A detector with frozen normalisation statistics (batch normalisation, run M) gives the same map whatever the
 * window, so it states {@code "wholeCrop": true, "padToVoxels": 8} instead of a window and a stride: the crop,
 * padded with zeros to a multiple of {@code padToVoxels} on each axis, is one window (its ONNX takes dynamic
 * sizes, [N, channels, -1, -1, -1]), which costs the crop's voxels once instead of the overlapping windows'.
 *
 * <p>A detector may state its own {@code "channels"} (same form, replacing the stage's for that detector): the
 * lungs' detector (run O) sees the organ contrast at 300 HU per unit clipped to ±3, so that ground glass (−600 to
 * −300 HU) differs from vessels and solid nodules, which the abdominal scale (100 HU, ±1.5) saturates alike.
 */
public final class LesionDetectors implements AutoCloseable {
    static final String WINDOW = "window";
    static final String PROBABILITY = "lesion_probability";

    /** Median HU when the served mask has no voxel in the crop (lesion_detector.organ_median). */
    static final double NO_ORGAN_MEDIAN_HU = 40.0;

    /** One input channel: clip((HU − centre) / scale, ±clip); centre is the organ's median when organMedian. */
    record Channel(String name, boolean organMedian, double centreHu, double scaleHu, double clip) {
    }

    /**
     * One organ's detector and how its crop is cut into windows: cubes of {@code window} voxels {@code stride}
     * apart, or, when {@code padTo} is above 0, the whole crop as one window padded to a multiple of {@code padTo}
     * (a detector with frozen normalisation statistics, whose map does not depend on the window).
     */
    record Detector(String organ, OrtSession session, List<String> findings, List<Channel> channels, int window,
                    int stride, int smooth, int dilate, int padTo) {
        boolean wholeCrop() {
            return padTo > 0;
        }
    }

    /**
     * What a detector says of one finding on one crop.
     *
     * @param probability the largest smoothed lesion probability in the dilated organ mask
     * @param pointLps    where it is, LPS mm
     */
    public record Lesion(double probability, double[] pointLps) {
        /** The probability as a logit, the finding's margin before the package's calibration. */
        public double logit() {
            double p = Math.max(1e-6, Math.min(1 - 1e-6, probability));
            return Math.log(p / (1 - p));
        }
    }

    private final Map<String, Detector> detectors;
    private final Set<String> findings; // of all detectors

    private LesionDetectors(Map<String, Detector> detectors) {
        this.detectors = detectors;
        Set<String> all = new TreeSet<>();
        detectors.values().forEach(d -> all.addAll(d.findings()));
        this.findings = java.util.Collections.unmodifiableSet(all);
    }

    /**
     * Opens the detectors of {@code node} ({@code organCrops.lesionDetectors}) and checks them against the
     * manifest: each organ must have a crop encoder, each finding must be a crop finding of that organ, the ONNX
     * signatures must be the manifest's and the window must fit the stride. Null when the node is missing.
     */
    static LesionDetectors open(JsonNode node, Set<String> encoderOrgans, Map<String, Integer> findingChannels,
                                Map<String, String> organOfFinding, CropStage.Opener opener)
            throws TriageException, OrtException {
        if (node.isMissingNode()) {
            return null;
        }
        List<Channel> stageChannels = channels(node.path("channels"), "");
        Map<String, Detector> detectors = new LinkedHashMap<>();
        try {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.path("detectors").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String organ = e.getKey();
                JsonNode d = e.getValue();
                if (!encoderOrgans.contains(organ)) {
                    throw invalid(organ + " has a detector but no crop encoder: the detector runs on stage 2's crops");
                }
                List<String> findings = organFindings(d.path("findings"), organ, organ + "'s detector",
                        findingChannels, organOfFinding, LesionDetectors::invalid);
                boolean whole = d.path("wholeCrop").asBoolean(false);
                int padTo = whole ? d.path("padToVoxels").asInt(0) : 0;
                int window = whole ? 0 : d.path("windowVoxels").asInt();
                int stride = whole ? 0 : d.path("strideVoxels").asInt();
                int smooth = d.path("smoothVoxels").asInt(1);
                int dilate = d.path("regionDilateVoxels").asInt(0);
                if (findings.isEmpty() || smooth < 1 || smooth % 2 != 1 || dilate < 0) {
                    throw invalid(organ + "'s detector needs findings, an odd smoothVoxels and regionDilateVoxels >= 0");
                }
                if (whole ? padTo < 2 || padTo % 2 != 0
                        : window < 2 || window % 2 != 0 || stride < 2 || stride % 2 != 0 || stride > window) {
                    throw invalid(organ + "'s detector needs an even windowVoxels and an even strideVoxels up to the"
                            + " window, or wholeCrop with an even padToVoxels");
                }
                List<Channel> channels = d.has("channels") ? channels(d.path("channels"), organ + "'s detector: ")
                        : stageChannels;
                OrtSession s = opener.open(d.path("file").asText());
                detectors.put(organ, new Detector(organ, s, List.copyOf(findings), channels, window, stride, smooth,
                        dilate, padTo));
                InferenceEngine.checkSignature(s, d, "lesion detector " + organ);
                long[] in = ((ai.onnxruntime.TensorInfo) s.getInputInfo().get(WINDOW).getInfo()).getShape();
                long[] out = ((ai.onnxruntime.TensorInfo) s.getOutputInfo().get(PROBABILITY).getInfo()).getShape();
                long side = whole ? -1 : window;        // a whole-crop detector takes any size (dynamic axes)
                long h = whole ? -1 : window / 2;
                if (in.length != 5 || in[1] != channels.size() || in[2] != side || in[3] != side || in[4] != side
                        || out.length != 5 || out[1] != findings.size() || out[2] != h || out[3] != h || out[4] != h) {
                    throw new TriageException(ErrorCode.MODEL_SIGNATURE_MISMATCH, "lesion detector " + organ + " takes "
                            + java.util.Arrays.toString(in) + " and gives " + java.util.Arrays.toString(out)
                            + "; the manifest gives " + channels.size() + " channels, "
                            + (whole ? "the whole crop (dynamic sizes)" : "a window of " + window)
                            + " and " + findings.size() + " findings");
                }
            }
        } catch (TriageException | OrtException | RuntimeException e) {
            detectors.values().forEach(d -> InferenceEngine.closeQuietly(d.session()));
            throw e;
        }
        return new LesionDetectors(detectors);
    }

    /**
     * The findings an organ's scorer ({@code who}: a lesion detector, a dot filter) names, each checked to be a crop
     * finding of that organ; {@code invalid} makes the refusal.
     */
    static List<String> organFindings(JsonNode array, String organ, String who, Map<String, Integer> findingChannels,
                                      Map<String, String> organOfFinding,
                                      java.util.function.Function<String, TriageException> invalid)
            throws TriageException {
        List<String> findings = new ArrayList<>();
        for (JsonNode f : array) {
            String id = f.asText();
            if (!findingChannels.containsKey(id) || !organ.equals(organOfFinding.get(id))) {
                throw invalid.apply(who + " names " + id + ", which is not a crop finding of " + organ);
            }
            findings.add(id);
        }
        return findings;
    }

    /** The input channels {@code array} states ({@code where} prefixes a refusal); never empty. */
    private static List<Channel> channels(JsonNode array, String where) throws TriageException {
        List<Channel> channels = new ArrayList<>();
        for (JsonNode c : array) {
            JsonNode centre = c.path("centreHu");
            boolean median = centre.isTextual() && centre.asText().equals("organMedian");
            if (!median && !centre.isNumber() || !(c.path("scaleHu").asDouble() > 0) || !(c.path("clip").asDouble() > 0)) {
                throw invalid(where + "channel " + c.path("name").asText() + " needs centreHu (a number or"
                        + " \"organMedian\"), scaleHu > 0 and clip > 0");
            }
            channels.add(new Channel(c.path("name").asText(), median, centre.asDouble(), c.path("scaleHu").asDouble(),
                    c.path("clip").asDouble()));
        }
        if (channels.isEmpty()) {
            throw invalid(where + "no channels");
        }
        return List.copyOf(channels);
    }

    private static TriageException invalid(String why) {
        return new TriageException(ErrorCode.MODEL_PACKAGE_INVALID, "organCrops.lesionDetectors: " + why);
    }

    /** Whether a detector runs on {@code organ}'s crops. */
    boolean covers(String organ) {
        return detectors.containsKey(organ);
    }

    /** The findings the detectors score. */
    Set<String> findings() {
        return findings;
    }

    /**
     * Runs {@code organ}'s detector on one crop: {@code meanHu} and {@code mask} are [z, y, x] of a grid of
     * {@code size} = (x, y, z) voxels. Empty when no detector covers the organ.
     */
    Map<String, Lesion> detect(OrtEnvironment env, String organ, float[] meanHu, float[] mask, int[] size,
                               OrganCrops.CropGrid grid) throws TriageException {
        Detector d = detectors.get(organ);
        if (d == null) {
            return Map.of();
        }
        float[] x = inputs(meanHu, mask, d.channels());
        Windows w = d.wholeCrop() ? Windows.whole(size, d.padTo()) : new Windows(size, d.window(), d.stride());
        float[] batch = w.cut(x, d.channels().size());
        float[] prob;
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(batch),
                new long[] {w.count(), d.channels().size(), w.window[2], w.window[1], w.window[0]});
             OrtSession.Result r = d.session().run(Map.of(WINDOW, t))) {
            FloatBuffer b = ((OnnxTensor) r.get(PROBABILITY).orElseThrow()).getFloatBuffer();
            prob = new float[b.remaining()];
            b.get(prob);
        } catch (OrtException e) {
            throw new TriageException(ErrorCode.INFERENCE_FAILED, "lesion detector " + organ + " failed: "
                    + e.getMessage(), e);
        }
        return peaks(w, prob, d, mask, grid);
    }

    /** The detector's input channels of one crop, [channel, z, y, x]. */
    static float[] inputs(float[] meanHu, float[] mask, List<Channel> channels) {
        double median = organMedian(meanHu, mask);
        int n = meanHu.length;
        float[] out = new float[channels.size() * n];
        for (int c = 0; c < channels.size(); c++) {
            Channel ch = channels.get(c);
            double centre = ch.organMedian() ? median : ch.centreHu();
            for (int v = 0; v < n; v++) {
                double value = (meanHu[v] - centre) / ch.scaleHu();
                out[c * n + v] = (float) Math.max(-ch.clip(), Math.min(ch.clip(), value));
            }
        }
        return out;
    }

    /** Median HU of the voxels more than half in the mask (numpy's median), else {@link #NO_ORGAN_MEDIAN_HU}. */
    static double organMedian(float[] hu, float[] mask) {
        return CropStage.maskMedian(hu, mask).orElse(NO_ORGAN_MEDIAN_HU);
    }

    /**
     * How a crop of {@code size} (x, y, z) is cut into windows: padded with zeros to {@code full} (even, at least
     * a window per axis), window origins {@code stride} apart on each axis plus one flush with the end; or
     * ({@link #whole}) one window, the crop padded to a multiple of some voxels.
     */
    static final class Windows {
        final int[] size;     // x, y, z of the crop
        final int[] full;     // x, y, z padded
        final int[][] starts; // per axis x, y, z
        final int[] window;   // x, y, z of a window (even)

        /** Cubic windows of {@code window} voxels, {@code stride} apart. */
        Windows(int[] size, int window, int stride) {
            this.size = size.clone();
            this.window = new int[] {window, window, window};
            full = new int[3];
            starts = new int[3][];
            for (int a = 0; a < 3; a++) {
                full[a] = Math.max(size[a] + size[a] % 2, window);
                TreeSet<Integer> s = new TreeSet<>();
                for (int i = 0; i < full[a] - window; i += stride) {
                    s.add(i);
                }
                s.add(full[a] - window);
                starts[a] = s.stream().mapToInt(Integer::intValue).toArray();
            }
        }

        private Windows(int[] size, int[] full) {
            this.size = size.clone();
            this.full = full;
            this.window = full.clone();
            this.starts = new int[][] {{0}, {0}, {0}};
        }

        /** The whole crop as one window, each axis padded with zeros to a multiple of {@code padTo}. */
        static Windows whole(int[] size, int padTo) {
            int[] full = new int[3];
            for (int a = 0; a < 3; a++) {
                full[a] = Math.max(padTo, (size[a] + padTo - 1) / padTo * padTo);
            }
            return new Windows(size, full);
        }

        int count() {
            return starts[0].length * starts[1].length * starts[2].length;
        }

        /** The windows of {@code x} ([channel, z, y, x] of the crop), [window, channel, z, y, x], z-major order. */
        float[] cut(float[] x, int channels) {
            int wx = window[0];
            int wy = window[1];
            int wz = window[2];
            int w3 = wx * wy * wz;
            int n = size[0] * size[1] * size[2];
            float[] out = new float[count() * channels * w3];
            int k = 0;
            for (int z0 : starts[2]) {
                for (int y0 : starts[1]) {
                    for (int x0 : starts[0]) {
                        for (int c = 0; c < channels; c++) {
                            int base = (k * channels + c) * w3;
                            for (int dz = 0; dz < wz; dz++) {
                                int z = z0 + dz;
                                if (z >= size[2]) {
                                    continue;
                                }
                                for (int dy = 0; dy < wy; dy++) {
                                    int y = y0 + dy;
                                    if (y >= size[1]) {
                                        continue;
                                    }
                                    int from = c * n + (z * size[1] + y) * size[0] + x0;
                                    int len = Math.min(wx, size[0] - x0);
                                    if (len > 0) {
                                        System.arraycopy(x, from, out, base + (dz * wy + dy) * wx, len);
                                    }
                                }
                            }
                        }
                        k++;
                    }
                }
            }
            return out;
        }
    }

    /**
     * Per finding, the largest smoothed probability in the dilated mask and where it is. {@code prob} is the
     * detector's output for {@code w}'s windows, [window, finding, z', y', x'] at half resolution.
     */
    static Map<String, Lesion> peaks(Windows w, float[] prob, Detector d, float[] mask, OrganCrops.CropGrid grid) {
        int hx = w.window[0] / 2;
        int hy = w.window[1] / 2;
        int hz = w.window[2] / 2;
        int h3 = hx * hy * hz;
        int[] hf = {w.full[0] / 2, w.full[1] / 2, w.full[2] / 2};
        int[] half = {(w.size[0] + 1) / 2, (w.size[1] + 1) / 2, (w.size[2] + 1) / 2};
        int nf = d.findings().size();
        int fullHalf = hf[0] * hf[1] * hf[2];
        float[] acc = new float[nf * fullHalf];
        int[] cnt = new int[fullHalf];
        int k = 0;
        for (int z0 : w.starts[2]) {
            for (int y0 : w.starts[1]) {
                for (int x0 : w.starts[0]) {
                    for (int dz = 0; dz < hz; dz++) {
                        for (int dy = 0; dy < hy; dy++) {
                            for (int dx = 0; dx < hx; dx++) {
                                int v = ((z0 / 2 + dz) * hf[1] + y0 / 2 + dy) * hf[0] + x0 / 2 + dx;
                                cnt[v]++;
                                for (int f = 0; f < nf; f++) {
                                    acc[f * fullHalf + v] += prob[(k * nf + f) * h3 + (dz * hy + dy) * hx + dx];
                                }
                            }
                        }
                    }
                    k++;
                }
            }
        }
        boolean[] region = region(mask, w.size, d.dilate(), half);
        Map<String, Lesion> out = new LinkedHashMap<>();
        int r = d.smooth() / 2;
        double cells = Math.pow(d.smooth(), 3);
        for (int f = 0; f < nf; f++) {
            double best = -1;
            int at = 0;
            for (int z = 0; z < half[2]; z++) {
                for (int y = 0; y < half[1]; y++) {
                    for (int x = 0; x < half[0]; x++) {
                        int hv = (z * half[1] + y) * half[0] + x;
                        if (!region[hv]) {
                            continue;
                        }
                        double sum = 0;
                        for (int dz = -r; dz <= r; dz++) {
                            for (int dy = -r; dy <= r; dy++) {
                                for (int dx = -r; dx <= r; dx++) {
                                    int zz = z + dz;
                                    int yy = y + dy;
                                    int xx = x + dx;
                                    if (zz >= 0 && zz < half[2] && yy >= 0 && yy < half[1] && xx >= 0 && xx < half[0]) {
                                        int v = (zz * hf[1] + yy) * hf[0] + xx;
                                        sum += acc[f * fullHalf + v] / cnt[v];
                                    }
                                }
                            }
                        }
                        double p = sum / cells;
                        if (p > best) {
                            best = p;
                            at = hv;
                        }
                    }
                }
            }
            int x = at % half[0];
            int y = (at / half[0]) % half[1];
            int z = at / (half[0] * half[1]);
            // a half-resolution voxel covers crop voxels 2i and 2i + 1 (the training target's max-pool)
            out.put(d.findings().get(f), new Lesion(best, grid == null ? null
                    : grid.positionOf(2 * x + 0.5, 2 * y + 0.5, 2 * z + 0.5)));
        }
        return out;
    }

    /**
     * The half-resolution voxels whose 2³ crop voxels (the crop padded with zeros to even sizes) reach the mask
     * dilated by {@code dilate} voxels (value above 0.5); all of them when none does.
     */
    static boolean[] region(float[] mask, int[] size, int dilate, int[] half) {
        float[] dilated = CropStage.maxFilter(mask, size, dilate);
        boolean[] out = new boolean[half[0] * half[1] * half[2]];
        boolean any = false;
        for (int z = 0; z < size[2]; z++) {
            for (int y = 0; y < size[1]; y++) {
                for (int x = 0; x < size[0]; x++) {
                    if (dilated[(z * size[1] + y) * size[0] + x] > 0.5f) {
                        out[((z / 2) * half[1] + y / 2) * half[0] + x / 2] = true;
                        any = true;
                    }
                }
            }
        }
        if (!any) {
            java.util.Arrays.fill(out, true);
        }
        return out;
    }

    @Override
    public void close() {
        detectors.values().forEach(d -> InferenceEngine.closeQuietly(d.session()));
    }
}

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
import java.util.OptionalDouble;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.volume.Volume;
import org.cttriage.core.volume.VolumeGeometry;

/**
 * The second stage of a two-stage package (manifest.json {@code "organCrops"}, issue 12): for each
 * organ that has a crop encoder, the box of the organ in the coarse stage's segmentation (per side
 * for paired organs, parted at {@link OrganSegmentation#sidePlaneX}), a crop of the full-resolution
 * HU volume on the organ's own fine grid ({@link OrganCrops}), and the organ's encoder on it: an
 * organ embedding in the crop text encoder's space, and per finding a voxel logit map that says
 * where the finding is. The findings the manifest assigns to this stage are scored on these
 * embeddings instead of the coarse ones.
 *
 * <p>Manifest form:
 * <pre>
 * "organCrops": {
 *   "spec": "organ-crops.json",
 *   "findingChannels": {"cholelithiasis": 8, ...},      finding id → channel of finding_max / finding_logits
 *   "headFindings": ["liver_mass", ...],                 optional: scored by the finding head, not the embedding
 *   "lesionDetectors": {...},                            optional: the third stage, {@link LesionDetectors}
 *   "dotFilters": {...},                                 optional: classical blob filters, {@link DotFilters}
 *   "detectorFindings": ["pancreatic_mass", ...],        optional: scored and located by their organ's detector
 *   "textEncoder": {"file": "text_encoder_crops.onnx", "inputs": [...], "outputs": [...]},
 *   "encoders": {"gallbladder": {"file": "crop_encoder_gallbladder.onnx", "inputs": [...], "outputs": [...]}, ...}
 * }
 * </pre>
 * With {@code "contrastChannel": {"windowHu": 80, "dilateVoxels": 2}} the crop gets one more channel after
 * the spec's: the lesion contrast, each voxel's footprint-mean HU minus the organ's median HU (over the
 * crop voxels more than half in the organ), clipped to ± windowHu and scaled to [-1, 1], times the organ
 * mask dilated by dilateVoxels (a 3-D maximum filter), as train_crops.py --contrast-channel computes it.
 * Each encoder takes {@code crop} [1, C, z, y, x], {@code organ_mask} [1, 1, z, y, x] and
 * {@code box_extent} [1, 3] (the box's extent in mm / 100) and gives {@code organ_embedding}
 * [1, E], {@code finding_max} [1, F] and {@code finding_logits} [1, F, z', y', x']; z, y, x are the
 * organ's grid of the spec, checked when the sessions open.
 *
 * <p>A finding of {@code findingChannels} is scored zero-shot: its prompts against the crop's embedding.
 * A finding also listed in {@code headFindings} is scored instead by its finding head: the largest logit
 * of its map in the crop ({@link OrganCrop#peak}), where the dense per-voxel training signal sees a lesion
 * that the pooled embedding does not pass on; its prompts do not change that score. A finding listed in
 * {@code detectorFindings} is scored by the logit of its organ's lesion detector's peak probability on the crop
 * ({@link LesionDetectors}, run on every crop of an organ the manifest gives a detector) and located at that
 * peak; its prompts do not change that score either. A dot filter ({@link DotFilters}, on its own finer crop of
 * the organ's box) gives its findings a score and a point in the same form, and {@code detectorFindings} may name
 * them too. The package's calibration decides per finding which of these (or the coarse stage) ranks best.
 */
public final class CropStage implements AutoCloseable {
    static final String CROP = "crop";
    static final String ORGAN_MASK = "organ_mask";
    static final String BOX_EXTENT = "box_extent";
    static final String EMBEDDING = "organ_embedding";
    static final String FINDING_LOGITS = "finding_logits";
    static final String FINDING_MAX = "finding_max";

    /** Opens one ONNX session of the package (the engine's device and options). */
    @FunctionalInterface
    interface Opener {
        OrtSession open(String file) throws OrtException;
    }

    /**
     * One organ crop and what its encoder made of it.
     *
     * @param organ      organ name
     * @param side       which part of the organ
     * @param grid       where the crop lies
     * @param embedding  the organ embedding (text-aligned)
     * @param logits     finding logits [finding, z', y', x'] flattened
     * @param headSize   x', y', z' of the logit maps
     * @param findingMax per finding, the encoder's maximum of its logit map inside the organ mask dilated by
     *                   one head voxel ({@code finding_max})
     * @param densestLps LPS position of the densest voxel of the compact dense structures in or at the organ's
     *                   mask, else of the voxels at least half in the mask ({@link CropStage#densest}); null when
     *                   no voxel is in the mask, or when no finding of the organ is located so
     * @param lesions    per finding of the organ's lesion detector ({@link LesionDetectors}) or dot filter
     *                   ({@link DotFilters}), its peak and where; empty when neither covers the organ
     */
    public record OrganCrop(String organ, OrganSegmentation.Side side, OrganCrops.CropGrid grid, float[] embedding,
                     float[] logits, int[] headSize, float[] findingMax, double[] densestLps,
                     Map<String, LesionDetectors.Lesion> lesions) {
        /** The largest logit of {@code channel}'s map anywhere in the crop, organ mask or not. */
        public double peak(int channel) {
            int n = headSize[0] * headSize[1] * headSize[2];
            double best = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < n; v++) {
                best = Math.max(best, logits[channel * n + v]);
            }
            return best;
        }

        /** LPS position of the strongest voxel of {@code channel}'s logit map. */
        public double[] strongest(int channel) {
            int n = headSize[0] * headSize[1] * headSize[2];
            int best = 0;
            for (int v = 1; v < n; v++) {
                if (logits[channel * n + v] > logits[channel * n + best]) {
                    best = v;
                }
            }
            int[] g = grid.organ().gridSize();
            int[] ijk = {best % headSize[0], (best / headSize[0]) % headSize[1], best / (headSize[0] * headSize[1])};
            double[] c = new double[3];
            for (int a = 0; a < 3; a++) {
                double scale = (double) g[a] / headSize[a];
                c[a] = (ijk[a] + 0.5) * scale - 0.5; // centre of the head voxel's footprint on the crop grid
            }
            return grid.positionOf(c[0], c[1], c[2]);
        }
    }

    /** The lesion-contrast channel: window (HU) and dilation of the organ mask (voxels). */
    record Contrast(double windowHu, int dilateVoxels) {
    }

    private final OrganCrops crops;
    private final Map<String, OrtSession> encoders;
    private final OrtSession text;
    private final Map<String, Integer> findingChannels;
    private final java.util.Set<String> headFindings;
    private final java.util.Set<String> densestFindings;
    private final java.util.Set<String> densestOrgans; // the organs of densestFindings: their crops need densest()
    private final Contrast contrast; // null: the spec's channels only
    private final int inputChannels;
    private final Map<String, AbnormalityDictionary.Organ> organs; // their labels in the coarse segmentation
    private final LesionDetectors detectors; // null: no third stage
    private final java.util.Set<String> detectorFindings; // scored by their organ's lesion detector or dot filter
    private final DotFilters dotFilters; // null: none

    private CropStage(OrganCrops crops, Map<String, OrtSession> encoders, OrtSession text,
                      Map<String, Integer> findingChannels, java.util.Set<String> headFindings,
                      java.util.Set<String> densestFindings, java.util.Set<String> densestOrgans, Contrast contrast,
                      Map<String, AbnormalityDictionary.Organ> organs, LesionDetectors detectors,
                      java.util.Set<String> detectorFindings, DotFilters dotFilters) {
        this.crops = crops;
        this.encoders = encoders;
        this.text = text;
        this.findingChannels = findingChannels;
        this.headFindings = headFindings;
        this.densestFindings = densestFindings;
        this.densestOrgans = densestOrgans;
        this.contrast = contrast;
        this.inputChannels = inputChannels(crops.spec(), contrast);
        this.organs = organs;
        this.detectors = detectors;
        this.detectorFindings = detectorFindings;
        this.dotFilters = dotFilters;
    }

    /** The crop encoders' input channels: the spec's, and the contrast channel when there is one. */
    private static int inputChannels(OrganCropSpec spec, Contrast contrast) {
        return spec.channels().size() + (contrast == null ? 0 : 1);
    }

    /**
     * Opens the stage's sessions and checks them against the manifest and the crop spec; null when
     * the package has no second stage.
     */
    static CropStage open(ModelPackage pkg, Opener opener) throws TriageException, OrtException {
        JsonNode node = pkg.manifest().path("organCrops");
        if (node.isMissingNode()) {
            return null;
        }
        OrganCropSpec spec = pkg.cropSpec();
        Map<String, Integer> channels = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.path("findingChannels").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            channels.put(e.getKey(), e.getValue().asInt());
        }
        java.util.Set<String> heads = cropFindings(node, "headFindings", channels);
        java.util.Set<String> densestFindings = cropFindings(node, "densestVoxelFindings", channels);
        JsonNode c = node.path("contrastChannel");
        Contrast contrast = c.isMissingNode() ? null
                : new Contrast(c.path("windowHu").asDouble(80), c.path("dilateVoxels").asInt(2));
        if (contrast != null && (!(contrast.windowHu() > 0) || contrast.dilateVoxels() < 0)) {
            throw new TriageException(ErrorCode.MODEL_PACKAGE_INVALID, "organCrops.contrastChannel needs windowHu > 0"
                    + " and dilateVoxels >= 0");
        }
        int inputChannels = inputChannels(spec, contrast);
        Map<String, OrtSession> encoders = new LinkedHashMap<>();
        OrtSession text = null;
        LesionDetectors detectors = null;
        DotFilters dots = null;
        boolean opened = false;
        try {
            text = opener.open(node.path("textEncoder").path("file").asText());
            InferenceEngine.checkSignature(text, node.path("textEncoder"), "crop text encoder");
            for (Iterator<Map.Entry<String, JsonNode>> it = node.path("encoders").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                OrganCropSpec.OrganGrid grid = spec.organ(e.getKey());
                OrtSession s = opener.open(e.getValue().path("file").asText());
                encoders.put(e.getKey(), s);
                InferenceEngine.checkSignature(s, e.getValue(), "crop encoder " + e.getKey());
                long[] shape = ((ai.onnxruntime.TensorInfo) s.getInputInfo().get(CROP).getInfo()).getShape();
                int[] g = grid.gridSize();
                if (shape.length != 5 || shape[1] != inputChannels || shape[2] != g[2] || shape[3] != g[1]
                        || shape[4] != g[0]) {
                    throw new TriageException(ErrorCode.MODEL_SIGNATURE_MISMATCH, "crop encoder " + e.getKey()
                            + " takes " + java.util.Arrays.toString(shape) + ", the crop spec gives [1, "
                            + inputChannels + ", " + g[2] + ", " + g[1] + ", " + g[0] + "]");
                }
            }
            for (AbnormalityDictionary.Finding f : pkg.dictionary().findings()) {
                if (channels.containsKey(f.id()) && !encoders.containsKey(f.organ())) {
                    throw new TriageException(ErrorCode.MODEL_PACKAGE_INVALID, "finding " + f.id()
                            + " is assigned to the organ crops but there is no crop encoder for " + f.organ());
                }
            }
            java.util.Set<String> densestOrgans = new java.util.HashSet<>();
            pkg.dictionary().findings().stream().filter(f -> densestFindings.contains(f.id()))
                    .forEach(f -> densestOrgans.add(f.organ()));
            Map<String, String> organOf = new java.util.HashMap<>();
            pkg.dictionary().findings().forEach(f -> organOf.put(f.id(), f.organ()));
            detectors = LesionDetectors.open(node.path("lesionDetectors"), encoders.keySet(), channels, organOf,
                    opener);
            dots = DotFilters.open(node.path("dotFilters"), spec, encoders.keySet(), channels, organOf, opener);
            java.util.Set<String> byDetector = cropFindings(node, "detectorFindings", channels);
            for (String id : byDetector) {
                if (!scoredBy(detectors, dots, id)) {
                    throw new TriageException(ErrorCode.MODEL_PACKAGE_INVALID, "organCrops.detectorFindings names "
                            + id + ", which no lesion detector of organCrops.lesionDetectors and no dot filter of"
                            + " organCrops.dotFilters scores");
                }
                if (heads.contains(id)) {
                    throw new TriageException(ErrorCode.MODEL_PACKAGE_INVALID, id + " is in both"
                            + " organCrops.headFindings and organCrops.detectorFindings");
                }
            }
            CropStage stage = new CropStage(new OrganCrops(spec), encoders, text, channels, heads, densestFindings,
                    densestOrgans, contrast, pkg.dictionary().organs(), detectors, byDetector, dots);
            opened = true;
            return stage;
        } finally {
            if (!opened) { // a refused package leaves no native session open
                closeAll(encoders.values(), text);
                if (detectors != null) {
                    detectors.close();
                }
                if (dots != null) {
                    dots.close();
                }
            }
        }
    }

    /** The findings listed under {@code organCrops.<key>}, each one the crops score. */
    private static java.util.Set<String> cropFindings(JsonNode organCrops, String key, Map<String, Integer> channels)
            throws TriageException {
        java.util.Set<String> out = new java.util.LinkedHashSet<>();
        for (JsonNode id : organCrops.path(key)) {
            if (!channels.containsKey(id.asText())) {
                throw new TriageException(ErrorCode.MODEL_PACKAGE_INVALID, "organCrops." + key + " names "
                        + id.asText() + ", which organCrops.findingChannels does not assign to the crops");
            }
            out.add(id.asText());
        }
        return out;
    }

    /** Whether this stage scores finding {@code id}. */
    boolean scores(String id) {
        return findingChannels.containsKey(id);
    }

    /** Whether this stage scores finding {@code id} by its finding head rather than zero-shot. */
    boolean scoresByHead(String id) {
        return headFindings.contains(id);
    }

    /**
     * Whether this stage locates finding {@code id} by {@link #densest} on its organ's crop (manifest
     * {@code organCrops.densestVoxelFindings}: calcified lesions such as stones) rather than at its logit peak.
     */
    boolean locatesAtDensestVoxel(String id) {
        return densestFindings.contains(id);
    }

    /**
     * Whether finding {@code id} is scored and located by its organ's lesion detector or dot filter (manifest
     * {@code organCrops.detectorFindings}, chosen at calibration).
     */
    boolean scoresByDetector(String id) {
        return detectorFindings.contains(id);
    }

    /**
     * Whether a lesion detector or a dot filter of the package gives finding {@code id} a score (whether or not it
     * is used).
     */
    boolean detects(String id) {
        return scoredBy(detectors, dotFilters, id);
    }

    /** Whether the lesion detectors or the dot filters (either may be null) score finding {@code id}. */
    private static boolean scoredBy(LesionDetectors detectors, DotFilters dots, String id) {
        return (detectors != null && detectors.findings().contains(id)) || (dots != null && dots.findings().contains(id));
    }

    /** The logit channel of a finding this stage scores. */
    int channel(String id) {
        return findingChannels.get(id);
    }

    /** The crop text encoder. */
    OrtSession textSession() {
        return text;
    }

    /** What {@link #run} made: the crops, and the time its lesion detectors took (ns, included in the run's). */
    record Run(List<OrganCrop> crops, long detectorNanos) {
    }

    /** Crops and encodes every organ that has an encoder and a box in the segmentation. */
    Run run(OrtEnvironment env, Volume volume, OrganSegmentation segmentation) throws TriageException {
        VolumeGeometry coarse = segmentation.geometry();
        List<OrganCrop> out = new ArrayList<>();
        long[] detectorNanos = {0};
        for (Map.Entry<String, OrtSession> e : encoders.entrySet()) {
            OrganCropSpec.OrganGrid grid = crops.spec().organ(e.getKey());
            int label = organs.get(e.getKey()).label();
            for (OrganSegmentation.SideBox sb : segmentation.cropBoxes(label, grid.bySide())) {
                out.add(encode(env, e.getValue(), volume, segmentation, coarse, grid, label, sb.side(), sb.box(),
                        detectorNanos));
            }
        }
        return new Run(out, detectorNanos[0]);
    }

    private OrganCrop encode(OrtEnvironment env, OrtSession session, Volume volume, OrganSegmentation segmentation,
                             VolumeGeometry coarse, OrganCropSpec.OrganGrid organ, int label,
                             OrganSegmentation.Side side, OrganSegmentation.Box box, long[] detectorNanos)
            throws TriageException {
        double[] lo = box.minLps();
        double[] hi = box.maxLps();
        OrganCrops.CropGrid grid = crops.grid(organ, lo, hi);
        float[] mask = crops.labelFraction(segmentation.labels(), coarse, grid, label);
        OrganCrops.Footprint footprint = crops.footprint(volume, grid);
        float[] x = footprint.channels();
        if (contrast != null) {
            float[] withContrast = java.util.Arrays.copyOf(x, x.length + mask.length);
            float[] lesion = contrast(footprint.meanHu(), mask, organ.gridSize(), contrast);
            System.arraycopy(lesion, 0, withContrast, x.length, lesion.length);
            x = withContrast;
        }
        float[] extent = {(float) ((hi[0] - lo[0]) / 100), (float) ((hi[1] - lo[1]) / 100),
            (float) ((hi[2] - lo[2]) / 100)};
        int[] g = organ.gridSize();
        try (OnnxTensor xt = OnnxTensor.createTensor(env, FloatBuffer.wrap(x),
                new long[] {1, inputChannels, g[2], g[1], g[0]});
             OnnxTensor mt = OnnxTensor.createTensor(env, FloatBuffer.wrap(mask), new long[] {1, 1, g[2], g[1], g[0]});
             OnnxTensor et = OnnxTensor.createTensor(env, FloatBuffer.wrap(extent), new long[] {1, 3});
             OrtSession.Result r = session.run(Map.of(CROP, xt, ORGAN_MASK, mt, BOX_EXTENT, et))) {
            OnnxTensor emb = (OnnxTensor) r.get(EMBEDDING).orElseThrow();
            OnnxTensor logits = (OnnxTensor) r.get(FINDING_LOGITS).orElseThrow();
            OnnxTensor max = (OnnxTensor) r.get(FINDING_MAX).orElseThrow();
            long[] ls = logits.getInfo().getShape();
            long t0 = System.nanoTime();
            Map<String, LesionDetectors.Lesion> lesions = detectors == null ? Map.of()
                    : detectors.detect(env, organ.name(), footprint.meanHu(), mask, g, grid);
            DotFilters.Filter dot = dotFilters == null ? null : dotFilters.filter(organ.name());
            if (dot != null) {
                Map<String, LesionDetectors.Lesion> both = new LinkedHashMap<>(lesions);
                DotFilters.Fine patches = new DotFilters.Fine(crops, volume);
                if (sameGrid(dot.grid(), organ)) { // the encoder's crop: its footprint and mask serve the filter too
                    both.putAll(DotFilters.detect(env, dot, footprint.meanHu(), mask, grid, patches));
                } else { // its own crop of the same box
                    OrganCrops.CropGrid own = crops.grid(dot.grid(), lo, hi);
                    both.putAll(DotFilters.detect(env, dot, crops.meanHu(volume, own),
                            crops.labelFraction(segmentation.labels(), coarse, own, label), own, patches));
                }
                lesions = both;
            }
            detectorNanos[0] += System.nanoTime() - t0;
            return new OrganCrop(organ.name(), side, grid, floats(emb.getFloatBuffer()), floats(logits.getFloatBuffer()),
                    new int[] {(int) ls[4], (int) ls[3], (int) ls[2]}, floats(max.getFloatBuffer()),
                    densestOrgans.contains(organ.name()) ? densest(footprint.maxHu(), mask, g, grid) : null, lesions);
        } catch (OrtException e) {
            throw new TriageException(ErrorCode.INFERENCE_FAILED, "crop encoder " + organ.name() + " failed: "
                    + e.getMessage(), e);
        }
    }

    /** Whether a dot filter's grid is the organ crop's (the same size, spacing and margin): then it shares the crop. */
    static boolean sameGrid(OrganCropSpec.OrganGrid a, OrganCropSpec.OrganGrid b) {
        return java.util.Arrays.equals(a.gridSize(), b.gridSize()) && java.util.Arrays.equals(a.spacingMm(), b.spacingMm())
                && a.marginMm() == b.marginMm();
    }

    /** Footprint maximum HU from which a voxel counts as dense (calcium, bone, arterial contrast). */
    static final float DENSE_HU = 250f;

    /** The largest extent, on any axis, of a dense structure that can be a calcified lesion (stones: 2-10 mm). */
    static final double LESION_MAX_EXTENT_MM = 15;

    /** How far from the organ mask a calcified lesion may lie (a stone in the renal pelvis, which the served
     * kidney mask often leaves out). */
    static final double LESION_NEAR_MASK_MM = 10;

    /**
     * Where a calcified lesion of the organ is on its crop ([z, y, x] arrays of a grid of {@code size} x, y,
     * z): the densest voxel (footprint maximum HU) of the dense structures that can be one, else of the
     * voxels at least half in the organ mask; null when no voxel is in the mask. A dense structure is a
     * 6-connected component of voxels of at least {@link #DENSE_HU}; it can be a lesion of the organ when it
     * is compact (at most {@link #LESION_MAX_EXTENT_MM} on every axis, not leaving the crop) and lies in the
     * mask or within {@link #LESION_NEAR_MASK_MM} of it. So a stone that the segmentation leaves as a hole in
     * the kidney or outside it at the hilum counts, and a rib, a vertebra or the aorta near the kidney,
     * denser than the stone but long, does not.
     */
    static double[] densest(float[] maxHu, float[] mask, int[] size, OrganCrops.CropGrid grid) {
        int n = mask.length;
        int[] component = new int[n];
        java.util.Arrays.fill(component, -1);
        java.util.List<Boolean> lesion = new java.util.ArrayList<>();
        int[] queue = new int[n];
        int[] stride = {1, size[0], size[0] * size[1]};
        double[] spacing = grid.organ().spacingMm();
        int near = (int) Math.round(LESION_NEAR_MASK_MM / Math.min(spacing[0], Math.min(spacing[1], spacing[2])));
        float[] nearMask = maxFilter(mask, size, near);
        for (int seed = 0; seed < n; seed++) {
            if (maxHu[seed] < DENSE_HU || component[seed] >= 0) {
                continue;
            }
            int id = lesion.size();
            int head = 0;
            int tail = 0;
            boolean nearMaskSeen = false;
            boolean leavesCrop = false;
            int[] lo = {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE};
            int[] hi = {-1, -1, -1};
            queue[tail++] = seed;
            component[seed] = id;
            while (head < tail) {
                int v = queue[head++];
                nearMaskSeen |= nearMask[v] >= 0.5f;
                for (int axis = 0; axis < 3; axis++) {
                    int i = (v / stride[axis]) % size[axis];
                    lo[axis] = Math.min(lo[axis], i);
                    hi[axis] = Math.max(hi[axis], i);
                    for (int step = -1; step <= 1; step += 2) {
                        int w = v + step * stride[axis];
                        if (i + step < 0 || i + step >= size[axis]) {
                            leavesCrop = true;
                        } else if (maxHu[w] >= DENSE_HU) {
                            if (component[w] < 0) {
                                component[w] = id;
                                queue[tail++] = w;
                            }
                        }
                    }
                }
            }
            boolean compact = !leavesCrop;
            for (int axis = 0; axis < 3; axis++) {
                compact &= (hi[axis] - lo[axis] + 1) * spacing[axis] <= LESION_MAX_EXTENT_MM;
            }
            lesion.add(compact && nearMaskSeen);
        }
        int best = -1;
        boolean bestLesion = false;
        for (int v = 0; v < n; v++) {
            boolean isLesion = component[v] >= 0 && lesion.get(component[v]);
            boolean candidate = isLesion || (component[v] < 0 && mask[v] >= 0.5f);
            if (candidate && (best < 0 || (isLesion && !bestLesion)
                    || (isLesion == bestLesion && maxHu[v] > maxHu[best]))) {
                best = v;
                bestLesion = isLesion;
            }
        }
        if (best < 0) {
            return null;
        }
        return grid.positionOf(best % size[0], (best / size[0]) % size[1], best / (size[0] * size[1]));
    }

    /**
     * The lesion-contrast channel of one crop ([z, y, x]): footprint-mean HU minus the median HU of the
     * voxels more than half in the organ (numpy's median: the mean of the two middle values of an even
     * count), clipped to ± window and scaled to [-1, 1], times the organ mask dilated by a maximum filter.
     */
    static float[] contrast(float[] hu, float[] mask, int[] size, Contrast c) {
        int n = hu.length;
        double median = maskMedian(hu, mask).orElse(0);
        float[] dilated = maxFilter(mask, size, c.dilateVoxels());
        float[] out = new float[n];
        for (int v = 0; v < n; v++) {
            double d = Math.max(-1, Math.min(1, (hu[v] - median) / c.windowHu()));
            out[v] = (float) (d * dilated[v]);
        }
        return out;
    }

    /**
     * The median of {@code hu} over the voxels more than half in {@code mask} (numpy's median: the mean of the two
     * middle values of an even count); empty when there are none.
     */
    static OptionalDouble maskMedian(float[] hu, float[] mask) {
        float[] inside = new float[hu.length];
        int count = 0;
        for (int v = 0; v < hu.length; v++) {
            if (mask[v] > 0.5f) {
                inside[count++] = hu[v];
            }
        }
        if (count == 0) {
            return OptionalDouble.empty();
        }
        float[] sorted = java.util.Arrays.copyOf(inside, count);
        java.util.Arrays.sort(sorted);
        return OptionalDouble.of(count % 2 == 1 ? sorted[count / 2]
                : (sorted[count / 2 - 1] + (double) sorted[count / 2]) / 2);
    }

    /**
     * 3-D maximum filter over a (2r+1)³ cube, separable, voxels outside the grid ignored. Each pass runs along
     * contiguous rows, planes in parallel (the maximum does not depend on the order it is taken in).
     */
    static float[] maxFilter(float[] a, int[] size, int r) {
        float[] cur = a.clone();
        int nx = size[0];
        int ny = size[1];
        int nz = size[2];
        int[] stride = {1, nx, nx * ny};
        for (int axis = 0; axis < 3 && r > 0; axis++) {
            float[] in = cur;
            float[] next = new float[cur.length];
            int ax = axis;
            int n = size[axis];
            int step = stride[axis];
            java.util.stream.IntStream.range(0, nz).parallel().forEach(z -> {
                for (int y = 0; y < ny; y++) {
                    int row = (z * ny + y) * nx;
                    for (int x = 0; x < nx; x++) {
                        int v = row + x;
                        int i = ax == 0 ? x : ax == 1 ? y : z;
                        int lo = Math.max(0, i - r);
                        int hi = Math.min(n - 1, i + r);
                        float m = in[v];
                        for (int w = v + (lo - i) * step, end = v + (hi - i) * step; w <= end; w += step) {
                            m = Math.max(m, in[w]);
                        }
                        next[v] = m;
                    }
                }
            });
            cur = next;
        }
        return cur;
    }

    private static float[] floats(FloatBuffer b) {
        float[] f = new float[b.remaining()];
        b.get(f);
        return f;
    }

    @Override
    public void close() {
        closeAll(encoders.values(), text);
        if (detectors != null) {
            detectors.close();
        }
        if (dotFilters != null) {
            dotFilters.close();
        }
    }

    private static void closeAll(Iterable<OrtSession> sessions, OrtSession text) {
        for (OrtSession s : sessions) {
            InferenceEngine.closeQuietly(s);
        }
        InferenceEngine.closeQuietly(text);
    }
}

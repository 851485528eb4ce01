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
 *   "textEncoder": {"file": "text_encoder_crops.onnx", "inputs": [...], "outputs": [...]},
 *   "encoders": {"gallbladder": {"file": "crop_encoder_gallbladder.onnx", "inputs": [...], "outputs": [...]}, ...}
 * }
 * </pre>
 * Each encoder takes {@code crop} [1, C, z, y, x], {@code organ_mask} [1, 1, z, y, x] and
 * {@code box_extent} [1, 3] (the box's extent in mm / 100) and gives {@code organ_embedding}
 * [1, E], {@code finding_max} [1, F] and {@code finding_logits} [1, F, z', y', x']; z, y, x are the
 * organ's grid of the spec, checked when the sessions open.
 */
public final class CropStage implements AutoCloseable {
    static final String CROP = "crop";
    static final String ORGAN_MASK = "organ_mask";
    static final String BOX_EXTENT = "box_extent";
    static final String EMBEDDING = "organ_embedding";
    static final String FINDING_MAX = "finding_max";
    static final String FINDING_LOGITS = "finding_logits";

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
     */
    public record OrganCrop(String organ, OrganSegmentation.Side side, OrganCrops.CropGrid grid, float[] embedding,
                     float[] logits, int[] headSize) {
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

    private final OrganCrops crops;
    private final Map<String, OrtSession> encoders;
    private final OrtSession text;
    private final Map<String, Integer> findingChannels;

    private CropStage(OrganCrops crops, Map<String, OrtSession> encoders, OrtSession text,
                      Map<String, Integer> findingChannels) {
        this.crops = crops;
        this.encoders = encoders;
        this.text = text;
        this.findingChannels = findingChannels;
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
        Map<String, OrtSession> encoders = new LinkedHashMap<>();
        OrtSession text = null;
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
                if (shape.length != 5 || shape[1] != spec.channels().size() || shape[2] != g[2] || shape[3] != g[1]
                        || shape[4] != g[0]) {
                    throw new TriageException(ErrorCode.MODEL_SIGNATURE_MISMATCH, "crop encoder " + e.getKey()
                            + " takes " + java.util.Arrays.toString(shape) + ", the crop spec gives [1, "
                            + spec.channels().size() + ", " + g[2] + ", " + g[1] + ", " + g[0] + "]");
                }
            }
        } catch (TriageException | OrtException | RuntimeException e) {
            closeAll(encoders.values(), text);
            throw e;
        }
        for (AbnormalityDictionary.Finding f : pkg.dictionary().findings()) {
            if (channels.containsKey(f.id()) && !encoders.containsKey(f.organ())) {
                closeAll(encoders.values(), text);
                throw new TriageException(ErrorCode.MODEL_PACKAGE_INVALID, "finding " + f.id()
                        + " is assigned to the organ crops but there is no crop encoder for " + f.organ());
            }
        }
        return new CropStage(new OrganCrops(spec), encoders, text, channels);
    }

    /** Whether this stage scores finding {@code id}. */
    boolean scores(String id) {
        return findingChannels.containsKey(id);
    }

    /** The logit channel of a finding this stage scores. */
    int channel(String id) {
        return findingChannels.get(id);
    }

    /** The crop text encoder. */
    OrtSession textSession() {
        return text;
    }

    /** Crops and encodes every organ that has an encoder and a box in the segmentation. */
    List<OrganCrop> run(OrtEnvironment env, Volume volume, OrganSegmentation segmentation,
                        Map<String, Integer> labels) throws TriageException {
        VolumeGeometry coarse = new VolumeGeometry(segmentation.gridSize(), segmentation.spacingMm(),
                segmentation.originLps(), new double[] {1, 0, 0}, new double[] {0, 1, 0}, new double[] {0, 0, 1}, 0);
        List<OrganCrop> out = new ArrayList<>();
        for (Map.Entry<String, OrtSession> e : encoders.entrySet()) {
            OrganCropSpec.OrganGrid grid = crops.spec().organ(e.getKey());
            int label = labels.get(e.getKey());
            if (grid.bySide()) {
                OptionalDouble plane = segmentation.sidePlaneX(label);
                if (plane.isEmpty()) {
                    continue;
                }
                for (OrganSegmentation.Side side : List.of(OrganSegmentation.Side.RIGHT, OrganSegmentation.Side.LEFT)) {
                    var box = segmentation.box(label, side, plane.getAsDouble());
                    if (box.isPresent()) {
                        out.add(encode(env, e.getValue(), volume, segmentation, coarse, grid, label, side, box.get()));
                    }
                }
            } else {
                var box = segmentation.box(label, OrganSegmentation.Side.WHOLE, 0);
                if (box.isPresent()) {
                    out.add(encode(env, e.getValue(), volume, segmentation, coarse, grid, label,
                            OrganSegmentation.Side.WHOLE, box.get()));
                }
            }
        }
        return out;
    }

    private OrganCrop encode(OrtEnvironment env, OrtSession session, Volume volume, OrganSegmentation segmentation,
                             VolumeGeometry coarse, OrganCropSpec.OrganGrid organ, int label,
                             OrganSegmentation.Side side, OrganSegmentation.Box box) throws TriageException {
        double[] lo = box.minLps();
        double[] hi = box.maxLps();
        OrganCrops.CropGrid grid = crops.grid(organ, lo, hi);
        float[] x = crops.channels(volume, grid);
        float[] mask = crops.labelFraction(segmentation.labels(), coarse, grid, label);
        float[] extent = {(float) ((hi[0] - lo[0]) / 100), (float) ((hi[1] - lo[1]) / 100),
            (float) ((hi[2] - lo[2]) / 100)};
        int[] g = organ.gridSize();
        try (OnnxTensor xt = OnnxTensor.createTensor(env, FloatBuffer.wrap(x),
                new long[] {1, crops.spec().channels().size(), g[2], g[1], g[0]});
             OnnxTensor mt = OnnxTensor.createTensor(env, FloatBuffer.wrap(mask), new long[] {1, 1, g[2], g[1], g[0]});
             OnnxTensor et = OnnxTensor.createTensor(env, FloatBuffer.wrap(extent), new long[] {1, 3});
             OrtSession.Result r = session.run(Map.of(CROP, xt, ORGAN_MASK, mt, BOX_EXTENT, et))) {
            OnnxTensor emb = (OnnxTensor) r.get(EMBEDDING).orElseThrow();
            OnnxTensor logits = (OnnxTensor) r.get(FINDING_LOGITS).orElseThrow();
            long[] ls = logits.getInfo().getShape();
            return new OrganCrop(organ.name(), side, grid, floats(emb.getFloatBuffer()), floats(logits.getFloatBuffer()),
                    new int[] {(int) ls[4], (int) ls[3], (int) ls[2]});
        } catch (OrtException e) {
            throw new TriageException(ErrorCode.INFERENCE_FAILED, "crop encoder " + organ.name() + " failed: "
                    + e.getMessage(), e);
        }
    }

    private static float[] floats(FloatBuffer b) {
        float[] f = new float[b.remaining()];
        b.get(f);
        return f;
    }

    @Override
    public void close() {
        closeAll(encoders.values(), text);
    }

    private static void closeAll(Iterable<OrtSession> sessions, OrtSession text) {
        for (OrtSession s : sessions) {
            InferenceEngine.closeQuietly(s);
        }
        InferenceEngine.closeQuietly(text);
    }
}

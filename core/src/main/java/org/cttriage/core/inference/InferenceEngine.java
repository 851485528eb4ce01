package org.cttriage.core.inference;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.ConcurrentHashMap;
import org.cttriage.core.domain.FindingLocation;
import org.cttriage.core.domain.FindingResult;
import org.cttriage.core.domain.Priority;
import org.cttriage.core.domain.TriageResult;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.volume.Volume;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a model package on CT volumes: preprocess as the manifest says, run the image encoder
 * once, score every finding zero-shot against its prompts (embedded once and cached), and
 * return a {@link TriageResult}. Sessions are created once and shared; ONNX Runtime sessions
 * are thread-safe for concurrent {@code run} calls, so one engine serves many threads.
 */
public final class InferenceEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(InferenceEngine.class);
    private static final String IMAGE_INPUT = "image";
    private static final String PROBABILITIES = "organ_probabilities";
    private static final String EMBEDDINGS = "organ_embeddings";
    private static final String REFINED = "refined_probabilities";
    private static final String TOKENS = "token_ids";
    private static final String TEXT_EMBEDDING = "text_embedding";

    private final ModelPackage pkg;
    private final EngineOptions options;
    private final OrtEnvironment env;
    private final OrtSession imageSession;
    private final OrtSession textSession;
    private final OrtSession refinerSession; // null: the labels are the image encoder's
    private final Preprocessor preprocessor;
    private final Tokenizer tokenizer;
    private final String deviceInUse;
    private final Map<String, EmbeddedPrompt> promptCache = new ConcurrentHashMap<>();
    private final Map<String, EmbeddedPrompt> cropPromptCache = new ConcurrentHashMap<>();
    private final CropStage crops; // null: a single-stage package
    private final int embeddingSize;

    /** What the image encoder produced for one volume. */
    public record ImageOutput(float[] organEmbeddings, byte[] organLabels, int organs, int embeddingSize) {
        /** Embedding of organ with label {@code label} (1-based). */
        public float[] organ(int label) {
            return Arrays.copyOfRange(organEmbeddings, (label - 1) * embeddingSize, label * embeddingSize);
        }
    }

    /**
     * A triage result with what it came from: the image encoder's output, the organ segmentation
     * placed in the patient (for evaluation, key images and the DICOM SEG) and, with a two-stage
     * package, the organ crops and their encoders' output (empty otherwise).
     */
    public record Analysis(TriageResult result, ImageOutput image, OrganSegmentation segmentation,
                           List<CropStage.OrganCrop> crops) {
        public Analysis {
            crops = List.copyOf(crops);
        }
    }

    /** Prompts embedded on demand, with the words the vocabulary lacked. */
    public record PromptEmbeddings(List<float[]> embeddings, List<String> unknownWords) {
    }

    /** Opens the package's sessions on the chosen device and checks them against the manifest. */
    public InferenceEngine(ModelPackage pkg, EngineOptions options) throws TriageException {
        this.pkg = pkg;
        this.options = options;
        this.preprocessor = new Preprocessor(pkg.preprocessing());
        this.tokenizer = pkg.tokenizer();
        OnnxRuntimeNatives.prepare();
        this.env = OrtEnvironment.getEnvironment();
        boolean cudaAvailable = OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA);
        boolean useCuda = switch (options.device()) {
            case CPU -> false;
            case CUDA -> {
                if (!cudaAvailable) {
                    throw new TriageException(ErrorCode.DEVICE_UNAVAILABLE, "device CUDA requested but this ONNX Runtime"
                            + " build has no CUDA provider (build with -Pgpu and install CUDA 12 + cuDNN 9)");
                }
                yield true;
            }
            case AUTO -> cudaAvailable;
        };
        OrtSession image = null;
        OrtSession text = null;
        OrtSession refiner = null;
        CropStage stage = null;
        String device = useCuda ? "cuda:" + options.cudaDeviceId() : "cpu";
        try {
            try {
                image = open(ModelPackage.imageEncoderFile(pkg.manifest()), options, useCuda);
                text = open(ModelPackage.textEncoderFile(pkg.manifest()), options, useCuda);
            } catch (OrtException e) {
                if (!useCuda || options.device() == EngineOptions.Device.CUDA) {
                    throw e;
                }
                LOG.warn("TRIAGE-0404 CUDA provider present but unusable ({}); falling back to CPU", e.getMessage());
                closeQuietly(image);
                device = "cpu";
                image = open(ModelPackage.imageEncoderFile(pkg.manifest()), options, false);
                text = open(ModelPackage.textEncoderFile(pkg.manifest()), options, false);
            }
            if (options.device() == EngineOptions.Device.AUTO && !useCuda) {
                LOG.info("inference on CPU: no CUDA provider in this ONNX Runtime build");
            }
            checkSignature(image, pkg.manifest().path("imageEncoder"), "image encoder");
            checkSignature(text, pkg.manifest().path("textEncoder"), "text encoder");
            boolean cuda = device.startsWith("cuda");
            JsonNode refinerNode = pkg.manifest().path("segmentationRefiner");
            if (!refinerNode.isMissingNode()) {
                refiner = open(refinerNode.path("file").asText(), options, cuda);
                checkSignature(refiner, refinerNode, "segmentation refiner");
            }
            stage = CropStage.open(pkg, file -> open(file, options, cuda));
        } catch (OrtException e) {
            closeQuietly(image);
            closeQuietly(text);
            closeQuietly(refiner);
            throw new TriageException(options.device() == EngineOptions.Device.CUDA ? ErrorCode.DEVICE_UNAVAILABLE
                    : ErrorCode.MODEL_PACKAGE_INVALID, "cannot open ONNX session: " + e.getMessage(), e);
        } catch (TriageException e) {
            closeQuietly(image);
            closeQuietly(text);
            closeQuietly(refiner);
            throw e;
        }
        this.imageSession = image;
        this.textSession = text;
        this.refinerSession = refiner;
        this.crops = stage;
        this.deviceInUse = device;
        this.embeddingSize = (int) pkg.manifest().path("imageEncoder").path("outputs").get(1).path("shape").get(2).asLong();
        // Embed every dictionary prompt once, now, so the first study pays nothing for it.
        List<String> prompts = new ArrayList<>();
        for (AbnormalityDictionary.Finding f : pkg.dictionary().findings()) {
            prompts.addAll(f.positive());
            prompts.addAll(f.negative());
            prompts.addAll(f.heldOutPositive());
            prompts.addAll(f.heldOutNegative());
        }
        try {
            embed(prompts);
            if (crops != null) {
                embed(prompts, crops.textSession(), cropPromptCache);
            }
        } catch (TriageException e) {
            close(); // the sessions are open: do not leak them when start-up fails here
            throw e;
        }
    }

    private OrtSession open(String file, EngineOptions options, boolean cuda) throws OrtException {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        if (options.intraOpThreads() > 0) {
            so.setIntraOpNumThreads(options.intraOpThreads());
        }
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        if (cuda) {
            so.addCUDA(options.cudaDeviceId());
        } else {
            // A study runs a dozen sessions one after another with Java work (crops, filters) between them, each
            // session with its own intra-op pool: a pool's threads that spin for work after its run take the cores
            // from the next step. Off, bench-model ran 2588 ms against 2906 ms (means of four pairs, 2 CPUs,
            // docs/benchmarks.md); the outputs do not change (the same threads, the same kernels).
            so.addConfigEntry("session.intra_op.allow_spinning", "0");
        }
        return env.createSession(pkg.folder().resolve(file).toString(), so);
    }

    /** The manifest's declared inputs/outputs must be exactly the session's (names, types, shapes). */
    static void checkSignature(OrtSession s, JsonNode declared, String what) throws TriageException, OrtException {
        check(s.getInputInfo(), declared.path("inputs"), what + " input");
        check(s.getOutputInfo(), declared.path("outputs"), what + " output");
    }

    private static void check(Map<String, NodeInfo> actual, JsonNode declared, String what) throws TriageException {
        if (actual.size() != declared.size()) {
            throw new TriageException(ErrorCode.MODEL_SIGNATURE_MISMATCH, what + "s: model has " + actual.keySet()
                    + ", manifest declares " + declared.size());
        }
        for (JsonNode d : declared) {
            String name = d.path("name").asText();
            NodeInfo info = actual.get(name);
            if (info == null || !(info.getInfo() instanceof TensorInfo t)) {
                throw new TriageException(ErrorCode.MODEL_SIGNATURE_MISMATCH, what + " " + name
                        + " declared in manifest.json is not a tensor of the model (model has " + actual.keySet() + ")");
            }
            String dtype = d.path("dtype").asText();
            OnnxJavaType expected = "int64".equals(dtype) ? OnnxJavaType.INT64 : "float32".equals(dtype) ? OnnxJavaType.FLOAT : null;
            if (t.type != expected) {
                throw new TriageException(ErrorCode.MODEL_SIGNATURE_MISMATCH, what + " " + name + " is " + t.type
                        + ", manifest.json says " + dtype);
            }
            long[] shape = t.getShape();
            JsonNode ds = d.path("shape");
            boolean same = shape.length == ds.size();
            for (int i = 0; same && i < shape.length; i++) {
                long want = ds.get(i).asLong();
                same = want < 0 ? shape[i] < 0 || shape[i] > 0 : shape[i] == want || shape[i] < 0 && want > 0;
            }
            if (!same) {
                throw new TriageException(ErrorCode.MODEL_SIGNATURE_MISMATCH, what + " " + name + " has shape "
                        + Arrays.toString(shape) + ", manifest.json says " + ds);
            }
        }
    }

    /** The package in use. */
    public ModelPackage modelPackage() {
        return pkg;
    }

    /** "cpu" or "cuda:N". */
    public String device() {
        return deviceInUse;
    }

    /** Embeds prompts (cached), reporting words outside the vocabulary instead of dropping them silently. */
    public PromptEmbeddings embed(List<String> prompts) throws TriageException {
        return embed(prompts, textSession, promptCache);
    }

    private PromptEmbeddings embed(List<String> prompts, OrtSession session, Map<String, EmbeddedPrompt> cache)
            throws TriageException {
        List<String> missing = prompts.stream().filter(p -> !cache.containsKey(p)).distinct().toList();
        if (!missing.isEmpty()) {
            int n = missing.size();
            int len = tokenizer.maxTokens();
            long[] ids = new long[n * len];
            List<Tokenizer.Tokens> tokens = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                Tokenizer.Tokens t = tokenizer.tokenize(missing.get(i));
                tokens.add(t);
                System.arraycopy(t.ids(), 0, ids, i * len, len);
            }
            try (OnnxTensor in = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {n, len});
                 OrtSession.Result r = session.run(Map.of(TOKENS, in))) {
                FloatBuffer fb = ((OnnxTensor) r.get(TEXT_EMBEDDING).orElseThrow()).getFloatBuffer();
                int d = fb.remaining() / n;
                for (int i = 0; i < n; i++) {
                    float[] e = new float[d];
                    fb.get(e);
                    cache.put(missing.get(i), new EmbeddedPrompt(e, tokens.get(i).unknownWords()));
                }
            } catch (OrtException e) {
                throw new TriageException(ErrorCode.INFERENCE_FAILED, "text encoder failed: " + e.getMessage(), e);
            }
        }
        List<float[]> out = new ArrayList<>(prompts.size());
        List<String> unknown = new ArrayList<>();
        for (String p : prompts) {
            EmbeddedPrompt e = cache.get(p);
            out.add(e.embedding());
            unknown.addAll(e.unknownWords());
        }
        return new PromptEmbeddings(out, unknown.stream().distinct().toList());
    }

    /** A prompt's embedding with the words the vocabulary lacked, so each prompt is tokenized once. */
    private record EmbeddedPrompt(float[] embedding, List<String> unknownWords) {
    }

    /** Runs the image encoder on a preprocessed input. */
    public ImageOutput encode(float[] input) throws TriageException {
        int[] g = pkg.preprocessing().gridSize();
        try (OrtSession.Result r = runImageEncoder(input)) {
            FloatBuffer probs = ((OnnxTensor) r.get(PROBABILITIES).orElseThrow()).getFloatBuffer();
            FloatBuffer emb = ((OnnxTensor) r.get(EMBEDDINGS).orElseThrow()).getFloatBuffer();
            int voxels = g[0] * g[1] * g[2];
            int classes = probs.remaining() / voxels;
            float[] p = new float[probs.remaining()];
            probs.get(p);
            if (refinerSession != null) {
                p = refine(input, p);
            }
            byte[] labels = mostProbable(p, classes, voxels);
            float[] e = new float[emb.remaining()];
            emb.get(e);
            return new ImageOutput(e, labels, classes - 1, e.length / (classes - 1));
        } catch (OrtException e) {
            throw new TriageException(ErrorCode.INFERENCE_FAILED, "image encoder failed: " + e.getMessage(), e);
        }
    }

    /**
     * The image encoder's {@code organ_probabilities} of a preprocessed input, [class, z, y, x]
     * flattened, before any segmentation refiner: what a refiner is trained on
     * ({@code ct-triage evaluate --segmentation-dump}).
     */
    public float[] organProbabilities(float[] input) throws TriageException {
        try (OrtSession.Result r = runImageEncoder(input)) {
            FloatBuffer probs = ((OnnxTensor) r.get(PROBABILITIES).orElseThrow()).getFloatBuffer();
            float[] p = new float[probs.remaining()];
            probs.get(p);
            return p;
        } catch (OrtException e) {
            throw new TriageException(ErrorCode.INFERENCE_FAILED, "image encoder failed: " + e.getMessage(), e);
        }
    }

    /**
     * The segmentation refiner's organ probabilities (manifest {@code segmentationRefiner}): a small
     * network on the image encoder's input and its organ probabilities that gives the labels; the
     * organ embeddings stay the image encoder's.
     */
    private float[] refine(float[] input, float[] probabilities) throws OrtException {
        int[] g = pkg.preprocessing().gridSize();
        long[] in = {1, pkg.preprocessing().channels().size(), g[2], g[1], g[0]};
        long[] pr = {1, probabilities.length / ((long) g[0] * g[1] * g[2]), g[2], g[1], g[0]};
        try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(input), in);
             OnnxTensor p = OnnxTensor.createTensor(env, FloatBuffer.wrap(probabilities), pr);
             OrtSession.Result r = refinerSession.run(Map.of(IMAGE_INPUT, x, PROBABILITIES, p))) {
            FloatBuffer out = ((OnnxTensor) r.get(REFINED).orElseThrow()).getFloatBuffer();
            float[] refined = new float[out.remaining()];
            out.get(refined);
            return refined;
        }
    }

    private OrtSession.Result runImageEncoder(float[] input) throws OrtException {
        int[] g = pkg.preprocessing().gridSize();
        long[] shape = {1, pkg.preprocessing().channels().size(), g[2], g[1], g[0]};
        try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(input), shape)) {
            return imageSession.run(Map.of(IMAGE_INPUT, in));
        }
    }

    /** Each voxel's most probable class. */
    private static byte[] mostProbable(float[] p, int classes, int voxels) {
        byte[] labels = new byte[voxels];
        for (int v = 0; v < voxels; v++) {
            int best = 0;
            float bestP = p[v];
            for (int c = 1; c < classes; c++) {
                if (p[c * voxels + v] > bestP) {
                    bestP = p[c * voxels + v];
                    best = c;
                }
            }
            labels[v] = (byte) best;
        }
        return labels;
    }

    /** Triage of one volume with the dictionary's findings. */
    public TriageResult analyze(Volume volume) throws TriageException {
        return analyzeWithImage(volume, List.of()).result();
    }

    /**
     * Triage of one volume with the dictionary's findings plus {@code extra} ones (added at run
     * time, in words; uncalibrated ones use the dictionary's median temperature, bias 0, threshold 0.5).
     */
    public Analysis analyzeWithImage(Volume volume, List<AbnormalityDictionary.Finding> extra) throws TriageException {
        long t0 = System.nanoTime();
        float[] input = preprocessor.preprocess(volume);
        long t1 = System.nanoTime();
        ImageOutput image = encode(input);
        long t2 = System.nanoTime();
        List<FindingResult> findings = new ArrayList<>();
        Priority priority = Priority.ROUTINE;
        List<AbnormalityDictionary.Finding> all = new ArrayList<>(pkg.dictionary().findings());
        all.addAll(extra);
        int[] grid = pkg.preprocessing().gridSize();
        OrganSegmentation segmentation = new OrganSegmentation(image.organLabels(), grid,
                preprocessor.gridOrigin(volume.geometry()), pkg.preprocessing().spacingMm());
        List<CropStage.OrganCrop> organCrops = List.of();
        long tc = System.nanoTime();
        long detectorNanos = 0;
        if (crops != null) {
            CropStage.Run run = crops.run(env, volume, segmentation);
            organCrops = run.crops();
            detectorNanos = run.detectorNanos();
        }
        long td = System.nanoTime();
        for (AbnormalityDictionary.Finding f : all) {
            Score score = score(image, organCrops, f, f.positive(), f.negative());
            double p = score.probability(f);
            boolean present = f.reportable() && p >= f.threshold();
            AbnormalityDictionary.Organ organ = pkg.dictionary().organs().get(f.organ());
            Priority severity = options.severity(f.id(), f.severity());
            FindingLocation location = present ? locate(volume, segmentation, score, f) : null;
            findings.add(new FindingResult(f.id(), f.organ(), f.code(), organ.code(), p, f.threshold(), f.reportable(),
                    present, severity, location));
            if (present) {
                priority = priority.max(severity);
            }
        }
        long t3 = System.nanoTime();
        Map<String, Double> volumes = new LinkedHashMap<>();
        int[] counts = new int[image.organs() + 1];
        for (byte b : image.organLabels()) {
            counts[b]++;
        }
        for (AbnormalityDictionary.Organ o : pkg.dictionary().organs().values()) {
            volumes.put(o.id(), counts[o.label()] * preprocessor.voxelVolumeMm3() / 1000.0);
        }
        Map<String, Long> timings = new LinkedHashMap<>();
        timings.put("preprocess", (t1 - t0) / 1_000_000);
        timings.put("imageEncoder", (t2 - t1) / 1_000_000);
        if (crops != null) {
            timings.put("organCrops", (td - tc) / 1_000_000);
            if (detectorNanos > 0) {
                timings.put("lesionDetectors", detectorNanos / 1_000_000); // part of organCrops
            }
        }
        timings.put("scoring", (t3 - t2 - (td - tc)) / 1_000_000);
        timings.put("total", (System.nanoTime() - t0) / 1_000_000);
        return new Analysis(new TriageResult(volume.studyInstanceUid(), volume.seriesInstanceUid(), volume.sourceInstances(),
                findings, volumes, priority, pkg.identity(), timings), image, segmentation, organCrops);
    }

    /**
     * Where the engine places finding {@code f} in {@code volume}, whether or not it is called present
     * (the result carries a location only for findings called present): the peak of its organ's lesion detector
     * for a finding of {@code organCrops.detectorFindings}; the strongest voxel of its logit
     * map when the organ crops score it otherwise (for a finding of {@code organCrops.densestVoxelFindings}, the calcified
     * lesion {@link CropStage#densest} finds on the crop that scored it), else the centre of its organ. {@code score}
     * is the finding's {@link #score(Analysis, AbnormalityDictionary.Finding, List, List)} with its own prompts (it
     * names the crop that scored it). {@code ct-triage evaluate} measures with it how often the model points at the
     * lesion on every positive case, calibration aside.
     */
    public FindingLocation locate(Volume volume, Analysis analysis, Score score, AbnormalityDictionary.Finding f) {
        return locate(volume, analysis.segmentation(), score, f);
    }

    private FindingLocation locate(Volume volume, OrganSegmentation segmentation, Score score,
                                   AbnormalityDictionary.Finding f) {
        if (score.crop() == null) {
            return organLocation(volume, segmentation, pkg.dictionary().organs().get(f.organ()).label());
        }
        LesionDetectors.Lesion lesion = score.crop().lesions().get(f.id());
        if (crops.scoresByDetector(f.id()) && lesion != null && lesion.pointLps() != null) {
            return locationAt(volume, lesion.pointLps(), FindingLocation.MODEL);
        }
        double[] point = crops.locatesAtDensestVoxel(f.id()) && score.crop().densestLps() != null
                ? score.crop().densestLps() : score.crop().strongest(crops.channel(f.id()));
        return locationAt(volume, point, FindingLocation.MODEL);
    }

    /**
     * Where a finding is when the model gives no finding location: the centre of its organ in the
     * segmentation and the received slice nearest to it. Null when the volume's slices are not
     * known or the organ was not segmented.
     */
    static FindingLocation organLocation(Volume volume, OrganSegmentation segmentation, int organLabel) {
        return segmentation.organCentre(organLabel)
                .map(point -> locationAt(volume, point, FindingLocation.ORGAN_CENTRE)).orElse(null);
    }

    /**
     * A finding at {@code point} (LPS mm), found by {@code method}, on the received slice nearest to
     * it; null when the volume's slices are not known.
     */
    static FindingLocation locationAt(Volume volume, double[] point, String method) {
        int k = (int) Math.round(volume.geometry().indexOf(point)[2]);
        return volume.nearestReceivedSlice(k).map(s -> new FindingLocation(List.of(point[0], point[1], point[2]),
                s.sopClassUid(), s.sopInstanceUid(), s.frameNumber(), method)).orElse(null);
    }

    /**
     * A finding's margin (mean cosine with the positive prompts minus the mean with the negative
     * ones, before calibration; for a finding the crops score by their finding head, the head's
     * largest logit) and, when the organ crops scored it, the crop that gave it (the larger of the
     * two sides' margins for a paired organ).
     */
    public record Score(double margin, CropStage.OrganCrop crop) {
        /** The calibrated probability. */
        public double probability(AbnormalityDictionary.Finding f) {
            return 1.0 / (1.0 + Math.exp(-(margin / f.temperature() + f.bias())));
        }
    }

    /**
     * The zero-shot score of one finding with the given prompts (the manifest's scoring rule) on the
     * coarse organ embedding; for a finding of a two-stage package's organ crops use
     * {@link #score(Analysis, AbnormalityDictionary.Finding, List, List)}.
     */
    public double probability(ImageOutput image, AbnormalityDictionary.Finding f, List<String> positive,
                              List<String> negative) throws TriageException {
        return score(image, List.of(), f, positive, negative).probability(f);
    }

    /**
     * The zero-shot score of one finding of an analysis with the given prompts: on the organ crops
     * when the package's second stage scores the finding, otherwise on the coarse organ embedding.
     * A finding the crops score by their finding head (manifest {@code organCrops.headFindings}) gets
     * the head's score whatever the prompts.
     */
    public Score score(Analysis analysis, AbnormalityDictionary.Finding f, List<String> positive,
                       List<String> negative) throws TriageException {
        return score(analysis.image(), analysis.crops(), f, positive, negative);
    }

    private Score score(ImageOutput image, List<CropStage.OrganCrop> organCrops, AbnormalityDictionary.Finding f,
                        List<String> positive, List<String> negative) throws TriageException {
        if (crops != null && crops.scoresByDetector(f.id())) {
            Score best = null;
            for (CropStage.OrganCrop c : organCrops) {
                LesionDetectors.Lesion lesion = c.lesions().get(f.id());
                if (lesion != null && (best == null || lesion.logit() > best.margin())) {
                    best = new Score(lesion.logit(), c);
                }
            }
            // no box for the organ: a logit far below any the detector gives (its probabilities are clamped to 1e-6)
            return best != null ? best : new Score(-1e3, null);
        }
        if (crops != null && crops.scoresByHead(f.id())) {
            int channel = crops.channel(f.id());
            Score best = null;
            for (CropStage.OrganCrop c : organCrops) {
                if (c.organ().equals(f.organ())) {
                    double peak = c.peak(channel);
                    if (best == null || peak > best.margin()) {
                        best = new Score(peak, c);
                    }
                }
            }
            // no box for the organ: a logit far below any the head gives
            return best != null ? best : new Score(-1e3, null);
        }
        if (crops != null && crops.scores(f.id())) {
            List<float[]> pos = embed(positive, crops.textSession(), cropPromptCache).embeddings();
            List<float[]> neg = embed(negative, crops.textSession(), cropPromptCache).embeddings();
            Score best = null;
            for (CropStage.OrganCrop c : organCrops) {
                if (c.organ().equals(f.organ())) {
                    double m = meanCosine(c.embedding(), pos) - meanCosine(c.embedding(), neg);
                    if (best == null || m > best.margin()) {
                        best = new Score(m, c);
                    }
                }
            }
            if (best != null) {
                return best;
            }
            // The coarse stage found no box for the organ: no crop, nothing this stage can see; the
            // lowest margin there is (cosines differ by at most 2).
            return new Score(-2.0, null);
        }
        return new Score(coarseMargin(image, f, positive, negative), null);
    }

    /**
     * What the organ crops' finding head says of finding {@code f} (before calibration), the larger of
     * the two sides for a paired organ: {@code organMax} is the encoder's maximum of the finding's logit
     * map inside the organ mask ({@code finding_max}), {@code peak} the maximum anywhere in the crop.
     * Empty when the package's crops do not score the finding or found no box for its organ.
     * {@code ct-triage evaluate --margins} writes both, so that a package can be calibrated on them.
     */
    public Optional<HeadScore> head(Analysis analysis, AbnormalityDictionary.Finding f) {
        if (crops == null || !crops.scores(f.id())) {
            return Optional.empty();
        }
        int channel = crops.channel(f.id());
        HeadScore best = null;
        for (CropStage.OrganCrop c : analysis.crops()) {
            if (c.organ().equals(f.organ())) {
                HeadScore h = new HeadScore(c.findingMax()[channel], c.peak(channel));
                best = best == null ? h
                        : new HeadScore(Math.max(best.organMax(), h.organMax()), Math.max(best.peak(), h.peak()));
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * What the package's lesion detector says of finding {@code f} (before calibration): the logit of its peak
     * probability in the dilated organ mask, the larger of the two sides for a paired organ, whether or not the
     * package scores the finding by it. Empty when no detector covers the finding or no box was found for its
     * organ. {@code ct-triage evaluate --margins} writes it ({@code detectorPeak}) so that calibration can choose it.
     */
    public OptionalDouble detector(Analysis analysis, AbnormalityDictionary.Finding f) {
        if (crops == null || !crops.detects(f.id())) {
            return OptionalDouble.empty();
        }
        OptionalDouble best = OptionalDouble.empty();
        for (CropStage.OrganCrop c : analysis.crops()) {
            LesionDetectors.Lesion lesion = c.lesions().get(f.id());
            if (lesion != null && (best.isEmpty() || lesion.logit() > best.getAsDouble())) {
                best = OptionalDouble.of(lesion.logit());
            }
        }
        return best;
    }

    /** A finding head's logit maxima: inside the organ mask, and anywhere in the crop. */
    public record HeadScore(double organMax, double peak) {
    }

    /**
     * A finding's margin on the coarse stage's organ embedding, whichever stage scores it in this
     * package: with a two-stage package, what the single-stage model makes of the same case (for
     * comparing the two on the same volumes).
     */
    public double coarseMargin(ImageOutput image, AbnormalityDictionary.Finding f, List<String> positive,
                               List<String> negative) throws TriageException {
        int label = pkg.dictionary().organs().get(f.organ()).label();
        float[] organ = image.organ(label);
        return meanCosine(organ, embed(positive).embeddings()) - meanCosine(organ, embed(negative).embeddings());
    }

    private static double meanCosine(float[] a, List<float[]> bs) {
        double sum = 0;
        for (float[] b : bs) {
            double dot = 0;
            double na = 0;
            double nb = 0;
            for (int i = 0; i < a.length; i++) {
                dot += a[i] * b[i];
                na += a[i] * a[i];
                nb += b[i] * b[i];
            }
            sum += dot / Math.sqrt(na * nb);
        }
        return sum / bs.size();
    }

    /** A finding added at run time from words, scored with the package's median calibration. */
    public AbnormalityDictionary.Finding customFinding(String id, String organ, List<String> positive,
                                                       List<String> negative, Priority severity) {
        if (!id.matches("[a-z0-9_]{1,16}")) {
            throw new IllegalArgumentException("finding id must be 1-16 characters of a-z, 0-9 and _ (it becomes a"
                    + " DICOM code value); was " + id);
        }
        if (!pkg.dictionary().organs().containsKey(organ)) {
            throw new IllegalArgumentException("organ must be one of " + pkg.dictionary().organs().keySet() + "; was " + organ);
        }
        double[] temps = pkg.dictionary().findings().stream().mapToDouble(AbnormalityDictionary.Finding::temperature)
                .sorted().toArray();
        double median = temps[temps.length / 2];
        return new AbnormalityDictionary.Finding(id, organ,
                new org.cttriage.core.domain.CodedConcept("99CTTRIAGE", id, String.join(" / ", positive)), severity,
                positive, negative, List.of(), List.of(), median, 0.0, 0.5, true);
    }

    @Override
    public void close() {
        closeQuietly(imageSession);
        closeQuietly(textSession);
        closeQuietly(refinerSession);
        if (crops != null) {
            crops.close();
        }
    }

    static void closeQuietly(OrtSession s) {
        if (s != null) {
            try {
                s.close();
            } catch (OrtException e) {
                LOG.warn("closing ONNX session failed: {}", e.getMessage());
            }
        }
    }
}

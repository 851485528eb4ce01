package org.cttriage.plugin.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.stream.Stream;
import org.cttriage.core.domain.FindingLocation;
import org.cttriage.core.domain.FindingResult;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.inference.AbnormalityDictionary;
import org.cttriage.core.inference.BinaryMetrics;
import org.cttriage.core.inference.InferenceEngine;
import org.cttriage.core.inference.Preprocessor;
import org.cttriage.core.volume.AssemblyPolicy;
import org.cttriage.core.volume.SelectionPolicy;
import org.cttriage.core.volume.StudyVolumeBuilder;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.dicom.SeriesWriteOptions;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.FindingTruth;
import org.cttriage.testdata.phantom.Phantom;
import org.cttriage.testdata.phantom.PhantomFinding;
import org.cttriage.testdata.phantom.PhantomGenerator;
import org.cttriage.testdata.phantom.PhantomScene;
import org.cttriage.testdata.phantom.PhantomSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code ct-triage evaluate}: fresh phantoms through the full product path (DICOM files →
 * volume → engine), scored against their ground truth.
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Generates N fresh phantoms with random findings from seed S, writes each as DICOM, builds the volume",
            "and runs the engine, then prints per finding AUC, sensitivity and specificity at the threshold and F1,",
            "the AUC with the held-out paraphrased prompts, the Dice of each organ's segmentation and, for the",
            "focal findings, how often the reported point hits the lesion (inside it or within 10 mm of its",
            "centre) on the true positives, and on every positive case whether called present or not.",
            "Use seeds below 1000000: seeds from 1000000 up are used for training and calibration."})
final class EvaluateCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    @Option(names = "--seed", required = true, description = "First phantom seed (below 1000000).")
    long seed;

    @Option(names = "--cases", defaultValue = "100", description = "Number of phantoms (default: ${DEFAULT-VALUE}).")
    int cases;

    @Option(names = "--findings", split = ",", paramLabel = "ID", description = {
        "Insert these findings (comma-separated ids, as generate --findings) in every phantom, besides the ones drawn",
        "at random: an enriched set for a finding too rare among random phantoms to rank. Its AUC needs negatives:",
        "rank its margins (--margins) against a random evaluation's (models/ctglip-ref/experiments/enriched_auc.py)."})
    List<String> insertFindings = new ArrayList<>();

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the figures as JSON to FILE.")
    Path json;

    @Option(names = "--margins", paramLabel = "FILE", description = {
        "Also write each case's uncalibrated margin per finding (training and held-out prompts) and its truth",
        "as JSON to FILE, and the coarse stage's margin of every finding (a two-stage package's single-stage",
        "baseline on the same cases) and, for a finding of the organ crops, the finding head's logit maximum",
        "inside the organ mask and anywhere in the crop, and for a finding a lesion detector covers the logit of",
        "its peak probability (detectorPeak): what models/ctglip-ref/package_v2.py calibrates and compares on."})
    Path margins;

    @Option(names = "--segmentation-dump", paramLabel = "DIR", description = {
        "Also write, per case, the image encoder's input (case-N.input) and organ probabilities",
        "(case-N.probabilities), float32 little-endian [channel or class, z, y, x], and the phantom's organ labels on",
        "the same grid (case-N.labels: one byte per voxel) to DIR, with grid.json: what",
        "models/ctglip-ref/seg_refiner.py trains a segmentation refiner on (before the package's own refiner)."})
    Path segmentationDump;

    @Option(names = "--crop-dump", paramLabel = "DIR", description = {
        "Also write, per case (DIR/case-NNNNN), the organ crops of --crop-dump-spec as serving makes them from the",
        "served segmentation's boxes, in the files of generate --training-crops (NAME.hu.npy, NAME.organ.npy: the",
        "served coarse mask), with the training path's rendering of the same grid beside them (NAME.render-hu.npy,",
        "NAME.render-organ.npy) and truth.json: for the experiments to run on what the engine sees."})
    Path cropDump;

    @Option(names = "--crop-dump-spec", paramLabel = "CROPS.json",
            description = "The crop spec of --crop-dump (e.g. models/ctglip-ref/experiments/organ-crops-lung-1.5mm.json).")
    Path cropDumpSpec;

    @Option(names = "--matrix", defaultValue = "128", description = "Phantom matrix (default: ${DEFAULT-VALUE}).")
    int matrix;

    @Option(names = "--slices", defaultValue = "96", description = "Phantom slices (default: ${DEFAULT-VALUE}).")
    int slices;

    @Option(names = "--slice-spacing", defaultValue = "3.75", description = "Slice spacing, mm (default: ${DEFAULT-VALUE}).")
    double sliceSpacing;

    @Mixin
    ModelOptions model;

    @Mixin
    ThreadsOption threads;

    @Override
    public Integer call() throws Exception {
        if (seed >= 1_000_000 && seed < 3_000_000) {
            spec.commandLine().getErr().println("warning: seeds 1000000..2999999 are training/calibration seeds;"
                    + " figures on them are not an evaluation");
        }
        if ((cropDump == null) != (cropDumpSpec == null)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--crop-dump and --crop-dump-spec go together");
        }
        Set<PhantomFinding> inserted = GenerateCommand.findingsOf(spec, insertFindings);
        ServedCrops served = null;
        if (cropDumpSpec != null) {
            try {
                served = new ServedCrops(org.cttriage.core.inference.OrganCropSpec.fromJson(
                        JSON.readTree(cropDumpSpec.toFile())));
            } catch (java.io.IOException | IllegalArgumentException e) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--crop-dump-spec "
                        + cropDumpSpec + ": " + e.getMessage());
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        ExecutorService pool = threads.newPool();
        Path work = Files.createTempDirectory("ct-triage-evaluate");
        try (InferenceEngine engine = model.open()) {
            AbnormalityDictionary dict = engine.modelPackage().dictionary();
            List<AbnormalityDictionary.Finding> findings = dict.findings();
            double[][] scores = new double[findings.size()][cases];
            double[][] heldOut = new double[findings.size()][cases];
            double[][] margin = new double[findings.size()][cases];
            double[][] heldOutMargin = new double[findings.size()][cases];
            double[][] coarseMargin = new double[findings.size()][cases];
            double[][] headMax = new double[findings.size()][cases]; // NaN: no organ-crop head for it
            double[][] headPeak = new double[findings.size()][cases];
            double[][] detectorPeak = new double[findings.size()][cases]; // NaN: no lesion detector for it
            boolean[][] truth = new boolean[findings.size()][cases];
            double[][] dice = new double[dict.organs().size()][cases];
            // location of the focal findings: on the true positives, and on every positive case
            Tally[] hitCalled = new Tally[findings.size()];
            Tally[] hitAny = new Tally[findings.size()];
            java.util.Arrays.fill(hitCalled, Tally.NONE);
            java.util.Arrays.fill(hitAny, Tally.NONE);
            Preprocessor preprocessor = new Preprocessor(engine.modelPackage().preprocessing());
            StudyVolumeBuilder builder = new StudyVolumeBuilder(SelectionPolicy.defaults(), AssemblyPolicy.defaults(), pool);
            long t0 = System.nanoTime();
            for (int c = 0; c < cases; c++) {
                PhantomScene scene = PhantomScene.plan(new PhantomSpec(seed + c, matrix, matrix, slices,
                        400.0 / matrix, sliceSpacing, sliceSpacing, ContrastPhase.NONE, inserted, true));
                Phantom phantom = new PhantomGenerator().generate(scene, pool);
                Path dir = work.resolve("case");
                new CtSeriesWriter().write(phantom, SeriesWriteOptions.defaults(), dir);
                StudyVolumeBuilder.Outcome o = builder.build(dir);
                if (!(o instanceof StudyVolumeBuilder.Built built)) {
                    throw ((StudyVolumeBuilder.NotBuilt) o).reason();
                }
                InferenceEngine.Analysis a = engine.analyzeWithImage(built.volume(), List.of());
                for (int f = 0; f < findings.size(); f++) {
                    AbnormalityDictionary.Finding fd = findings.get(f);
                    String id = fd.id();
                    truth[f][c] = phantom.truth().stream().map(FindingTruth::finding).anyMatch(x -> x.id().equals(id));
                    scores[f][c] = a.result().findings().get(f).probability();
                    InferenceEngine.Score score = engine.score(a, fd, fd.positive(), fd.negative());
                    margin[f][c] = score.margin();
                    coarseMargin[f][c] = engine.coarseMargin(a.image(), fd, fd.positive(), fd.negative());
                    var head = engine.head(a, fd);
                    headMax[f][c] = head.map(InferenceEngine.HeadScore::organMax).orElse(Double.NaN);
                    headPeak[f][c] = head.map(InferenceEngine.HeadScore::peak).orElse(Double.NaN);
                    detectorPeak[f][c] = engine.detector(a, fd).orElse(Double.NaN);
                    InferenceEngine.Score h = fd.heldOutPositive().isEmpty() ? null
                            : engine.score(a, fd, fd.heldOutPositive(), fd.heldOutNegative());
                    heldOut[f][c] = h == null ? Double.NaN : h.probability(fd);
                    heldOutMargin[f][c] = h == null ? Double.NaN : h.margin();
                    if (truth[f][c] && LocationHits.focal(id)) {
                        PhantomFinding pf = PhantomFinding.fromId(id);
                        FindingResult called = a.result().findings().get(f);
                        if (called.present() && called.location() != null) {
                            boolean hit = LocationHits.hit(phantom, pf, called.location().pointLps());
                            hitCalled[f] = hitCalled[f].plus(hit);
                        }
                        FindingLocation any = engine.locate(built.volume(), a, score, fd);
                        if (any != null) {
                            hitAny[f] = hitAny[f].plus(LocationHits.hit(phantom, pf, any.pointLps()));
                        }
                    }
                }
                byte[] reference = preprocessor.resampleLabels(PhantomVolumes.labelsFromFeet(phantom),
                        built.volume().geometry());
                if (segmentationDump != null) {
                    dumpSegmentation(engine, preprocessor.preprocess(built.volume()), reference, c);
                }
                if (served != null) {
                    served.write(scene, built.volume(),
                            a.segmentation(), cropDump.resolve(String.format(Locale.ROOT, "case-%05d", c)));
                }
                int i = 0;
                for (AbnormalityDictionary.Organ organ : dict.organs().values()) {
                    dice[i++][c] = BinaryMetrics.dice(a.image().organLabels(), reference, organ.label());
                }
                deleteTree(dir);
                if ((c + 1) % 10 == 0) {
                    spec.commandLine().getErr().printf("evaluated %d/%d cases%n", c + 1, cases);
                }
            }
            long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
            ObjectNode report = report(engine, findings, scores, heldOut, truth, dice, hitCalled, hitAny, seconds);
            print(out, report);
            if (json != null) {
                JSON.writeValue(json.toFile(), report);
            }
            if (margins != null) {
                JSON.writeValue(margins.toFile(), margins(engine, findings, margin, heldOutMargin, coarseMargin, headMax,
                        headPeak, detectorPeak, truth));
            }
            out.flush();
            return 0;
        } catch (TriageException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return CtTriageCommand.EXIT_TRIAGE_FAILURE;
        } finally {
            pool.shutdownNow();
            deleteTree(work);
        }
    }

    private ObjectNode report(InferenceEngine engine, List<AbnormalityDictionary.Finding> findings, double[][] scores,
                              double[][] heldOut, boolean[][] truth, double[][] dice, Tally[] hitCalled,
                              Tally[] hitAny, long seconds) {
        ObjectNode root = JSON.createObjectNode();
        root.put("model", engine.modelPackage().identity().name() + " " + engine.modelPackage().identity().version());
        root.put("packageSha256", engine.modelPackage().identity().packageSha256());
        root.put("device", engine.device());
        root.put("seed", seed).put("cases", cases).put("matrix", matrix).put("slices", slices)
                .put("sliceSpacingMm", sliceSpacing).put("seconds", seconds);
        ArrayNode fs = root.putArray("findings");
        double aucSum = 0;
        double heldSum = 0;
        int aucN = 0;
        int heldN = 0;
        Tally pooledCalled = Tally.NONE;
        Tally pooledAny = Tally.NONE;
        for (int f = 0; f < findings.size(); f++) {
            AbnormalityDictionary.Finding fd = findings.get(f);
            BinaryMetrics m = BinaryMetrics.of(scores[f], truth[f], fd.threshold());
            BinaryMetrics h = BinaryMetrics.of(heldOut[f], truth[f], fd.threshold());
            ObjectNode n = fs.addObject();
            n.put("id", fd.id()).put("organ", fd.organ()).put("positives", m.positives()).put("negatives", m.negatives());
            number(n, "auc", m.auc());
            double[] ci = BinaryMetrics.aucInterval95(scores[f], truth[f]);
            number(n, "aucLow95", ci[0]);
            number(n, "aucHigh95", ci[1]);
            number(n, "sensitivity", m.sensitivity());
            number(n, "specificity", m.specificity());
            number(n, "f1", m.f1());
            number(n, "heldOutAuc", h.auc());
            n.put("threshold", fd.threshold()).put("reportable", fd.reportable());
            if (LocationHits.focal(fd.id())) {
                location(n.putObject("location"), hitCalled[f], hitAny[f]);
                pooledCalled = pooledCalled.plus(hitCalled[f]);
                pooledAny = pooledAny.plus(hitAny[f]);
            }
            if (!Double.isNaN(m.auc())) {
                aucSum += m.auc();
                aucN++;
            }
            if (!Double.isNaN(h.auc())) {
                heldSum += h.auc();
                heldN++;
            }
        }
        number(root, "meanAuc", aucN == 0 ? Double.NaN : aucSum / aucN);
        number(root, "meanHeldOutAuc", heldN == 0 ? Double.NaN : heldSum / heldN);
        location(root.putObject("location").put("toleranceMm", LocationHits.TOLERANCE_MM), pooledCalled, pooledAny);
        ObjectNode d = root.putObject("dice");
        double diceSum = 0;
        int i = 0;
        for (AbnormalityDictionary.Organ organ : engine.modelPackage().dictionary().organs().values()) {
            double mean = java.util.Arrays.stream(dice[i++]).filter(x -> !Double.isNaN(x)).average().orElse(Double.NaN);
            number(d, organ.id(), mean);
            diceSum += mean;
        }
        number(root, "meanDice", diceSum / engine.modelPackage().dictionary().organs().size());
        return root;
    }

    /** Located points that hit their lesion, of those counted. */
    record Tally(int hits, int counted) {
        static final Tally NONE = new Tally(0, 0);

        Tally plus(boolean hit) {
            return new Tally(hits + (hit ? 1 : 0), counted + 1);
        }

        Tally plus(Tally o) {
            return new Tally(hits + o.hits, counted + o.counted);
        }

        double rate() {
            return counted == 0 ? Double.NaN : (double) hits / counted;
        }
    }

    /** The location figures of one finding, or pooled: on the true positives and on every positive case. */
    private static void location(ObjectNode n, Tally called, Tally any) {
        n.put("truePositives", called.counted()).put("hits", called.hits());
        number(n, "hitRate", called.rate());
        n.put("positivesLocated", any.counted()).put("hitsAllPositives", any.hits());
        number(n, "hitRateAllPositives", any.rate());
    }

    private ObjectNode margins(InferenceEngine engine, List<AbnormalityDictionary.Finding> findings, double[][] margin,
                               double[][] heldOutMargin, double[][] coarseMargin, double[][] headMax,
                               double[][] headPeak, double[][] detectorPeak, boolean[][] truth) {
        ObjectNode root = JSON.createObjectNode();
        root.put("model", engine.modelPackage().identity().name() + " " + engine.modelPackage().identity().version());
        root.put("seed", seed).put("cases", cases).put("matrix", matrix).put("slices", slices)
                .put("sliceSpacingMm", sliceSpacing);
        ObjectNode fs = root.putObject("findings");
        for (int f = 0; f < findings.size(); f++) {
            ObjectNode n = fs.putObject(findings.get(f).id());
            ArrayNode m = n.putArray("margin");
            ArrayNode h = n.putArray("heldOutMargin");
            ArrayNode coarse = n.putArray("coarseMargin");
            ArrayNode hm = n.putArray("headMax");
            ArrayNode hp = n.putArray("headPeak");
            ArrayNode dp = n.putArray("detectorPeak");
            ArrayNode t = n.putArray("truth");
            for (int c = 0; c < cases; c++) {
                m.add(margin[f][c]);
                addOrNull(h, heldOutMargin[f][c]);
                coarse.add(coarseMargin[f][c]);
                addOrNull(hm, headMax[f][c]);
                addOrNull(hp, headPeak[f][c]);
                addOrNull(dp, detectorPeak[f][c]);
                t.add(truth[f][c]);
            }
        }
        return root;
    }

    private void dumpSegmentation(InferenceEngine engine, float[] input, byte[] reference, int c) throws Exception {
        Files.createDirectories(segmentationDump);
        float[] p = engine.organProbabilities(input);
        String name = String.format(Locale.ROOT, "case-%05d", c);
        Files.write(segmentationDump.resolve(name + ".input"), littleEndian(input));
        Files.write(segmentationDump.resolve(name + ".probabilities"), littleEndian(p));
        Files.write(segmentationDump.resolve(name + ".labels"), reference);
        if (c == 0) {
            int[] g = engine.modelPackage().preprocessing().gridSize();
            ObjectNode grid = JSON.createObjectNode();
            grid.put("model", engine.modelPackage().identity().name() + " " + engine.modelPackage().identity().version());
            grid.put("seed", seed).put("classes", p.length / (g[0] * g[1] * g[2]));
            grid.putArray("zyx").add(g[2]).add(g[1]).add(g[0]);
            JSON.writeValue(segmentationDump.resolve("grid.json").toFile(), grid);
        }
    }

    private static byte[] littleEndian(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    private static void addOrNull(ArrayNode a, double v) {
        if (Double.isNaN(v)) {
            a.addNull();
        } else {
            a.add(v);
        }
    }

    private static void number(ObjectNode n, String key, double v) {
        if (Double.isNaN(v)) {
            n.putNull(key);
        } else {
            n.put(key, Math.round(v * 10000) / 10000.0);
        }
    }

    private static void print(PrintWriter out, ObjectNode r) {
        out.printf("%s on %s, %d cases from seed %d (%d s)%n%n", r.get("model").asText(), r.get("device").asText(),
                r.get("cases").asInt(), r.get("seed").asLong(), r.get("seconds").asLong());
        out.printf("%-23s %-11s %5s %5s %7s %13s %7s %7s %7s %9s%n", "finding", "organ", "pos", "neg", "AUC", "95 % interval",
                "sens", "spec", "F1", "held-out");
        r.get("findings").forEach(f -> out.printf(Locale.ROOT, "%-23s %-11s %5d %5d %7s %13s %7s %7s %7s %9s%n",
                f.get("id").asText() + (f.get("reportable").asBoolean() ? "" : "*"), f.get("organ").asText(), f.get("positives").asInt(), f.get("negatives").asInt(),
                fmt(f.get("auc")), fmt(f.get("aucLow95")) + "-" + fmt(f.get("aucHigh95")), fmt(f.get("sensitivity")),
                fmt(f.get("specificity")), fmt(f.get("f1")), fmt(f.get("heldOutAuc"))));
        out.printf("%n* not reportable (never called present: validation AUC below the package's floor);"
                + " sensitivity/specificity are those of its score at its threshold; the AUC's 95 %% interval is"
                + " DeLong's%n");
        out.printf("mean AUC %s, held-out paraphrase mean AUC %s%n", fmt(r.get("meanAuc")), fmt(r.get("meanHeldOutAuc")));
        StringBuilder dice = new StringBuilder();
        r.get("dice").fields().forEachRemaining(e -> dice.append(e.getKey()).append(' ').append(fmt(e.getValue())).append("  "));
        out.printf("Dice: %s%nmean Dice %s%n", dice.toString().trim(), fmt(r.get("meanDice")));
        out.printf("%nlocation of the focal findings (a hit: inside the lesion or within %.0f mm of its centre)%n",
                r.get("location").get("toleranceMm").asDouble());
        out.printf("%-23s %14s %9s %20s %9s%n", "finding", "true positives", "hit rate", "positives located",
                "hit rate");
        r.get("findings").forEach(f -> {
            if (f.has("location")) {
                printLocation(out, f.get("id").asText(), f.get("location"));
            }
        });
        printLocation(out, "all focal", r.get("location"));
    }

    private static void printLocation(PrintWriter out, String name, com.fasterxml.jackson.databind.JsonNode l) {
        out.printf(Locale.ROOT, "%-23s %14d %9s %20d %9s%n", name, l.get("truePositives").asInt(), fmt(l.get("hitRate")),
                l.get("positivesLocated").asInt(), fmt(l.get("hitRateAllPositives")));
    }

    private static String fmt(com.fasterxml.jackson.databind.JsonNode n) {
        return n == null || n.isNull() ? "n/a" : String.format(Locale.ROOT, "%.3f", n.asDouble());
    }

    private static void deleteTree(Path p) throws java.io.IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        }
    }
}

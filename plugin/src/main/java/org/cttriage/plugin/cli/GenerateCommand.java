package org.cttriage.plugin.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import org.cttriage.core.inference.OrganCropSpec;
import org.cttriage.core.inference.PreprocessingSpec;
import org.cttriage.core.inference.Preprocessor;
import org.cttriage.core.volume.Volume;
import org.cttriage.testdata.arrays.NpyWriter;
import org.cttriage.testdata.arrays.PhantomArrays;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.dicom.SeriesWriteOptions;
import org.cttriage.testdata.dicom.SeriesWriteOptions.Layout;
import org.cttriage.testdata.dicom.SeriesWriteOptions.PixelRepresentationOption;
import org.cttriage.testdata.dicom.SeriesWriteOptions.TransferSyntaxOption;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.Phantom;
import org.cttriage.testdata.phantom.PhantomFinding;
import org.cttriage.testdata.phantom.PhantomGenerator;
import org.cttriage.testdata.phantom.PhantomScene;
import org.cttriage.testdata.phantom.PhantomSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** {@code ct-triage generate}: synthetic chest+abdomen CT phantoms as DICOM or training arrays. */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Writes a deterministic synthetic chest+abdomen CT phantom (same seed -> byte-identical files):",
            "DICOM files in OUT/dicom, with OUT/truth.json, OUT/labels.npy and OUT/findings.npy beside them;",
            "or, with --training-arrays, only arrays (image.npy, labels.npy, findings.npy, truth.json) in",
            "OUT/case-NNNNN for N cases. Synthetic data, not patient data. Format: test-data/README.md."})
final class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, description = "Output folder (created; files are replaced).")
    Path out;

    @Option(names = "--seed", defaultValue = "1", description = "Random seed of the anatomy, findings and noise (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--matrix", defaultValue = "256", description = "Columns and rows, 64..512 (default: ${DEFAULT-VALUE}).")
    int matrix;

    @Option(names = "--slices", defaultValue = "120", description = "Number of slices (default: ${DEFAULT-VALUE}).")
    int slices;

    @Option(names = "--slice-spacing", defaultValue = "3.0", description = "Distance between slice centres, mm (default: ${DEFAULT-VALUE}).")
    double sliceSpacing;

    @Option(names = "--slice-thickness", description = "Slice thickness, mm (default: the slice spacing).")
    Double sliceThickness;

    @Option(names = "--fov", defaultValue = "400", description = "Reconstruction field of view, mm; pixel spacing = fov / matrix (default: ${DEFAULT-VALUE}).")
    double fov;

    @Option(names = "--contrast", defaultValue = "NONE", description = "Contrast phase: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    ContrastPhase contrast;

    @Option(names = "--findings", split = ",", paramLabel = "ID",
            description = "Findings to insert, comma-separated ids: pulmonary_nodule, emphysema, pleural_effusion, consolidation, liver_cyst, hepatic_steatosis, liver_mass, hepatomegaly, cholelithiasis, renal_cyst, nephrolithiasis, hydronephrosis, pancreatic_mass, splenomegaly, aortic_calcification, aortic_aneurysm.")
    List<String> findings = new ArrayList<>();

    @Option(names = "--random", description = "Also draw each finding at random with its prevalence (from the seed).")
    boolean random;

    @Option(names = "--transfer-syntax", defaultValue = "explicit",
            description = "implicit | explicit | rle | jpeg-lossless (jpeg-lossless uses dcmtk's dcmcjpeg) (default: ${DEFAULT-VALUE}).")
    String transferSyntax;

    @Option(names = "--pixel-representation", defaultValue = "UNSIGNED",
            description = "UNSIGNED (HU+1024 in 12 bits) or SIGNED (HU in 16 bits) (default: ${DEFAULT-VALUE}).")
    PixelRepresentationOption pixelRepresentation;

    @Option(names = "--enhanced", description = "Write one Enhanced CT multi-frame file instead of one file per slice.")
    boolean enhanced;

    @Option(names = "--series-number", defaultValue = "1", description = "Series Number; different numbers give different series of the same study (default: ${DEFAULT-VALUE}).")
    int seriesNumber;

    @Option(names = "--kernel", defaultValue = "STANDARD", description = "Convolution Kernel written in the headers (default: ${DEFAULT-VALUE}).")
    String kernel;

    @Option(names = "--patient-name", defaultValue = "Phantom^Case", description = "Patient Name (DICOM PN; non-ASCII allowed) (default: ${DEFAULT-VALUE}).")
    String patientName;

    @Option(names = "--training-arrays", description = "Write training arrays only (no DICOM): one case-NNNNN folder per case.")
    boolean trainingArrays;

    @Option(names = "--preprocessing", paramLabel = "SPEC.json",
            description = "With --training-arrays: write model inputs preprocessed by this spec (e.g. models/ctglip-ref/preprocessing.json) - input.npy float32 [channel,z,y,x], labels.npy uint8 [z,y,x] on the model grid, truth.json - using the same Java code as inference.")
    Path preprocessing;

    @Option(names = "--training-crops", paramLabel = "CROPS.json",
            description = "Write organ crops for training the second stage (no DICOM, no whole volume): per case folder "
                    + "OUT/case-NNNNN, per organ (and side) NAME.input.npy, NAME.organ.npy, NAME.findings.npy, NAME.hu.npy "
                    + "and one truth.json, rendered from the phantom at each organ's spacing in CROPS.json (e.g. "
                    + "models/ctglip-ref/experiments/organ-crops.json) with jittered boxes, through the same Java crop "
                    + "code as inference. --matrix, --slices, --slice-spacing plan the phantom (coverage, lesion edges).")
    Path trainingCrops;

    @Option(names = "--training-patches", paramLabel = "PATCH.json",
            description = "Write fine patches for training a second look (no DICOM, no whole volume): per case folder "
                    + "OUT/case-NNNNN, patches.hu.npy, patches.organ.npy, patches.findings.npy [patch, z, y, x] and truth.json; "
                    + "one patch of PATCH.json's single organ grid (e.g. models/ctglip-ref/experiments/nodule-patches.json) "
                    + "centred on each --patch-points point of the case and one on each lesion of that organ (jittered), "
                    + "through the same Java crop code as inference.")
    Path trainingPatches;

    @Option(names = "--patch-points", paramLabel = "POINTS.json",
            description = "With --training-patches: points per seed, {\"SEED\": [{\"side\": \"left\", \"lps\": [x, y, z]}, ...]} "
                    + "(e.g. a coarse detector's candidates); a seed not named gets its lesion patches only.")
    Path patchPoints;

    @Option(names = "--cases", defaultValue = "1", description = "With --training-arrays, --training-crops or --training-patches: number of cases, seeds seed..seed+cases-1 (default: ${DEFAULT-VALUE}).")
    int cases;

    @picocli.CommandLine.Mixin
    ThreadsOption threads;

    /**
     * The findings named by a {@code --findings} option (ids as the dictionary spells them, comma-split by picocli);
     * an unknown id is a usage error that lists the valid ones. generate and evaluate share it.
     */
    static Set<PhantomFinding> findingsOf(CommandSpec spec, List<String> ids) {
        Set<PhantomFinding> out = EnumSet.noneOf(PhantomFinding.class);
        for (String id : ids) {
            try {
                out.add(PhantomFinding.fromId(id.trim()));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
        }
        return out;
    }

    @Override
    public Integer call() throws Exception {
        if (matrix < 64 || matrix > 512) {
            throw new ParameterException(spec.commandLine(), "--matrix must be within 64..512, was " + matrix);
        }
        if (cases < 1) {
            throw new ParameterException(spec.commandLine(), "--cases must be at least 1, was " + cases);
        }
        Set<PhantomFinding> requested = findingsOf(spec, findings);
        SeriesWriteOptions options;
        try {
            options = SeriesWriteOptions.defaults()
                    .withTransferSyntax(TransferSyntaxOption.parse(transferSyntax))
                    .withPixelRepresentation(pixelRepresentation)
                    .withLayout(enhanced ? Layout.ENHANCED_MULTI_FRAME : Layout.SINGLE_FRAME)
                    .withSeries(seriesNumber, "Phantom CT chest abdomen " + sliceSpacing + " mm " + kernel, kernel)
                    .withPatientName(patientName);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        ExecutorService pool = threads.newPool();
        PrintWriter stdout = spec.commandLine().getOut();
        Preprocessor preprocessor = null;
        if (preprocessing != null) {
            if (!trainingArrays) {
                throw new ParameterException(spec.commandLine(), "--preprocessing needs --training-arrays");
            }
            try {
                preprocessor = new Preprocessor(PreprocessingSpec.fromJson(new ObjectMapper().readTree(preprocessing.toFile())));
            } catch (IOException | IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--preprocessing " + preprocessing + ": " + e.getMessage());
            }
        }
        TrainingCrops crops = null;
        if (trainingCrops != null) {
            if (trainingArrays || preprocessing != null) {
                throw new ParameterException(spec.commandLine(), "--training-crops excludes --training-arrays and --preprocessing");
            }
            try {
                crops = new TrainingCrops(OrganCropSpec.fromJson(new ObjectMapper().readTree(trainingCrops.toFile())), true);
            } catch (IOException | IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--training-crops " + trainingCrops + ": " + e.getMessage());
            }
        }
        TrainingPatches patches = null;
        Map<Long, List<TrainingPatches.Point>> points = Map.of();
        if (trainingPatches != null) {
            if (trainingArrays || preprocessing != null || crops != null) {
                throw new ParameterException(spec.commandLine(),
                        "--training-patches excludes --training-arrays, --preprocessing and --training-crops");
            }
            try {
                patches = new TrainingPatches(OrganCropSpec.fromJson(new ObjectMapper().readTree(trainingPatches.toFile())));
            } catch (IOException | IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--training-patches " + trainingPatches + ": " + e.getMessage());
            }
            if (patchPoints != null) {
                try {
                    points = TrainingPatches.readPoints(new ObjectMapper().readTree(patchPoints.toFile()));
                } catch (IOException | IllegalArgumentException e) {
                    throw new ParameterException(spec.commandLine(), "--patch-points " + patchPoints + ": " + e.getMessage());
                }
            }
        } else if (patchPoints != null) {
            throw new ParameterException(spec.commandLine(), "--patch-points needs --training-patches");
        }
        try {
            PhantomGenerator generator = new PhantomGenerator();
            int count = trainingArrays || crops != null || patches != null ? cases : 1;
            for (int c = 0; c < count; c++) {
                PhantomSpec phantomSpec;
                try {
                    phantomSpec = new PhantomSpec(seed + c, matrix, matrix, slices, fov / matrix, sliceSpacing,
                            sliceThickness == null ? sliceSpacing : sliceThickness, contrast, requested, random);
                } catch (IllegalArgumentException e) {
                    throw new ParameterException(spec.commandLine(), e.getMessage());
                }
                if (crops != null) {
                    Path folder = out.resolve(String.format("case-%05d", c));
                    PhantomScene scene = PhantomScene.plan(phantomSpec);
                    int n = crops.write(scene, folder);
                    stdout.printf("%s: seed %d, %d crops, findings %s%n", folder, seed + c, n,
                            scene.truth().isEmpty() ? "none" : String.join(", ",
                                    scene.truth().stream().map(t -> t.finding().id()).distinct().toList()));
                    continue;
                }
                if (patches != null) {
                    Path folder = out.resolve(String.format("case-%05d", c));
                    PhantomScene scene = PhantomScene.plan(phantomSpec);
                    int n = patches.write(scene, folder, points.getOrDefault(seed + c, List.of()));
                    stdout.printf("%s: seed %d, %d patches%n", folder, seed + c, n);
                    continue;
                }
                Phantom phantom = generator.generate(phantomSpec, pool);
                if (trainingArrays) {
                    Path folder = out.resolve(String.format("case-%05d", c));
                    if (preprocessor != null) {
                        writeModelInputs(phantom, preprocessor, folder);
                    } else {
                        PhantomArrays.write(phantom, folder, true, null, null);
                    }
                    stdout.printf("%s: seed %d, findings %s%n", folder, seed + c, ids(phantom));
                } else {
                    CtSeriesWriter.WrittenSeries series = new CtSeriesWriter().write(phantom, options, out.resolve("dicom"));
                    PhantomArrays.write(phantom, out, false, series.studyInstanceUid(), series.seriesInstanceUid());
                    stdout.printf("wrote %d DICOM file(s) to %s%n  study  %s%n  series %s%n  findings %s%n"
                                    + "  ground truth: %s%n", series.files().size(), out.resolve("dicom"), series.studyInstanceUid(),
                            series.seriesInstanceUid(), ids(phantom), out.resolve("truth.json"));
                }
            }
        } finally {
            pool.shutdownNow();
        }
        stdout.flush();
        return 0;
    }

    /** Model inputs and grid labels through the inference preprocessing; truth beside them. */
    private static void writeModelInputs(Phantom phantom, Preprocessor preprocessor, Path folder) throws IOException {
        int[] g = preprocessor.spec().gridSize();
        int channels = preprocessor.spec().channels().size();
        Volume volume = PhantomVolumes.toVolume(phantom);
        Files.createDirectories(folder);
        NpyWriter.writeFloat32(folder.resolve("input.npy"), preprocessor.preprocess(volume), channels, g[2], g[1], g[0]);
        NpyWriter.writeUint8(folder.resolve("labels.npy"),
                preprocessor.resampleLabels(PhantomVolumes.labelsFromFeet(phantom), volume.geometry()), g[2], g[1], g[0]);
        ObjectNode truth = PhantomArrays.truth(phantom, false, null, null);
        truth.remove("arrays");
        truth.putObject("arrays").put("input", "input.npy").put("labels", "labels.npy");
        PhantomArrays.writeTruth(phantom, folder, truth);
    }

    private static String ids(Phantom phantom) {
        List<String> ids = phantom.truth().stream().map(t -> t.finding().id()).distinct().toList();
        return ids.isEmpty() ? "none" : String.join(", ", ids);
    }
}

package org.cttriage.plugin.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import org.cttriage.core.dicom.RejectedFile;
import org.cttriage.core.volume.SeriesDecision;
import org.cttriage.core.volume.SliceGap;
import org.cttriage.core.volume.StudyVolumeBuilder;
import org.cttriage.core.volume.Volume;
import org.cttriage.core.volume.VolumeGeometry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code ct-triage inspect}: what is in a folder of DICOM files and which volume triage would use. */
@Command(name = "inspect", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Lists every series found in a folder of DICOM files, the selection decision on each with",
            "its reason, and the geometry of the chosen volume (which is read in full to prove it loads).",
            "Exit status 0 when a volume was built, 1 when none could be (the reason carries a TRIAGE code)."})
final class InspectCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FOLDER", description = "Folder searched recursively for DICOM files.")
    Path folder;

    @Option(names = "--json", description = "Print the report as JSON instead of text.")
    boolean json;

    @picocli.CommandLine.Mixin
    ThreadsOption threads;

    @Mixin
    PolicyOptions policy;

    @Override
    public Integer call() {
        ExecutorService pool = threads.newPool();
        try {
            long start = System.nanoTime();
            StudyVolumeBuilder.Outcome outcome = new StudyVolumeBuilder(policy.selection(), policy.assembly(), pool)
                    .build(folder);
            long millis = (System.nanoTime() - start) / 1_000_000;
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(toJson(outcome, millis).toPrettyString());
            } else {
                printText(out, outcome, millis);
            }
            out.flush();
            return outcome instanceof StudyVolumeBuilder.Built ? 0 : CtTriageCommand.EXIT_TRIAGE_FAILURE;
        } finally {
            pool.shutdownNow();
        }
    }

    private void printText(PrintWriter out, StudyVolumeBuilder.Outcome outcome, long millis) {
        out.printf("Folder %s%n", folder);
        out.printf("%d series found, %d file(s) not usable%n", outcome.report().decisions().size(),
                outcome.report().rejectedFiles().size());
        for (SeriesDecision d : outcome.report().decisions()) {
            out.printf("%n  %-13s %s%s%n", d.verdict(), d.seriesInstanceUid(), d.phase().isEmpty() ? "" : " (" + d.phase() + ")");
            out.printf("                #%s %s, %s, %d slice(s)%n", d.seriesNumber(), quoted(d.description()),
                    d.modality().isEmpty() ? "no modality" : d.modality(), d.slices());
            out.printf("                %s%s%n", d.code() == null ? "" : d.code().code() + " ", d.reason());
        }
        for (RejectedFile r : outcome.report().rejectedFiles()) {
            out.printf("%n  NOT USED      %s%n                %s %s%n", r.file(), r.code().code(), r.reason());
        }
        out.println();
        if (outcome instanceof StudyVolumeBuilder.Built b) {
            Volume v = b.volume();
            VolumeGeometry g = v.geometry();
            out.printf("Volume of %s%s%n", v.seriesInstanceUid(), v.phase().isEmpty() ? "" : " (" + v.phase() + ")");
            out.printf("  size        %d x %d x %d voxels (%.1f MB of HU values)%n", g.size()[0], g.size()[1],
                    g.size()[2], v.pixelBytes() / 1e6);
            out.printf("  spacing     %s mm (column, row, slice)%n", vec(g.spacing()));
            out.printf("  origin      %s mm (LPS, centre of the first voxel)%n", vec(g.origin()));
            out.printf("  directions  row %s, column %s, slice %s%n", vec(g.rowDirection()),
                    vec(g.columnDirection()), vec(g.sliceDirection()));
            if (g.gantryTiltDegrees() > 0) {
                out.printf("  gantry tilt %.2f degrees (kept as a sheared stack)%n", g.gantryTiltDegrees());
            }
            for (SliceGap gap : v.gaps()) {
                out.printf("  gap         %d missing slice(s) after slice %d, interpolated%n", gap.missingSlices(),
                        gap.afterSlice());
            }
            int[] stats = huStats(v.hu());
            out.printf("  HU          min %d, max %d, mean %d%n", stats[0], stats[1], stats[2]);
            out.printf("  built in    %d ms%n", millis);
        } else if (outcome instanceof StudyVolumeBuilder.NotBuilt n) {
            out.printf("No volume: %s%n", n.reason().getMessage());
        }
    }

    private ObjectNode toJson(StudyVolumeBuilder.Outcome outcome, long millis) {
        ObjectNode root = JSON.createObjectNode();
        root.put("folder", folder.toString());
        ArrayNode series = root.putArray("series");
        for (SeriesDecision d : outcome.report().decisions()) {
            ObjectNode s = series.addObject();
            s.put("seriesInstanceUid", d.seriesInstanceUid()).put("phase", d.phase())
                    .put("seriesNumber", d.seriesNumber()).put("description", d.description())
                    .put("modality", d.modality()).put("slices", d.slices())
                    .put("verdict", d.verdict().name().toLowerCase(Locale.ROOT))
                    .put("code", d.code() == null ? null : d.code().code()).put("reason", d.reason());
        }
        ArrayNode rejected = root.putArray("rejectedFiles");
        for (RejectedFile r : outcome.report().rejectedFiles()) {
            rejected.addObject().put("file", r.file().toString()).put("code", r.code().code()).put("reason", r.reason());
        }
        if (outcome instanceof StudyVolumeBuilder.Built b) {
            Volume v = b.volume();
            VolumeGeometry g = v.geometry();
            ObjectNode vol = root.putObject("volume");
            vol.put("studyInstanceUid", v.studyInstanceUid()).put("seriesInstanceUid", v.seriesInstanceUid())
                    .put("phase", v.phase());
            array(vol.putArray("size"), g.size());
            array(vol.putArray("spacingMm"), g.spacing());
            array(vol.putArray("originLpsMm"), g.origin());
            array(vol.putArray("rowDirection"), g.rowDirection());
            array(vol.putArray("columnDirection"), g.columnDirection());
            array(vol.putArray("sliceDirection"), g.sliceDirection());
            vol.put("gantryTiltDegrees", g.gantryTiltDegrees());
            ArrayNode gaps = vol.putArray("gaps");
            for (SliceGap gap : v.gaps()) {
                gaps.addObject().put("afterSlice", gap.afterSlice()).put("missingSlices", gap.missingSlices());
            }
            int[] stats = huStats(v.hu());
            vol.put("huMin", stats[0]).put("huMax", stats[1]).put("huMean", stats[2]);
            vol.put("sourceInstances", v.sourceInstances().size());
            vol.put("buildMillis", millis);
            root.putNull("error");
        } else if (outcome instanceof StudyVolumeBuilder.NotBuilt n) {
            root.putNull("volume");
            root.putObject("error").put("code", n.reason().errorCode().code()).put("reason", n.reason().reason());
        }
        return root;
    }

    private static void array(ArrayNode a, double[] v) {
        for (double x : v) {
            a.add(x);
        }
    }

    private static void array(ArrayNode a, int[] v) {
        for (int x : v) {
            a.add(x);
        }
    }

    private static String vec(double[] v) {
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < v.length; i++) {
            b.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.3f", v[i]));
        }
        return b.append(')').toString();
    }

    private static String quoted(String s) {
        return s.isEmpty() ? "(no description)" : "\"" + s + "\"";
    }

    /** min, max, mean (rounded). */
    static int[] huStats(short[] hu) {
        int min = Integer.MAX_VALUE;
        int max = Integer.MIN_VALUE;
        long sum = 0;
        for (short v : hu) {
            min = Math.min(min, v);
            max = Math.max(max, v);
            sum += v;
        }
        return new int[] {min, max, (int) Math.round((double) sum / Math.max(1, hu.length))};
    }
}

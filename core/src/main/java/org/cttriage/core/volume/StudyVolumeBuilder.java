package org.cttriage.core.volume;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import org.cttriage.core.dicom.DicomScanner;
import org.cttriage.core.dicom.ScanResult;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;

/**
 * From the files of a study to the volume of the series chosen for triage: scan headers,
 * select a series (with a reason for every decision), assemble its volume. Bad data never
 * throws: the outcome says what was built or why nothing could be.
 */
public final class StudyVolumeBuilder {
    private final DicomScanner scanner = new DicomScanner();
    private final SeriesSelector selector;
    private final VolumeAssembler assembler;
    private final ExecutorService pool;

    /** @param pool threads for reading files; owned by the caller */
    public StudyVolumeBuilder(SelectionPolicy selection, AssemblyPolicy assembly, ExecutorService pool) {
        this.selector = new SeriesSelector(selection, assembly);
        this.assembler = new VolumeAssembler(assembly);
        this.pool = pool;
    }

    /** What came of one study. */
    public sealed interface Outcome permits Built, NotBuilt {
        /** The decisions on every series and the files that were not images. */
        SelectionReport report();
    }

    /** A series was selected and its volume assembled. */
    public record Built(SelectionReport report, Volume volume) implements Outcome {
    }

    /** Nothing could be built; {@code reason} says why, with its code. */
    public record NotBuilt(SelectionReport report, TriageException reason) implements Outcome {
    }

    /** Builds from every file under {@code folder}. */
    public Outcome build(Path folder) {
        ScanResult scan;
        try {
            scan = scanner.scanFolder(folder, pool);
        } catch (TriageException e) {
            return new NotBuilt(new SelectionReport(List.of(), List.of()), e);
        }
        return build(scan);
    }

    /** Builds from already scanned headers. */
    public Outcome build(ScanResult scan) {
        SelectionReport report = selector.select(scan);
        if (report.selected().isEmpty()) {
            String why = report.decisions().isEmpty()
                    ? "no image found (" + report.rejectedFiles().size() + " file(s) rejected)"
                    : report.decisions().size() + " series considered, none qualifies: "
                            + report.decisions().stream().map(d -> d.code().code() + " " + d.reason())
                                    .distinct().limit(3).reduce((a, b) -> a + "; " + b).orElse("");
            return new NotBuilt(report, new TriageException(ErrorCode.NO_ELIGIBLE_SERIES, why));
        }
        try {
            return new Built(report, assembler.assemble(report.selected().get(), pool));
        } catch (TriageException e) {
            return new NotBuilt(report, e);
        }
    }
}

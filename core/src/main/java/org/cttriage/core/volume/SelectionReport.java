package org.cttriage.core.volume;

import java.util.List;
import java.util.Optional;
import org.cttriage.core.dicom.RejectedFile;

/**
 * Every series found, the decision on each with its reason, and the files that were not
 * images at all.
 *
 * @param decisions     one per series (or per phase of a split series), selected first
 * @param rejectedFiles files that could not be read as images
 */
public record SelectionReport(List<SeriesDecision> decisions, List<RejectedFile> rejectedFiles) {
    public SelectionReport {
        decisions = List.copyOf(decisions);
        rejectedFiles = List.copyOf(rejectedFiles);
    }

    /** The series chosen for triage, if any qualified. */
    public Optional<SeriesDecision> selected() {
        return decisions.stream().filter(d -> d.verdict() == SeriesDecision.Verdict.SELECTED).findFirst();
    }
}

package org.cttriage.core.volume;

import java.util.List;
import org.cttriage.core.dicom.SliceHeader;

/**
 * One series (or one phase of a multi-phase series) considered for triage.
 *
 * @param seriesInstanceUid Series Instance UID
 * @param phase             which phase of a split series ("" when not split)
 * @param slices            its slices
 */
public record SeriesCandidate(String seriesInstanceUid, String phase, List<SliceHeader> slices) {
    public SeriesCandidate {
        slices = List.copyOf(slices);
    }

    /** The label used in reports: the UID, with the phase when split. */
    public String label() {
        return phase.isEmpty() ? seriesInstanceUid : seriesInstanceUid + " (" + phase + ")";
    }

    SliceHeader first() {
        return slices.get(0);
    }
}

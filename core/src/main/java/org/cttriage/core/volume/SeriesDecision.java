package org.cttriage.core.volume;

import org.cttriage.core.error.ErrorCode;

/**
 * The selection's verdict on one series, always with its reason.
 *
 * @param seriesInstanceUid Series Instance UID
 * @param phase             phase label when the series was split, else ""
 * @param seriesNumber      Series Number, "" if absent
 * @param description       Series Description, "" if absent
 * @param modality          Modality
 * @param slices            slices (frames) found
 * @param verdict           selected, qualified but not preferred, or rejected
 * @param code              why it was not selected (null when selected)
 * @param reason            the explanation, for every verdict
 * @param plan              the geometry plan when the series qualified, else null
 */
public record SeriesDecision(String seriesInstanceUid, String phase, String seriesNumber, String description,
                             String modality, int slices, Verdict verdict, ErrorCode code, String reason,
                             StackPlan plan) {

    /** Outcome of selection for one series. */
    public enum Verdict {
        /** The series chosen for triage. */
        SELECTED,
        /** Qualified, but another series was preferred. */
        NOT_PREFERRED,
        /** Does not qualify. */
        REJECTED
    }
}

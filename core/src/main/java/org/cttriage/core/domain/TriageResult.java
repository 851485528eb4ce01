package org.cttriage.core.domain;

import java.util.List;
import java.util.Map;

/**
 * What triage of one CT series produced.
 *
 * @param studyInstanceUid   study of the series
 * @param seriesInstanceUid  series analysed
 * @param sourceInstances    SOP Instance UIDs the volume was built from
 * @param findings           every finding of the dictionary (and any added at run time), in dictionary order
 * @param organVolumesMl     organ id → volume from the segmentation, millilitres
 * @param suggestedPriority  the highest severity among present findings (routine when none)
 * @param model              the model that produced it
 * @param timingsMillis      stage → milliseconds (preprocess, imageEncoder, scoring, total)
 */
public record TriageResult(String studyInstanceUid, String seriesInstanceUid, List<String> sourceInstances,
                           List<FindingResult> findings, Map<String, Double> organVolumesMl, Priority suggestedPriority,
                           ModelIdentity model, Map<String, Long> timingsMillis) {
    public TriageResult {
        sourceInstances = List.copyOf(sourceInstances);
        findings = List.copyOf(findings);
        organVolumesMl = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(organVolumesMl));
        timingsMillis = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(timingsMillis));
    }

    /** Findings decided present. */
    public List<FindingResult> presentFindings() {
        return findings.stream().filter(FindingResult::present).toList();
    }
}

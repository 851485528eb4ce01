package org.cttriage.core.domain;

/**
 * One finding of the abnormality dictionary, scored on one series.
 *
 * @param id           stable finding id (e.g. {@code liver_cyst})
 * @param organ        organ id (e.g. {@code liver})
 * @param finding      the finding's code
 * @param organCode    the organ's code (finding site)
 * @param probability  calibrated probability that the finding is present, 0..1
 * @param threshold    decision threshold on {@code probability}
 * @param reportable   whether the model's validation showed this finding can be decided; when
 *                     false the probability is reported but the finding is never called present
 *                     and never raises the priority
 * @param present      {@code reportable && probability >= threshold}
 * @param severity     priority this finding asks for when present
 * @param location     where it is, for a finding called present when the volume's slices are known;
 *                     otherwise null
 */
public record FindingResult(String id, String organ, CodedConcept finding, CodedConcept organCode, double probability,
                            double threshold, boolean reportable, boolean present, Priority severity,
                            FindingLocation location) {
    /** A finding without a location (not present, or its volume's slices unknown). */
    public FindingResult(String id, String organ, CodedConcept finding, CodedConcept organCode, double probability,
                         double threshold, boolean reportable, boolean present, Priority severity) {
        this(id, organ, finding, organCode, probability, threshold, reportable, present, severity, null);
    }
}

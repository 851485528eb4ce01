package org.cttriage.core.volume;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Which series qualify for triage and which one is preferred. Immutable; validated on
 * construction. {@link #defaults()} documents every default.
 *
 * @param requireOriginalPrimary   only ORIGINAL\PRIMARY series qualify (default true)
 * @param axialToleranceDegrees    largest angle between the slice normal and the patient's
 *                                 head-foot axis for a series to count as axial (default 30:
 *                                 covers gantry tilts up to 30°)
 * @param minimumSlices            fewer slices than this disqualifies a series (default 20)
 * @param softTissueKernels        a Convolution Kernel matching one of these (case-insensitive,
 *                                 searched anywhere in the value) counts as soft-tissue
 *                                 (default: STANDARD, SOFT, BODY, ABD, Siemens B/Br/I/Q 20–49,
 *                                 Toshiba/Canon FC01–FC19, Philips A/B/C)
 * @param duplicatePositions       what to do when one series has several slices at one
 *                                 position (default {@link DuplicatePositionPolicy#SPLIT})
 */
public record SelectionPolicy(
        boolean requireOriginalPrimary,
        double axialToleranceDegrees,
        int minimumSlices,
        List<Pattern> softTissueKernels,
        DuplicatePositionPolicy duplicatePositions) {

    /** How to treat several slices at one position (multi-phase acquisitions in one series). */
    public enum DuplicatePositionPolicy {
        /** Split into one candidate per phase (Temporal Position, Acquisition Number, time). */
        SPLIT,
        /** Reject the series. */
        REJECT
    }

    public SelectionPolicy {
        if (!(axialToleranceDegrees >= 0 && axialToleranceDegrees <= 90)) {
            throw new IllegalArgumentException("axialToleranceDegrees must be within 0..90, was " + axialToleranceDegrees);
        }
        if (minimumSlices < 1) {
            throw new IllegalArgumentException("minimumSlices must be at least 1, was " + minimumSlices);
        }
        softTissueKernels = List.copyOf(softTissueKernels);
        if (duplicatePositions == null) {
            throw new IllegalArgumentException("duplicatePositions must be one of SPLIT, REJECT");
        }
    }

    /** The defaults listed on the record. */
    public static SelectionPolicy defaults() {
        return new SelectionPolicy(true, 30.0, 20,
                List.of(Pattern.compile("STANDARD|SOFT|BODY|ABD", Pattern.CASE_INSENSITIVE),
                        Pattern.compile("^(B|BR|I|Q|BV|HR)[234][0-9]", Pattern.CASE_INSENSITIVE),
                        Pattern.compile("^FC(0[1-9]|1[0-9])$", Pattern.CASE_INSENSITIVE),
                        Pattern.compile("^[ABC]$", Pattern.CASE_INSENSITIVE)),
                DuplicatePositionPolicy.SPLIT);
    }

    /** Same policy with another minimum slice count. */
    public SelectionPolicy withMinimumSlices(int n) {
        return new SelectionPolicy(requireOriginalPrimary, axialToleranceDegrees, n, softTissueKernels, duplicatePositions);
    }

    /** Same policy with another duplicate-position rule. */
    public SelectionPolicy withDuplicatePositions(DuplicatePositionPolicy p) {
        return new SelectionPolicy(requireOriginalPrimary, axialToleranceDegrees, minimumSlices, softTissueKernels, p);
    }

    /** True when the kernel name counts as soft-tissue under this policy. */
    public boolean isSoftTissueKernel(String kernel) {
        if (kernel == null || kernel.isBlank()) {
            return false;
        }
        String k = kernel.trim();
        return softTissueKernels.stream().anyMatch(p -> p.matcher(k).find());
    }
}

package org.cttriage.core.dicom.sr;

/**
 * Site settings written into the SR. {@link #defaults()} documents every default.
 *
 * @param manufacturer     equipment and device-observer manufacturer (default "ct-triage")
 * @param institutionName  Institution Name of the equipment, "" for none (default "")
 * @param seriesNumber     Series Number of the SR series (default 9901, to sort after acquired series)
 * @param deviceSerialNumber Device Serial Number (default "0")
 * @param rejectSuperseded whether a result that supersedes another sends an IHE IOCM rejection note withdrawing
 *     the superseded result's SR, SEG and KOS (default true)
 */
public record SrOptions(String manufacturer, String institutionName, int seriesNumber, String deviceSerialNumber,
        boolean rejectSuperseded) {
    public SrOptions {
        if (manufacturer == null || manufacturer.isBlank()) {
            throw new IllegalArgumentException("manufacturer must not be empty");
        }
        if (seriesNumber < 1) {
            throw new IllegalArgumentException("seriesNumber must be >= 1, was " + seriesNumber);
        }
    }

    /** These settings, superseded results withdrawn by a rejection note (the default). */
    public SrOptions(String manufacturer, String institutionName, int seriesNumber, String deviceSerialNumber) {
        this(manufacturer, institutionName, seriesNumber, deviceSerialNumber, true);
    }

    /** The same settings, with superseded results withdrawn or not. */
    public SrOptions withRejectSuperseded(boolean reject) {
        return new SrOptions(manufacturer, institutionName, seriesNumber, deviceSerialNumber, reject);
    }

    /** The defaults listed on the record. */
    public static SrOptions defaults() {
        return new SrOptions("ct-triage", "", 9901, "0");
    }
}

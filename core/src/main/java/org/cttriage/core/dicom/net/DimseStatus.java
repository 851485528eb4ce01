package org.cttriage.core.dicom.net;

/**
 * The DIMSE status codes this node answers with (PS3.4 Annex B.2.3 for C-STORE, PS3.7 C.4).
 * The one table that maps outcomes to statuses; docs/conformance-statement.md shows it.
 */
public enum DimseStatus {
    /** The instance is on disk, fsynced and recorded (or, by policy, accepted and ignored). */
    SUCCESS(0x0000, "Success"),
    /** Disk below the watermark or the database unavailable. */
    REFUSED_OUT_OF_RESOURCES(0xA700, "Refused: out of resources"),
    /** SOP class refused by configuration (non-CT with reject policy). */
    REFUSED_SOP_CLASS_NOT_SUPPORTED(0x0122, "Refused: SOP class not supported"),
    /** The data set is not valid for its SOP class (UIDs missing or not matching the command). */
    ERROR_DATASET_DOES_NOT_MATCH_SOP_CLASS(0xA900, "Error: data set does not match SOP class"),
    /** The data set could not be parsed. */
    ERROR_CANNOT_UNDERSTAND(0xC000, "Error: cannot understand"),
    /** Unexpected internal failure; nothing was recorded. */
    PROCESSING_FAILURE(0x0110, "Failure: processing failure");

    private final int code;
    private final String meaning;

    DimseStatus(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    /** The status value sent in the response's Status (0000,0900). */
    public int code() {
        return code;
    }

    public String meaning() {
        return meaning;
    }

    /** True when the SCU may consider the instance stored. */
    public boolean stored() {
        return this == SUCCESS;
    }

    /** The code as the standard writes it, e.g. {@code A900H}. */
    public String hex() {
        return String.format("%04XH", code);
    }
}

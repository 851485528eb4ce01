package org.cttriage.core.domain;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One DICOM object a triage result sends back to the study: the SR, the organ SEG or the key-image KOS.
 *
 * @param modality          "SR", "SEG" or "KO" (the object's Modality)
 * @param sopClassUid       its SOP Class UID
 * @param sopInstanceUid    its SOP Instance UID
 * @param seriesInstanceUid its series (in the source study)
 * @param file              where it was written
 */
public record ResultObject(String modality, String sopClassUid, String sopInstanceUid, String seriesInstanceUid,
                           Path file) {
    /** The SR's modality. */
    public static final String SR = "SR";
    /** The segmentation's modality. */
    public static final String SEG = "SEG";
    /** The key object selection's modality. */
    public static final String KO = "KO";

    public ResultObject {
        Objects.requireNonNull(modality, "modality");
        Objects.requireNonNull(sopInstanceUid, "sopInstanceUid");
        Objects.requireNonNull(file, "file");
    }
}

package org.cttriage.core.domain;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One DICOM object a triage result sends back to the study: the SR, the organ SEG, the key-image KOS, or the
 * rejection note (a KOS too, IHE IOCM) that withdraws the objects of the result it supersedes.
 *
 * @param modality          "SR", "SEG" or "KO" (the object's Modality)
 * @param sopClassUid       its SOP Class UID
 * @param sopInstanceUid    its SOP Instance UID
 * @param seriesInstanceUid its series (in the source study)
 * @param file              where it was written
 * @param rejects           for a rejection note, the SOP Instance UIDs it rejects; empty for every other object
 */
public record ResultObject(String modality, String sopClassUid, String sopInstanceUid, String seriesInstanceUid,
                           Path file, java.util.List<String> rejects) {
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
        rejects = rejects == null ? java.util.List.of() : java.util.List.copyOf(rejects);
    }

    /** An SR, SEG or KOS of the result itself (rejects nothing). */
    public ResultObject(String modality, String sopClassUid, String sopInstanceUid, String seriesInstanceUid,
            Path file) {
        this(modality, sopClassUid, sopInstanceUid, seriesInstanceUid, file, java.util.List.of());
    }

    /** Whether this is a rejection note. */
    public boolean isRejectionNote() {
        return !rejects.isEmpty();
    }
}

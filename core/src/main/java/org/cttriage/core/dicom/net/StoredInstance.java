package org.cttriage.core.dicom.net;

import java.util.Objects;
import java.util.Optional;

/**
 * A C-STORE the listener answered, as its observers see it.
 *
 * @param sopClassUid Affected SOP Class UID
 * @param sopInstanceUid Affected SOP Instance UID
 * @param status the status answered
 * @param subject the instance's patient and study, read only when an observer asks for it
 *     ({@link AssociationListener#needsSubjects()}) and the data set could be read that far
 */
public record StoredInstance(String sopClassUid, String sopInstanceUid, DimseStatus status,
        Optional<InstanceSubject> subject) {
    public StoredInstance {
        Objects.requireNonNull(sopClassUid, "sopClassUid");
        Objects.requireNonNull(sopInstanceUid, "sopInstanceUid");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(subject, "subject");
    }
}

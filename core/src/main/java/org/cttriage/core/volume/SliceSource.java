package org.cttriage.core.volume;

/**
 * The DICOM image one slice of a volume was read from, so that a place in the volume can be
 * referenced (an SR image reference, a key object, a key image).
 *
 * @param sopClassUid    SOP Class UID of the instance
 * @param sopInstanceUid SOP Instance UID of the instance
 * @param frameNumber    1-based frame within a multi-frame instance; 0 for a single-frame one
 */
public record SliceSource(String sopClassUid, String sopInstanceUid, int frameNumber) {
}

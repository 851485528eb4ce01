package org.cttriage.core.domain;

import java.util.List;
import java.util.Objects;

/**
 * Where a finding called present is: a point in the patient and the image through it.
 *
 * @param pointLps       the point, patient coordinates (LPS), millimetres: x, y, z
 * @param sopClassUid    SOP Class UID of the image (the received slice nearest to the point)
 * @param sopInstanceUid SOP Instance UID of that image
 * @param frameNumber    1-based frame of a multi-frame image; 0 for a single-frame one
 * @param method         how the point was found: {@link #ORGAN_CENTRE} (the centre of the finding's
 *                       organ in the segmentation, when the model gives no finding location) or
 *                       {@link #MODEL} (the model's own finding location)
 */
public record FindingLocation(List<Double> pointLps, String sopClassUid, String sopInstanceUid, int frameNumber,
                              String method) {
    /** The centre of the organ's largest connected part in the model's segmentation. */
    public static final String ORGAN_CENTRE = "organ-centre";
    /**
     * The model located the finding itself: the peak of its finding map on the organ crop that scored it,
     * or, for a calcified lesion the package names, the densest compact dense structure in or near the
     * organ's mask on that crop.
     */
    public static final String MODEL = "model";

    public FindingLocation {
        pointLps = List.copyOf(pointLps);
        if (pointLps.size() != 3) {
            throw new IllegalArgumentException("a point has 3 coordinates, not " + pointLps.size());
        }
        Objects.requireNonNull(method, "method");
    }
}

package org.cttriage.routes.dicom;

/** Exchange headers of the {@code dicom:} component. */
public final class DicomConstants {
    /** The calling AE title of the association that delivered the instance (consumer). */
    public static final String CALLING_AE_TITLE = "CamelDicomCallingAeTitle";
    /** The SOP Instance UID of the received instance (consumer). */
    public static final String SOP_INSTANCE_UID = "CamelDicomSopInstanceUid";
    /**
     * The {@link org.cttriage.core.dicom.net.DimseStatus} the route decided for the C-STORE
     * response (consumer; Success when the route sets none and completes without exception).
     */
    public static final String DIMSE_STATUS = "CamelDicomDimseStatus";

    private DicomConstants() {
    }
}

package org.cttriage.core.audit;

/**
 * The codes the node's audit messages use, each from the DICOM Controlled Terminology (PS3.16
 * Annex D, scheme {@code DCM}; every one checked against the code tables Debian's python3-pydicom
 * ships in {@code pydicom/sr/_concepts_dict.py}), from the value sets of PS3.15 A.5.1.2 (scheme
 * {@code RFC-3881}), or ct-triage's own ({@link #PRIVATE_SCHEME}).
 */
public final class AuditCodes {
    private AuditCodes() {
    }

    /** ct-triage's coding scheme designator for its own event type codes (PS3.16 8.2: private ones begin with 99). */
    public static final String PRIVATE_SCHEME = "99CTTRIAGE";

    // Event IDs (CID 400 "Audit Event ID").
    /** (110100, DCM, "Application Activity"), PS3.15 A.5.3.1. */
    public static final CodedValue APPLICATION_ACTIVITY = CodedValue.dcm("110100", "Application Activity");
    /** (110102, DCM, "Begin Transferring DICOM Instances"), A.5.3.3. */
    public static final CodedValue BEGIN_TRANSFERRING = CodedValue.dcm("110102", "Begin Transferring DICOM Instances");
    /** (110104, DCM, "DICOM Instances Transferred"), A.5.3.7. */
    public static final CodedValue INSTANCES_TRANSFERRED = CodedValue.dcm("110104", "DICOM Instances Transferred");
    /** (110106, DCM, "Export"), A.5.3.4. */
    public static final CodedValue EXPORT = CodedValue.dcm("110106", "Export");
    /** (110109, DCM, "Order Record"), A.5.3.13. */
    public static final CodedValue ORDER_RECORD = CodedValue.dcm("110109", "Order Record");
    /** (110111, DCM, "Procedure Record"), A.5.3.15. */
    public static final CodedValue PROCEDURE_RECORD = CodedValue.dcm("110111", "Procedure Record");
    /** (110113, DCM, "Security Alert"), A.5.3.11. */
    public static final CodedValue SECURITY_ALERT = CodedValue.dcm("110113", "Security Alert");
    /** (110114, DCM, "User Authentication"), A.5.3.12. */
    public static final CodedValue USER_AUTHENTICATION = CodedValue.dcm("110114", "User Authentication");

    // Event type codes (CID 401 "Audit Event Type Code", CID 403 "Security Alert Type").
    /** (110120, DCM, "Application Start"). */
    public static final CodedValue APPLICATION_START = CodedValue.dcm("110120", "Application Start");
    /** (110121, DCM, "Application Stop"). */
    public static final CodedValue APPLICATION_STOP = CodedValue.dcm("110121", "Application Stop");
    /** (110122, DCM, "Login"). */
    public static final CodedValue LOGIN = CodedValue.dcm("110122", "Login");
    /** (110123, DCM, "Logout"). */
    public static final CodedValue LOGOUT = CodedValue.dcm("110123", "Logout");
    /** (110126, DCM, "Node Authentication"). */
    public static final CodedValue NODE_AUTHENTICATION = CodedValue.dcm("110126", "Node Authentication");
    /** (110129, DCM, "Security Configuration"). */
    public static final CodedValue SECURITY_CONFIGURATION = CodedValue.dcm("110129", "Security Configuration");
    /** (110133, DCM, "Audit Recording Stopped"). */
    public static final CodedValue AUDIT_RECORDING_STOPPED = CodedValue.dcm("110133", "Audit Recording Stopped");
    /** (110134, DCM, "Audit Recording Started"). */
    public static final CodedValue AUDIT_RECORDING_STARTED = CodedValue.dcm("110134", "Audit Recording Started");
    /** ct-triage: an operator put a dead-lettered delivery back to pending ({@code dead-letters retry}). */
    public static final CodedValue DEAD_LETTER_RETRIED = new CodedValue("DLRETRY", PRIVATE_SCHEME,
            "Dead letter retried");
    /** ct-triage: an operator gave up a dead-lettered delivery ({@code dead-letters discard}). */
    public static final CodedValue DEAD_LETTER_DISCARDED = new CodedValue("DLDISCARD", PRIVATE_SCHEME,
            "Dead letter discarded");

    /** ct-triage: a reader reviewed a study on the worklist (confirmed, dismissed or re-prioritised its result). */
    public static final CodedValue WORKLIST_REVIEW = new CodedValue("WLREVIEW", PRIVATE_SCHEME, "Worklist review");

    // Active participant role IDs (CID 402 "Audit Active Participant Role ID Code").
    /** (110150, DCM, "Application"). */
    public static final CodedValue ROLE_APPLICATION = CodedValue.dcm("110150", "Application");
    /** (110151, DCM, "Application Launcher"). */
    public static final CodedValue ROLE_APPLICATION_LAUNCHER = CodedValue.dcm("110151", "Application Launcher");
    /** (110152, DCM, "Destination Role ID"). */
    public static final CodedValue ROLE_DESTINATION = CodedValue.dcm("110152", "Destination Role ID");
    /** (110153, DCM, "Source Role ID"). */
    public static final CodedValue ROLE_SOURCE = CodedValue.dcm("110153", "Source Role ID");
    /** (110154, DCM, "Destination Media"). */
    public static final CodedValue ROLE_DESTINATION_MEDIA = CodedValue.dcm("110154", "Destination Media");

    // Media type (CID 405 "Media Type Code").
    /** (110037, DCM, "URI"): what a network export is written to. */
    public static final CodedValue MEDIA_URI = CodedValue.dcm("110037", "URI");

    // Participant object ID type codes (CID 404 "Audit Participant Object ID Type Code"; A.5.1.2.4).
    /** (110180, DCM, "Study Instance UID"). */
    public static final CodedValue STUDY_INSTANCE_UID = CodedValue.dcm("110180", "Study Instance UID");
    /** (110182, DCM, "Node ID"). */
    public static final CodedValue NODE_ID = CodedValue.dcm("110182", "Node ID");
    /** RFC 3881 value 2, "Patient Number" (PS3.15 Table A.5.1.2.4-1). */
    public static final CodedValue PATIENT_NUMBER = new CodedValue("2", "RFC-3881", "Patient Number");
    /** RFC 3881 value 12, "URI" (PS3.15 Table A.5.1.2.4-1). */
    public static final CodedValue URI = new CodedValue("12", "RFC-3881", "URI");

    /** The type of audit source the node is: 4, application server process (PS3.15 A.5.1.2.1). */
    public static final String SOURCE_TYPE_APPLICATION_SERVER = "4";
    /** The ParticipantObjectDetail type the Security Alert message requires (A.5.3.11). */
    public static final String ALERT_DESCRIPTION = "Alert Description";
}

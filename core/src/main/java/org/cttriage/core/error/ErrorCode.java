package org.cttriage.core.error;

/**
 * Stable error codes. Every {@link TriageException} message starts with its code so that
 * an operator can grep logs and the documentation for it. Codes are never reused: a
 * retired condition keeps its number. Ranges: 01xx reading files, 02xx selecting a
 * series, 03xx assembling a volume, 04xx models and inference, 05xx delivering FHIR, 06xx the
 * node (DICOM network, storage, delivery), 07xx the audit trail, 08xx delivering HL7 v2 to the RIS.
 */
public enum ErrorCode {
    /** The file is not DICOM, is truncated, or PixelMed could not parse it. */
    UNREADABLE_FILE(101, "file is not readable as DICOM"),
    /** A required attribute is absent or malformed. */
    MISSING_ATTRIBUTE(102, "required attribute missing or malformed"),
    /** Pixel data is encoded in a transfer syntax we cannot or must not decode. */
    UNSUPPORTED_TRANSFER_SYNTAX(103, "transfer syntax not supported"),
    /** Pixel data layout that is not a single-sample greyscale CT image. */
    UNSUPPORTED_PIXEL_FORMAT(104, "pixel format not supported"),
    /** Pixel data shorter than Rows × Columns × frames says, or undecodable. */
    PIXEL_DATA_CORRUPT(105, "pixel data truncated or corrupt"),
    /** A file or folder given to us does not exist or cannot be listed. */
    NO_SUCH_INPUT(106, "input not found"),
    /** A DICOM object without pixel data (structured report, RT plan, …): not an image. */
    NOT_AN_IMAGE(107, "not an image"),
    /**
     * A header value the volume depends on (rescale slope/intercept, pixel spacing, position,
     * orientation, slice thickness, bits) is non-finite or outside what a CT image can have.
     */
    IMPLAUSIBLE_HEADER_VALUE(108, "header value outside what a CT image can have"),

    /** Not one series in the input qualified for triage. */
    NO_ELIGIBLE_SERIES(201, "no series qualifies for triage"),
    /** Modality is not CT. */
    NOT_CT(202, "not a CT series"),
    /** Image Type is not ORIGINAL\PRIMARY. */
    NOT_ORIGINAL_PRIMARY(203, "not an ORIGINAL\\PRIMARY series"),
    /** A localizer (scout) series. */
    LOCALIZER(204, "localizer series"),
    /** Slice plane too far from axial. */
    NOT_AXIAL(205, "not axial"),
    /** Fewer slices than the policy's minimum. */
    TOO_FEW_SLICES(206, "too few slices"),
    /** Slices of one series with different Rows/Columns. */
    MIXED_MATRIX(207, "mixed matrix sizes"),
    /** Several slices at one position that cannot be told apart as phases, or rejected by policy. */
    DUPLICATE_POSITIONS(208, "duplicate slice positions"),
    /** Gantry tilt present and the policy rejects it. */
    GANTRY_TILT(209, "gantry tilt"),
    /** Slice spacing varies beyond the tolerance in a way that is not missing slices. */
    NON_UNIFORM_SPACING(210, "non-uniform slice spacing"),
    /** Missing slices beyond what the policy may interpolate. */
    GAP_TOO_LARGE(211, "missing slices"),
    /** Slices of one series with different orientations. */
    MIXED_ORIENTATION(212, "mixed slice orientations"),
    /** Image Position/Orientation or Pixel Spacing absent, so no geometry can be built. */
    MISSING_GEOMETRY(213, "missing geometry"),
    /** Slices of one series with different pixel spacing. */
    MIXED_PIXEL_SPACING(214, "mixed pixel spacing"),
    /** The decision among several qualifying series went to another one. */
    NOT_PREFERRED(215, "another series preferred"),

    /** The volume would exceed the configured voxel limit. */
    VOLUME_TOO_LARGE(301, "volume too large"),
    /** The rescaled pixel values are outside what a CT scanner produces (absurd rescale or garbage pixels). */
    IMPLAUSIBLE_HU(302, "rescaled values outside what CT produces"),

    /** A model package is missing a file, or its manifest or dictionary is malformed. */
    MODEL_PACKAGE_INVALID(401, "model package invalid"),
    /** A model package file does not have the SHA-256 its manifest lists. */
    MODEL_CHECKSUM_MISMATCH(402, "model file checksum mismatch"),
    /** An ONNX model's real inputs/outputs differ from what the manifest declares. */
    MODEL_SIGNATURE_MISMATCH(403, "model inputs/outputs differ from manifest"),
    /** The requested inference device (e.g. CUDA) is not available. */
    DEVICE_UNAVAILABLE(404, "inference device unavailable"),
    /** ONNX Runtime failed while running a model. */
    INFERENCE_FAILED(405, "inference failed"),
    /**
     * ONNX Runtime's native libraries could not be kept in the shared owner-only folder under java.io.tmpdir (not
     * writable, no POSIX permissions, a link, another user's or open to others): the binding unpacks a copy of its own
     * at each start and leaves it.
     */
    NATIVE_LIBRARIES_NOT_SHARED(406, "ONNX Runtime native libraries not shared between starts"),

    /** The FHIR server could not be reached, timed out, or answered 5xx or 429: retried with backoff. */
    FHIR_SERVER_UNAVAILABLE(501, "FHIR server unavailable"),
    /** The FHIR server refused the bundle with a 4xx status that retrying cannot change. */
    FHIR_REJECTED(502, "FHIR server rejected the bundle"),
    /** The token endpoint refused or could not be reached, or the FHIR server answered 401/403. */
    FHIR_AUTH_FAILED(503, "FHIR authentication failed"),
    /** The outgoing bundle has errors against the R4 definitions, so it was not sent. */
    FHIR_BUNDLE_INVALID(504, "FHIR bundle invalid"),
    /** The FHIR server's answer is not a readable transaction-response Bundle: retried. */
    FHIR_MALFORMED_RESPONSE(505, "FHIR server response malformed"),
    /** Delivery was given up; the bundle waits in the dead-letter directory. */
    FHIR_DEAD_LETTERED(506, "FHIR bundle dead-lettered"),
    /** The dead-letter directory could not be written or read, or holds an unreadable entry. */
    FHIR_DEAD_LETTER_IO(507, "FHIR dead-letter store failed"),
    /**
     * The study's order cannot be raised on the FHIR server: the study has no Accession Number, or not exactly one
     * ServiceRequest carries it (none, or several), or the server keeps no versions to update it safely.
     */
    FHIR_NO_ORDER(508, "no single FHIR ServiceRequest for the study"),
    RECEIVE_WRITE_FAILED(601, "cannot write a received instance"),
    STORE_HANDLER_FAILED(602, "received instance could not be recorded"),
    ACCEPT_FAILED(603, "accepting a connection failed"),
    ASSOCIATION_THREADS_BUSY(604, "connection dropped: all association threads busy"),
    ASSOCIATION_REJECTED(605, "association rejected"),
    ASSOCIATION_FAILED(606, "association failed"),
    LISTENER_START_FAILED(607, "DICOM listener could not start"),
    INSTANCE_REFUSED(608, "received instance refused"),
    NODE_DATABASE_FAILED(609, "node database failed"),
    DICOM_DELIVERY_FAILED(610, "C-STORE of a result failed"),
    DICOM_DEAD_LETTER(611, "result delivery given up"),
    CONFIGURATION_INVALID(612, "configuration invalid"),
    ECHO_FAILED(613, "C-ECHO failed"),
    TRIAGE_FAILED(614, "series could not be triaged"),
    SPOOL_RECONCILED(615, "spool file not named by the database"),
    SPOOL_PURGED(616, "series' instances removed from the spool by retention"),
    PDU_REJECTED(617, "malformed or unexpected PDU answered with A-ABORT"),
    ARTIM_EXPIRED(618, "A-ASSOCIATE-RQ not received within the ARTIM timeout"),
    HOST_CONNECTION_LIMIT(619, "too many connections from one host"),
    PEER_ABORTED(620, "association aborted by the peer"),
    PARTIAL_INSTANCE_DISCARDED(621, "association ended with a data set half received"),
    NESTING_TOO_DEEP(622, "data set or command nested too deeply"),
    /** The key images of a result could not be rendered or written; the result, its SR and deliveries stand. */
    KEY_IMAGES_NOT_WRITTEN(623, "key images not written"),
    /** A TLS handshake failed (no common protocol or suite, plain TCP on a TLS port, refused certificate) or a TLS record was bad. */
    TLS_FAILED(630, "TLS failed"),
    /** The peer's certificate chain does not lead to a certificate of our trust store. */
    TLS_PEER_UNTRUSTED(631, "TLS peer certificate not trusted"),
    /** The peer's certificate is trusted but names neither the host name nor the address we connected to. */
    TLS_PEER_NAME_MISMATCH(632, "TLS peer certificate does not name the peer"),
    /** The peer's certificate is not the one whose SHA-256 fingerprint is pinned for it. */
    TLS_PEER_PIN_MISMATCH(633, "TLS peer certificate is not the pinned one"),
    /** A TLS key store or trust store could not be read (missing, wrong password, not PKCS#12). */
    TLS_KEY_MATERIAL_UNREADABLE(634, "TLS key material unreadable"),
    /** A group commit of received instances failed; every C-STORE of the batch answered Processing Failure. */
    INGEST_BATCH_FAILED(640, "group commit of received instances failed"),
    /** Security event: log.patient-data is on, so the operational log names patients. */
    PATIENT_DATA_LOGGED(690, "patient data in the operational log"),

    /** The audit trail's syslog collector cannot be reached or a send failed; messages wait in the spool. */
    AUDIT_COLLECTOR_UNREACHABLE(701, "audit syslog collector unreachable; messages kept in the audit spool"),
    /** The audit spool reached its size limit: new audit messages are dropped until it drains. */
    AUDIT_SPOOL_FULL(702, "audit spool full; audit messages dropped"),
    /** An audit message could not be written to the audit spool or the audit file (I/O error). */
    AUDIT_WRITE_FAILED(703, "audit message could not be written"),
    /** An audit message was dropped before it reached the spool: the queue was full, or too long for UDP. */
    AUDIT_MESSAGE_DROPPED(704, "audit message dropped"),


    /**
     * The RIS could not be reached over MLLP, did not acknowledge in time, answered something that is not a
     * readable acknowledgement of our message, or acknowledged with an error the standard calls transient
     * (CE; AE/AR with ERR-3 206 or 207): retried.
     */
    HL7_RIS_UNAVAILABLE(801, "RIS unreachable or no acknowledgement"),
    /** The RIS refused the order message (AE, AR, CR): retrying cannot change it. */
    HL7_REJECTED(802, "RIS refused the order message"),
    /** The study does not say which order it belongs to (no Accession Number, or no Patient ID): nothing is sent. */
    HL7_NO_ORDER(803, "study names no RIS order"),
    /** The order message could not be built from the stored result (a mapping defect): nothing is sent. */
    HL7_MESSAGE_INVALID(804, "HL7 order message could not be built"),

    /**
     * The UPS-RS server (DICOM Worklist Service) could not be reached, timed out, or answered 5xx, 408 or 429, or the
     * workitem changed state while it was being updated: retried.
     */
    UPS_SERVER_UNAVAILABLE(821, "UPS-RS server unavailable"),
    /** The UPS-RS server refused the workitem or its update (4xx other than 408/409/429): retrying cannot change it. */
    UPS_REJECTED(822, "UPS-RS server refused the workitem"),
    /** The UPS-RS server's answer could not be read as the DICOM JSON the Worklist Service defines: retried. */
    UPS_MALFORMED_RESPONSE(823, "UPS-RS server response malformed"),

    /**
     * Multi-node mode: the message broker could not be reached or refused a send; the messages wait in the
     * database's outbox and are sent when it is back.
     */
    BROKER_UNAVAILABLE(901, "message broker unreachable; messages kept in the outbox");

    private final int number;
    private final String summary;

    ErrorCode(int number, String summary) {
        this.number = number;
        this.summary = summary;
    }

    /** The code as printed, e.g. {@code TRIAGE-0101}. */
    public String code() {
        return String.format("TRIAGE-%04d", number);
    }

    /** A short human summary of the condition. */
    public String summary() {
        return summary;
    }

    /** The numeric part of the code. */
    public int number() {
        return number;
    }
}

package org.cttriage.core.dicom.net;

import java.io.IOException;
import java.util.Optional;
import org.cttriage.core.error.ErrorCode;

/**
 * The peer broke the DICOM Upper Layer protocol (PS3.8 9.2): what it did, in one line without
 * patient data, and the PDU the node answers with (an A-ABORT), if any; without one the node
 * only closes the transport connection (ARTIM expired, PS3.8 action AA-2).
 */
final class ProtocolViolation extends IOException {
    private final ErrorCode code;
    private final transient Optional<byte[]> answer;

    private ProtocolViolation(ErrorCode code, String what, Optional<byte[]> answer) {
        super(what);
        this.code = code;
        this.answer = answer;
    }

    /** Before association (state Sta2): PS3.8 action AA-1, A-ABORT with the service-user as source. */
    static ProtocolViolation beforeAssociation(String what) {
        return new ProtocolViolation(ErrorCode.PDU_REJECTED, what,
                Optional.of(Pdu.abort(Pdu.AbortSource.SERVICE_USER, Pdu.AbortReason.REASON_NOT_SPECIFIED)));
    }

    /** During data transfer (Sta6): PS3.8 action AA-8, A-ABORT from the service-provider with a reason. */
    static ProtocolViolation inDataTransfer(Pdu.AbortReason reason, String what) {
        return new ProtocolViolation(ErrorCode.PDU_REJECTED, what,
                Optional.of(Pdu.abort(Pdu.AbortSource.SERVICE_PROVIDER, reason)));
    }

    /** A DIMSE message the node cannot take: the DIMSE layer, as UL service-user, aborts. */
    static ProtocolViolation dimse(ErrorCode code, String what) {
        return new ProtocolViolation(code, what,
                Optional.of(Pdu.abort(Pdu.AbortSource.SERVICE_USER, Pdu.AbortReason.REASON_NOT_SPECIFIED)));
    }

    /** ARTIM expired before the A-ASSOCIATE-RQ was complete: PS3.8 action AA-2, close without a PDU. */
    static ProtocolViolation artimExpired(String what) {
        return new ProtocolViolation(ErrorCode.ARTIM_EXPIRED, what, Optional.empty());
    }

    /** The code the log line carries. */
    ErrorCode code() {
        return code;
    }

    /** The PDU sent in answer, if any. */
    Optional<byte[]> answer() {
        return answer;
    }

    /** The answer in words for the log line. */
    String answerDescription() {
        if (answer.isEmpty()) {
            return "transport connection closed";
        }
        byte[] a = answer.get();
        return "A-ABORT sent (source " + a[8] + ", reason " + a[9] + ")";
    }
}

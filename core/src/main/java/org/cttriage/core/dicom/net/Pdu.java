package org.cttriage.core.dicom.net;

/**
 * The DICOM Upper Layer's PDU framing and A-ABORT values (PS3.8 9.3), by the standard's names:
 * every PDU is a type byte, a reserved byte and a 4-byte big-endian length of what follows.
 */
final class Pdu {
    static final int HEADER_LENGTH = 6;
    /** PDU types (PS3.8 Table 9-11 and following). */
    static final int A_ASSOCIATE_RQ = 0x01;
    static final int A_ASSOCIATE_AC = 0x02;
    static final int A_ASSOCIATE_RJ = 0x03;
    static final int P_DATA_TF = 0x04;
    static final int A_RELEASE_RQ = 0x05;
    static final int A_RELEASE_RP = 0x06;
    static final int A_ABORT = 0x07;
    /** Length of the variable field of A-RELEASE-RQ/RP and A-ABORT (PS3.8 9.3.6-9.3.8). */
    static final int SHORT_PDU_LENGTH = 4;

    /** A-ABORT source (PS3.8 Table 9-26). */
    enum AbortSource {
        /** DICOM UL service-user (initiated abort); its reason is not significant and sent as 0. */
        SERVICE_USER(0),
        /** DICOM UL service-provider (initiated abort). */
        SERVICE_PROVIDER(2);

        final int value;

        AbortSource(int value) {
            this.value = value;
        }
    }

    /** A-ABORT reason/diag when the source is the service-provider (PS3.8 Table 9-26). */
    enum AbortReason {
        REASON_NOT_SPECIFIED(0),
        UNRECOGNIZED_PDU(1),
        UNEXPECTED_PDU(2),
        UNRECOGNIZED_PDU_PARAMETER(4),
        UNEXPECTED_PDU_PARAMETER(5),
        INVALID_PDU_PARAMETER_VALUE(6);

        final int value;

        AbortReason(int value) {
            this.value = value;
        }
    }

    private Pdu() {
    }

    /** The A-ABORT PDU (PS3.8 9.3.8): type, reserved, length 4, two reserved bytes, source, reason. */
    static byte[] abort(AbortSource source, AbortReason reason) {
        int why = source == AbortSource.SERVICE_USER ? 0 : reason.value;
        return new byte[] {A_ABORT, 0, 0, 0, 0, SHORT_PDU_LENGTH, 0, 0, (byte) source.value, (byte) why};
    }

    /** The variable-field length of a PDU header, unsigned. */
    static long length(byte[] header) {
        return ((header[2] & 0xFFL) << 24) | ((header[3] & 0xFF) << 16) | ((header[4] & 0xFF) << 8) | (header[5] & 0xFF);
    }

    /** The standard's name of a PDU type, for log lines. */
    static String name(int type) {
        return switch (type) {
            case A_ASSOCIATE_RQ -> "A-ASSOCIATE-RQ";
            case A_ASSOCIATE_AC -> "A-ASSOCIATE-AC";
            case A_ASSOCIATE_RJ -> "A-ASSOCIATE-RJ";
            case P_DATA_TF -> "P-DATA-TF";
            case A_RELEASE_RQ -> "A-RELEASE-RQ";
            case A_RELEASE_RP -> "A-RELEASE-RP";
            case A_ABORT -> "A-ABORT";
            default -> String.format("unrecognized PDU type %02XH", type);
        };
    }
}

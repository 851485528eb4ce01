package org.cttriage.core.dicom.net;

/** What the association policy decided for one A-ASSOCIATE-RQ. */
public sealed interface AssociationDecision permits AssociationDecision.Accept, AssociationDecision.Reject {
    /** Accept: PixelMed negotiates the presentation contexts. */
    record Accept() implements AssociationDecision {
    }

    /**
     * Reject with an A-ASSOCIATE-RJ (PS3.8 Table 9-21).
     *
     * @param result permanent or transient
     * @param source who rejects
     * @param reason the reason/diagnostic value for that source
     * @param why the log line's explanation (no PHI)
     */
    record Reject(Result result, Source source, int reason, String why) implements AssociationDecision {
        /** Service-user reason: calling AE title not recognized. */
        public static final int CALLING_AE_NOT_RECOGNIZED = 3;
        /** Service-user reason: called AE title not recognized. */
        public static final int CALLED_AE_NOT_RECOGNIZED = 7;
        /** Service-provider (ACSE) reason: protocol-version-not-supported. */
        public static final int PROTOCOL_VERSION_NOT_SUPPORTED = 2;
        /** Service-provider (presentation) reason: temporary congestion. */
        public static final int TEMPORARY_CONGESTION = 1;
        /** Service-provider (presentation) reason: local limit exceeded. */
        public static final int LOCAL_LIMIT_EXCEEDED = 2;

        public static Reject callingAe(String calling) {
            return callingAe(calling, "is not in the allow-list");
        }

        public static Reject callingAe(String calling, String why) {
            return new Reject(Result.PERMANENT, Source.SERVICE_USER, CALLING_AE_NOT_RECOGNIZED,
                    "calling AE title " + AssociationRequest.printable(calling) + " " + why);
        }

        public static Reject calledAe(String called) {
            return new Reject(Result.PERMANENT, Source.SERVICE_USER, CALLED_AE_NOT_RECOGNIZED,
                    "called AE title " + AssociationRequest.printable(called) + " is not ours");
        }

        /** PS3.8 9.3.2: bit 0 of the Protocol-version field must be set. */
        public static Reject protocolVersion(int version) {
            return new Reject(Result.PERMANENT, Source.SERVICE_PROVIDER_ACSE, PROTOCOL_VERSION_NOT_SUPPORTED,
                    String.format("protocol version %04XH is not supported", version));
        }

        public static Reject limit(String why) {
            return new Reject(Result.TRANSIENT, Source.SERVICE_PROVIDER_PRESENTATION, LOCAL_LIMIT_EXCEEDED, why);
        }

        public static Reject congestion(String why) {
            return new Reject(Result.TRANSIENT, Source.SERVICE_PROVIDER_PRESENTATION, TEMPORARY_CONGESTION, why);
        }
    }

    /** A-ASSOCIATE-RJ Result field. */
    enum Result {
        PERMANENT(1), TRANSIENT(2);

        final int value;

        Result(int value) {
            this.value = value;
        }
    }

    /** A-ASSOCIATE-RJ Source field. */
    enum Source {
        SERVICE_USER(1), SERVICE_PROVIDER_ACSE(2), SERVICE_PROVIDER_PRESENTATION(3);

        final int value;

        Source(int value) {
            this.value = value;
        }
    }
}

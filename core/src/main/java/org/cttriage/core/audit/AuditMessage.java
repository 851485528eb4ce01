package org.cttriage.core.audit;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One DICOM audit message (PS3.15 A.5.1.1 {@code AuditMessage}): the event, its active
 * participants (at least one), the audit source, and the participant objects. The model holds what
 * the schema allows and {@link AuditXml} writes it in the schema's order; which fields a given event
 * fills, and with what, is {@link AuditEvents}' business (PS3.15 A.5.3).
 *
 * @param event what happened ({@code EventIdentification})
 * @param participants who took part ({@code ActiveParticipant}, one or more)
 * @param source who reports it ({@code AuditSourceIdentification})
 * @param objects what it happened to ({@code ParticipantObjectIdentification})
 */
public record AuditMessage(Event event, List<ActiveParticipant> participants, AuditSource source,
        List<ParticipantObject> objects) {
    public AuditMessage {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(source, "source");
        participants = List.copyOf(participants);
        objects = List.copyOf(objects);
        if (participants.isEmpty()) {
            throw new IllegalArgumentException("an audit message has at least one active participant");
        }
        if (participants.stream().filter(ActiveParticipant::requestor).count() > 1) {
            // PS3.15 A.5.2: "The system shall not identify multiple participants as UserIsRequestor."
            throw new IllegalArgumentException("at most one active participant is the requestor");
        }
    }

    /** {@code EventActionCode} (PS3.15 A.5.2). */
    public enum Action {
        CREATE("C"), READ("R"), UPDATE("U"), DELETE("D"), EXECUTE("E");

        private final String code;

        Action(String code) {
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    /** {@code EventOutcomeIndicator} (PS3.15 A.5.2). */
    public enum Outcome {
        /** 0: success (or, for a Security Alert, an informative alert). */
        SUCCESS("0"),
        /** 4: minor failure; action restarted, or (Security Alert) mitigation was effective. */
        MINOR_FAILURE("4"),
        /** 8: serious failure; action terminated. */
        SERIOUS_FAILURE("8"),
        /** 12: major failure; action made unavailable. */
        MAJOR_FAILURE("12");

        private final String code;

        Outcome(String code) {
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    /**
     * {@code EventIdentification}.
     *
     * @param id {@code EventID}
     * @param action {@code EventActionCode}
     * @param dateTime {@code EventDateTime}, written in UTC with its zone ("Z"), A.5.2.5
     * @param outcome {@code EventOutcomeIndicator}
     * @param types {@code EventTypeCode}s
     * @param outcomeDescription {@code EventOutcomeDescription}: free text, no control characters
     */
    public record Event(CodedValue id, Action action, Instant dateTime, Outcome outcome, List<CodedValue> types,
            Optional<String> outcomeDescription) {
        public Event {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(action, "action");
            Objects.requireNonNull(dateTime, "dateTime");
            Objects.requireNonNull(outcome, "outcome");
            types = List.copyOf(types);
            outcomeDescription = outcomeDescription.map(AuditMessage::oneLine);
        }
    }

    /** {@code NetworkAccessPointTypeCode} (PS3.15 A.5.1.1). */
    public enum AccessPointType {
        MACHINE_NAME("1"), IP_ADDRESS("2"), URI("5");

        private final String code;

        AccessPointType(String code) {
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    /**
     * Where a participant was on the network.
     *
     * @param id {@code NetworkAccessPointID}
     * @param type {@code NetworkAccessPointTypeCode}
     */
    public record NetworkAccessPoint(String id, AccessPointType type) {
        public NetworkAccessPoint {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(type, "type");
        }
    }

    /**
     * {@code ActiveParticipant}.
     *
     * @param userId {@code UserID} (A.5.2.1)
     * @param alternativeUserId {@code AlternativeUserID}; for a DICOM application {@code AETITLES=...} (A.5.2.2)
     * @param userName {@code UserName}
     * @param requestor {@code UserIsRequestor}
     * @param roles {@code RoleIDCode}s
     * @param mediaType {@code MediaIdentifier/MediaType}, for a media participant (Export)
     * @param accessPoint {@code NetworkAccessPointID} and {@code NetworkAccessPointTypeCode}
     */
    public record ActiveParticipant(String userId, Optional<String> alternativeUserId, Optional<String> userName,
            boolean requestor, List<CodedValue> roles, Optional<CodedValue> mediaType,
            Optional<NetworkAccessPoint> accessPoint) {
        public ActiveParticipant {
            Objects.requireNonNull(userId, "userId");
            Objects.requireNonNull(alternativeUserId, "alternativeUserId");
            Objects.requireNonNull(userName, "userName");
            roles = List.copyOf(roles);
            Objects.requireNonNull(mediaType, "mediaType");
            Objects.requireNonNull(accessPoint, "accessPoint");
        }
    }

    /**
     * {@code AuditSourceIdentification}.
     *
     * @param sourceId {@code AuditSourceID}
     * @param enterpriseSiteId {@code AuditEnterpriseSiteID}
     * @param typeCodes {@code AuditSourceTypeCode} values of A.5.1.2.1 (e.g. "4")
     */
    public record AuditSource(String sourceId, Optional<String> enterpriseSiteId, List<String> typeCodes) {
        public AuditSource {
            Objects.requireNonNull(sourceId, "sourceId");
            Objects.requireNonNull(enterpriseSiteId, "enterpriseSiteId");
            typeCodes = List.copyOf(typeCodes);
        }
    }

    /** {@code ParticipantObjectTypeCode}. */
    public enum ObjectType {
        PERSON("1"), SYSTEM_OBJECT("2"), ORGANIZATION("3"), OTHER("4");

        private final String code;

        ObjectType(String code) {
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    /** {@code ParticipantObjectTypeCodeRole} (the values the node uses; A.5.2.6). */
    public enum ObjectRole {
        PATIENT("1"), REPORT("3"), RESOURCE("4"), MASTER_FILE("5"), SECURITY_RESOURCE("13"), DATA_DESTINATION("16");

        private final String code;

        ObjectRole(String code) {
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    /** {@code ParticipantObjectDataLifeCycle} (the values the node uses; A.5.1.2.3). */
    public enum LifeCycle {
        ORIGINATION("1"), IMPORT("2"), AMENDMENT("3"), EXPORT("10"), LOGICAL_DELETION("14");

        private final String code;

        LifeCycle(String code) {
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    /**
     * {@code ParticipantObjectDetail}: a type and a value, written in base64 as the schema asks.
     *
     * @param type the implementation-defined type
     * @param value the value's text (UTF-8 before base64)
     */
    public record Detail(String type, String value) {
        public Detail {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(value, "value");
        }
    }

    /**
     * {@code SOPClass} in a {@code ParticipantObjectDescription}: the instances of one SOP class in
     * the object (a study).
     *
     * @param uid the SOP Class UID
     * @param instances {@code NumberOfInstances}
     */
    public record SopClass(String uid, int instances) {
        public SopClass {
            Objects.requireNonNull(uid, "uid");
        }
    }

    /**
     * {@code ParticipantObjectDescription} of a DICOM object (DICOMObjectDescriptionContents).
     *
     * @param accessionNumbers {@code Accession} numbers
     * @param sopClasses {@code SOPClass} entries with their instance counts
     * @param encrypted {@code Encrypted}: whether the data crossed the network encrypted (TLS)
     */
    public record DicomDescription(List<String> accessionNumbers, List<SopClass> sopClasses,
            Optional<Boolean> encrypted) {
        public DicomDescription {
            accessionNumbers = List.copyOf(accessionNumbers);
            sopClasses = List.copyOf(sopClasses);
            Objects.requireNonNull(encrypted, "encrypted");
        }
    }

    /**
     * {@code ParticipantObjectIdentification}. The schema of A.5.1.1 requires either a
     * {@code ParticipantObjectName} or a {@code ParticipantObjectQuery}; the node always writes the
     * name (for a study its Study Instance UID again, PS3.15 2024e's tables make the name MC for
     * exactly this reason).
     *
     * @param id {@code ParticipantObjectID}
     * @param type {@code ParticipantObjectTypeCode}
     * @param role {@code ParticipantObjectTypeCodeRole}
     * @param lifeCycle {@code ParticipantObjectDataLifeCycle}
     * @param idType {@code ParticipantObjectIDTypeCode}
     * @param name {@code ParticipantObjectName}
     * @param details {@code ParticipantObjectDetail}s
     * @param description {@code ParticipantObjectDescription}
     */
    public record ParticipantObject(String id, ObjectType type, ObjectRole role, Optional<LifeCycle> lifeCycle,
            CodedValue idType, String name, List<Detail> details, Optional<DicomDescription> description) {
        public ParticipantObject {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(role, "role");
            Objects.requireNonNull(lifeCycle, "lifeCycle");
            Objects.requireNonNull(idType, "idType");
            Objects.requireNonNull(name, "name");
            details = List.copyOf(details);
            Objects.requireNonNull(description, "description");
        }
    }

    /** Free text made one line: control characters become spaces (a message is one line in the audit file). */
    static String oneLine(String text) {
        StringBuilder b = new StringBuilder(text.length());
        text.codePoints().forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? ' ' : c));
        return b.toString();
    }
}

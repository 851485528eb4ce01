package org.cttriage.core.audit;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.cttriage.core.audit.AuditMessage.AccessPointType;
import org.cttriage.core.audit.AuditMessage.Action;
import org.cttriage.core.audit.AuditMessage.ActiveParticipant;
import org.cttriage.core.audit.AuditMessage.AuditSource;
import org.cttriage.core.audit.AuditMessage.Detail;
import org.cttriage.core.audit.AuditMessage.DicomDescription;
import org.cttriage.core.audit.AuditMessage.Event;
import org.cttriage.core.audit.AuditMessage.LifeCycle;
import org.cttriage.core.audit.AuditMessage.NetworkAccessPoint;
import org.cttriage.core.audit.AuditMessage.ObjectRole;
import org.cttriage.core.audit.AuditMessage.ObjectType;
import org.cttriage.core.audit.AuditMessage.Outcome;
import org.cttriage.core.audit.AuditMessage.ParticipantObject;
import org.cttriage.core.audit.AuditMessage.SopClass;

/**
 * Builds every audit message the node sends, each as PS3.15 A.5.3 specialises it (the table named
 * on each method). The reporting process is always this process: {@code UserID} its process id
 * (the identifier its own log files carry, A.5.2.1), {@code AlternativeUserID}
 * {@code AETITLES=<our AE title>} (A.5.2.2), {@code UserName} the program, and the host name as its
 * network access point (one name for every message, A.5.2.4). docs/operations.md lists the events.
 */
public final class AuditEvents {
    /**
     * Who reports: this process.
     *
     * @param sourceId {@code AuditSourceID}
     * @param enterpriseSiteId {@code AuditEnterpriseSiteID}, when configured
     * @param aeTitle our AE title
     * @param hostName the host's name, our network access point
     * @param processId our process id, our {@code UserID}
     * @param processName the program as {@code UserName}, e.g. {@code ct-triage serve}
     * @param osUser the operating-system account that runs the process (the person or service that launched it)
     */
    public record Reporter(String sourceId, Optional<String> enterpriseSiteId, String aeTitle, String hostName,
            long processId, String processName, String osUser) {
        public Reporter {
            Objects.requireNonNull(sourceId, "sourceId");
            Objects.requireNonNull(enterpriseSiteId, "enterpriseSiteId");
            Objects.requireNonNull(aeTitle, "aeTitle");
            Objects.requireNonNull(hostName, "hostName");
            Objects.requireNonNull(processName, "processName");
            Objects.requireNonNull(osUser, "osUser");
        }

        /** This process on this host. */
        public static Reporter local(String sourceId, Optional<String> enterpriseSiteId, String aeTitle,
                String processName) {
            return new Reporter(sourceId, enterpriseSiteId, aeTitle, localHostName(), ProcessHandle.current().pid(),
                    processName, System.getProperty("user.name", "unknown"));
        }
    }

    /**
     * A patient as the audit names it.
     *
     * @param id Patient ID
     * @param issuer Issuer of Patient ID, empty when not known
     * @param name Patient's Name as written in DICOM (PN, {@code ^}-separated), empty when not known
     */
    public record Patient(String id, String issuer, String name) {
        public Patient {
            id = id == null ? "" : id.strip();
            issuer = issuer == null ? "" : issuer.strip();
            name = name == null ? "" : name.strip();
        }

        /** The patient ID in HL7 CX form, {@code ID^^^ISSUER} when the issuer is known (as IHE ATNA writes it). */
        public String cx() {
            return issuer.isEmpty() ? id : id + "^^^" + issuer;
        }
    }

    /**
     * One study's instances in one transfer.
     *
     * @param studyInstanceUid the study
     * @param patient its patient
     * @param accessionNumbers accession numbers seen on its instances
     * @param sopClasses instances per SOP Class UID
     */
    public record StudyInstances(String studyInstanceUid, Patient patient, List<String> accessionNumbers,
            Map<String, Integer> sopClasses) {
        public StudyInstances {
            Objects.requireNonNull(studyInstanceUid, "studyInstanceUid");
            Objects.requireNonNull(patient, "patient");
            accessionNumbers = accessionNumbers.stream().filter(a -> !a.isBlank()).distinct().toList();
            sopClasses = Map.copyOf(sopClasses);
        }
    }

    /**
     * A DICOM peer as the audit names it.
     *
     * @param aeTitle its AE title
     * @param address its IP address or host name as connected to
     */
    public record Peer(String aeTitle, String address) {
        public Peer {
            Objects.requireNonNull(aeTitle, "aeTitle");
            Objects.requireNonNull(address, "address");
        }
    }

    private final Reporter reporter;
    private final Clock clock;

    public AuditEvents(Reporter reporter, Clock clock) {
        this.reporter = reporter;
        this.clock = clock;
    }

    public Reporter reporter() {
        return reporter;
    }

    /** Application Activity, Application Start (A.5.3.1): the node or a command started. */
    public AuditMessage applicationStarted() {
        return applicationActivity(AuditCodes.APPLICATION_START, Outcome.SUCCESS, Optional.empty());
    }

    /** Application Activity, Application Stop (A.5.3.1). */
    public AuditMessage applicationStopped() {
        return applicationActivity(AuditCodes.APPLICATION_STOP, Outcome.SUCCESS, Optional.empty());
    }

    private AuditMessage applicationActivity(CodedValue type, Outcome outcome, Optional<String> description) {
        // The application (1), and who launched it (0..N): the operating-system account it runs as.
        ActiveParticipant launcher = new ActiveParticipant(reporter.osUser() + "@" + reporter.hostName(),
                Optional.empty(), Optional.of(reporter.osUser()), true, List.of(AuditCodes.ROLE_APPLICATION_LAUNCHER),
                Optional.empty(), Optional.empty());
        return new AuditMessage(event(AuditCodes.APPLICATION_ACTIVITY, Action.EXECUTE, outcome, List.of(type),
                description), List.of(self(false, List.of(AuditCodes.ROLE_APPLICATION)), launcher), source(), List.of());
    }

    /**
     * DICOM Instances Transferred (A.5.3.7) as the receiver: {@code studies} came from {@code sender}
     * on one association that ended at {@code completed}. EventActionCode is R (A.5.3.7: "if the Audit
     * Source ... does not know whether or not the instances previously were held by the receiving
     * node"): the listener, which reports this, answers before the ingest decides whether an instance
     * is new, a repeat or a replacement.
     */
    public AuditMessage instancesReceived(Peer sender, StudyInstances study, boolean tls, Instant completed,
            Outcome outcome, Optional<String> description) {
        ActiveParticipant source = peer(sender, true, AuditCodes.ROLE_SOURCE);
        ActiveParticipant destination = self(false, List.of(AuditCodes.ROLE_DESTINATION));
        return new AuditMessage(new Event(AuditCodes.INSTANCES_TRANSFERRED, Action.READ, completed, outcome, List.of(),
                description), List.of(source, destination), source(), List.of(study(study, tls, Optional.empty()),
                patient(study.patient())));
    }

    /**
     * DICOM Instances Transferred (A.5.3.7) as the sender: our SR (or another object we made) reached
     * {@code receiver}. EventActionCode R: the node does not know whether the receiver held it before.
     */
    public AuditMessage instancesSent(Peer receiver, StudyInstances study, boolean tls, Outcome outcome,
            Optional<String> description) {
        ActiveParticipant source = self(true, List.of(AuditCodes.ROLE_SOURCE));
        ActiveParticipant destination = peer(receiver, false, AuditCodes.ROLE_DESTINATION);
        return new AuditMessage(event(AuditCodes.INSTANCES_TRANSFERRED, Action.READ, outcome, List.of(), description),
                List.of(source, destination), source(), List.of(study(study, tls, Optional.empty()),
                        patient(study.patient())));
    }

    /**
     * Data Export (A.5.3.4): a report about {@code study} left the node for a non-DICOM destination (a
     * FHIR transaction to {@code destinationUri}). The exporting process is the requestor; the
     * destination is the "media" (110154 Destination Media, media type 110037 URI, its URI as network
     * access point) that A.5.3.4 requires; the study and its patient are the objects.
     */
    public AuditMessage exported(String destinationUri, String studyInstanceUid, Patient patient, Outcome outcome,
            Optional<String> description, List<Detail> details) {
        ActiveParticipant exporter = self(true, List.of(AuditCodes.ROLE_SOURCE));
        ActiveParticipant media = new ActiveParticipant(destinationUri, Optional.empty(), Optional.empty(), false,
                List.of(AuditCodes.ROLE_DESTINATION_MEDIA), Optional.of(AuditCodes.MEDIA_URI),
                Optional.of(new NetworkAccessPoint(destinationUri, AccessPointType.URI)));
        ParticipantObject study = new ParticipantObject(studyInstanceUid, ObjectType.SYSTEM_OBJECT, ObjectRole.REPORT,
                Optional.of(LifeCycle.EXPORT), AuditCodes.STUDY_INSTANCE_UID, studyInstanceUid, details,
                Optional.empty());
        return new AuditMessage(event(AuditCodes.EXPORT, Action.READ, outcome, List.of(), description),
                List.of(exporter, media), source(), List.of(study, patient(patient)));
    }

    /**
     * Order Record, update (A.5.3.13): the node changed an order at the RIS (an HL7 v2 order change with the
     * study's suggested priority to {@code risUri}), or gave up doing so. The node is the user manipulating
     * the order (requestor), the RIS the destination (110152, its {@code mllp://} URI); the patient is the
     * one object the table has, the order's accession number and study in its details.
     */
    public AuditMessage orderUpdated(String risUri, Patient patient, Outcome outcome, Optional<String> description,
            List<Detail> details) {
        ActiveParticipant ris = new ActiveParticipant(risUri, Optional.empty(), Optional.empty(), false,
                List.of(AuditCodes.ROLE_DESTINATION), Optional.empty(),
                Optional.of(new NetworkAccessPoint(risUri, AccessPointType.URI)));
        ParticipantObject p = patient(patient);
        ParticipantObject withDetails = new ParticipantObject(p.id(), p.type(), p.role(), p.lifeCycle(), p.idType(),
                p.name(), details, p.description());
        return new AuditMessage(event(AuditCodes.ORDER_RECORD, Action.UPDATE, outcome, List.of(), description),
                List.of(self(true, List.of(AuditCodes.ROLE_SOURCE)), ris), source(), List.of(withDetails));
    }

    /**
     * Security Alert, Node Authentication (A.5.3.11): what the association policy decided about a
     * peer. Accepted: an informative alert (outcome 0); rejected: outcome 4, mitigation effective.
     * The peer is the alert subject (110182 Node ID, its address) and a performing participant; the
     * Alert Description says what happened, without patient data.
     */
    public AuditMessage association(Peer peer, String calledAeTitle, boolean accepted, String description) {
        return nodeAlert(peer, accepted ? Outcome.SUCCESS : Outcome.MINOR_FAILURE, description + " (called AE "
                + calledAeTitle + ")");
    }

    /**
     * Security Alert, Node Authentication (A.5.3.11): a peer failed a TLS handshake, or, with
     * {@code Outcome.SERIOUS_FAILURE}, failed again and again within a minute (a burst).
     */
    public AuditMessage nodeAuthenticationFailed(String address, Outcome outcome, String description) {
        return nodeAlert(new Peer("-", address), outcome, description);
    }

    private AuditMessage nodeAlert(Peer peer, Outcome outcome, String description) {
        ActiveParticipant reporting = self(false, List.of());
        ActiveParticipant performing = new ActiveParticipant(peer.aeTitle().equals("-") ? peer.address()
                : peer.aeTitle(), peer.aeTitle().equals("-") ? Optional.empty()
                : Optional.of("AETITLES=" + peer.aeTitle()), Optional.empty(), false, List.of(), Optional.empty(),
                Optional.of(new NetworkAccessPoint(peer.address(), accessPointType(peer.address()))));
        ParticipantObject subject = new ParticipantObject(peer.address(), ObjectType.SYSTEM_OBJECT,
                ObjectRole.SECURITY_RESOURCE, Optional.empty(), AuditCodes.NODE_ID,
                peer.aeTitle().equals("-") ? peer.address() : peer.aeTitle(),
                List.of(new Detail(AuditCodes.ALERT_DESCRIPTION, description)), Optional.empty());
        return new AuditMessage(event(AuditCodes.SECURITY_ALERT, Action.EXECUTE, outcome,
                List.of(AuditCodes.NODE_AUTHENTICATION), Optional.of(description)), List.of(reporting, performing),
                source(), List.of(subject));
    }

    /**
     * Security Alert, Audit Recording Stopped or Started (A.5.3.11): the audit spool was full and
     * messages are being dropped (outcome 8), or it took messages again (outcome 0). The subject is
     * the spool (URI).
     */
    public AuditMessage auditRecording(boolean started, String spoolUri, String description) {
        ParticipantObject subject = new ParticipantObject(spoolUri, ObjectType.SYSTEM_OBJECT,
                ObjectRole.SECURITY_RESOURCE, Optional.empty(), AuditCodes.URI, "audit spool",
                List.of(new Detail(AuditCodes.ALERT_DESCRIPTION, description)), Optional.empty());
        return new AuditMessage(event(AuditCodes.SECURITY_ALERT, Action.EXECUTE,
                started ? Outcome.SUCCESS : Outcome.SERIOUS_FAILURE,
                List.of(started ? AuditCodes.AUDIT_RECORDING_STARTED : AuditCodes.AUDIT_RECORDING_STOPPED),
                Optional.of(description)), List.of(self(false, List.of())), source(), List.of(subject));
    }

    /**
     * Security Alert, Security Configuration (A.5.3.11): a setting that weakens the node's protection of
     * patient data is on ({@code log.patient-data}: the operational log names patients). Informative
     * (outcome 0): the operator chose it; the subject is the setting (URI).
     */
    public AuditMessage securityConfiguration(String settingUri, String description) {
        ParticipantObject subject = new ParticipantObject(settingUri, ObjectType.SYSTEM_OBJECT,
                ObjectRole.SECURITY_RESOURCE, Optional.empty(), AuditCodes.URI, settingUri,
                List.of(new Detail(AuditCodes.ALERT_DESCRIPTION, description)), Optional.empty());
        return new AuditMessage(event(AuditCodes.SECURITY_ALERT, Action.EXECUTE, Outcome.SUCCESS,
                List.of(AuditCodes.SECURITY_CONFIGURATION), Optional.of(description)), List.of(self(false, List.of())),
                source(), List.of(subject));
    }

    /**
     * User Authentication (A.5.3.12): {@code userId} logged in or out from {@code address} (the
     * worklist's login, when it exists). The person is the requestor; the node performed the
     * authentication. No participant objects.
     */
    public AuditMessage userAuthentication(String userId, Optional<String> userName, String address, boolean login,
            Outcome outcome, Optional<String> description) {
        ActiveParticipant person = new ActiveParticipant(userId, Optional.empty(), userName, true, List.of(),
                Optional.empty(), Optional.of(new NetworkAccessPoint(address, accessPointType(address))));
        return new AuditMessage(event(AuditCodes.USER_AUTHENTICATION, Action.EXECUTE, outcome,
                List.of(login ? AuditCodes.LOGIN : AuditCodes.LOGOUT), description), List.of(person, self(false,
                List.of())), source(), List.of());
    }

    /**
     * Procedure Record, update (A.5.3.15): an operator retried or discarded a dead-lettered delivery
     * of the result about {@code study} ({@code ct-triage dead-letters}). The person (the
     * operating-system account running the command) is the requestor, the command the process; the
     * study and its patient are the objects, the delivery in the study's details.
     */
    public AuditMessage deadLetterAction(boolean retried, String studyInstanceUid, Patient patient, Outcome outcome,
            Optional<String> description, List<Detail> delivery) {
        ActiveParticipant person = new ActiveParticipant(reporter.osUser() + "@" + reporter.hostName(),
                Optional.empty(), Optional.of(reporter.osUser()), true, List.of(), Optional.empty(), Optional.empty());
        ParticipantObject study = new ParticipantObject(studyInstanceUid, ObjectType.SYSTEM_OBJECT, ObjectRole.REPORT,
                Optional.empty(), AuditCodes.STUDY_INSTANCE_UID, studyInstanceUid, delivery, Optional.empty());
        return new AuditMessage(event(AuditCodes.PROCEDURE_RECORD, Action.UPDATE, outcome,
                List.of(retried ? AuditCodes.DEAD_LETTER_RETRIED : AuditCodes.DEAD_LETTER_DISCARDED), description),
                List.of(person, self(false, List.of())), source(), List.of(study, patient(patient)));
    }

    /**
     * Procedure Record (A.5.3.15), read or update: a worklist user looked at a study's result ({@code review}
     * false: R) or reviewed it (true: U, type WLREVIEW; the description says how). The person is the
     * requestor, with the address the request came from; the node serves it; the study and its patient
     * are the objects.
     */
    public AuditMessage worklistStudy(String userId, String address, boolean review, String studyInstanceUid,
            Patient patient, Optional<String> description) {
        ActiveParticipant person = new ActiveParticipant(userId, Optional.empty(), Optional.of(userId), true, List.of(),
                Optional.empty(), Optional.of(new NetworkAccessPoint(address, accessPointType(address))));
        ParticipantObject study = new ParticipantObject(studyInstanceUid, ObjectType.SYSTEM_OBJECT, ObjectRole.REPORT,
                Optional.empty(), AuditCodes.STUDY_INSTANCE_UID, studyInstanceUid, List.of(), Optional.empty());
        return new AuditMessage(event(AuditCodes.PROCEDURE_RECORD, review ? Action.UPDATE : Action.READ,
                Outcome.SUCCESS, review ? List.of(AuditCodes.WORKLIST_REVIEW) : List.of(), description),
                List.of(person, self(false, List.of())), source(), List.of(study, patient(patient)));
    }

    private Event event(CodedValue id, Action action, Outcome outcome, List<CodedValue> types,
            Optional<String> description) {
        return new Event(id, action, Instant.now(clock), outcome, types, description);
    }

    private AuditSource source() {
        return new AuditSource(reporter.sourceId(), reporter.enterpriseSiteId(),
                List.of(AuditCodes.SOURCE_TYPE_APPLICATION_SERVER));
    }

    /** This process as an active participant. */
    private ActiveParticipant self(boolean requestor, List<CodedValue> roles) {
        return new ActiveParticipant(Long.toString(reporter.processId()),
                Optional.of("AETITLES=" + reporter.aeTitle()), Optional.of(reporter.processName()), requestor, roles,
                Optional.empty(), Optional.of(new NetworkAccessPoint(reporter.hostName(),
                        accessPointType(reporter.hostName()))));
    }

    /** A DICOM peer: UserID its AE title (what the node's log lines name it by), and its address. */
    private static ActiveParticipant peer(Peer peer, boolean requestor, CodedValue role) {
        return new ActiveParticipant(peer.aeTitle(), Optional.of("AETITLES=" + peer.aeTitle()), Optional.empty(),
                requestor, List.of(role), Optional.empty(),
                Optional.of(new NetworkAccessPoint(peer.address(), accessPointType(peer.address()))));
    }

    private static ParticipantObject study(StudyInstances study, boolean tls, Optional<LifeCycle> lifeCycle) {
        List<SopClass> classes = new ArrayList<>();
        study.sopClasses().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> classes.add(new SopClass(e.getKey(), e.getValue())));
        return new ParticipantObject(study.studyInstanceUid(), ObjectType.SYSTEM_OBJECT, ObjectRole.REPORT, lifeCycle,
                AuditCodes.STUDY_INSTANCE_UID, study.studyInstanceUid(), List.of(),
                Optional.of(new DicomDescription(study.accessionNumbers(), classes, Optional.of(tls))));
    }

    /** The patient (A.5.3.x "Patient"): ID in CX form, the name as the object's name (the ID when no name is known). */
    private static ParticipantObject patient(Patient patient) {
        return new ParticipantObject(patient.cx(), ObjectType.PERSON, ObjectRole.PATIENT, Optional.empty(),
                AuditCodes.PATIENT_NUMBER, patient.name().isEmpty() ? patient.cx() : patient.name(), List.of(),
                Optional.empty());
    }

    static AccessPointType accessPointType(String address) {
        return address.matches("[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*") ? AccessPointType.IP_ADDRESS
                : AccessPointType.MACHINE_NAME;
    }

    private static String localHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}

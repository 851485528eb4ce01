package org.cttriage.core.audit;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.cttriage.core.audit.AuditEvents.Patient;
import org.cttriage.core.audit.AuditEvents.Peer;
import org.cttriage.core.audit.AuditEvents.StudyInstances;
import org.cttriage.core.audit.AuditMessage.Outcome;
import org.cttriage.core.dicom.net.AssociationDecision;
import org.cttriage.core.dicom.net.AssociationListener;
import org.cttriage.core.dicom.net.AssociationRequest;
import org.cttriage.core.dicom.net.DimseStatus;
import org.cttriage.core.dicom.net.InstanceSubject;
import org.cttriage.core.dicom.net.StoredInstance;

/**
 * The DICOM listener's events as audit messages:
 * <ul>
 * <li>an association accepted or rejected: a Security Alert, Node Authentication, informative
 * (accepted) or minor failure (rejected, with the A-ASSOCIATE-RJ and its reason);
 * <li>a TLS handshake that failed: the same alert, minor failure; the tenth failure from one host
 * within a minute is reported as a serious failure (a burst), the others in that minute are not
 * reported one by one;
 * <li>the instances an association stored: when it ends, one DICOM Instances Transferred per study
 * (and patient), with the count of instances per SOP class; instances the node refused go in a
 * second message with a failure outcome (PS3.15 A.5.2: no message with mixed results).
 * </ul>
 * Why at the association's end: that is when PS3.15 A.5.3.7's transfer has completed, it is the
 * natural unit on the wire (one sender, one connection, encrypted or not), and a study's later
 * instances on another association are another transfer. Rejections repeat per host and reason at
 * most once a minute, as the log does, so a peer in a loop cannot flood the trail.
 */
public final class AssociationAuditor implements AssociationListener {
    /** TLS failures from one host within a minute that make a burst. */
    static final int BURST = 10;
    private static final Duration WINDOW = Duration.ofMinutes(1);
    /** Rejection and TLS windows kept before the expired ones are swept. */
    private static final int MAX_WINDOWS = 10_000;
    private static final String UNKNOWN = "(unknown)";

    private final AuditTrail trail;
    private final boolean tls;
    private final Clock clock;
    private final Map<AssociationRequest, Transfer> transfers = Collections.synchronizedMap(new IdentityHashMap<>());
    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    /**
     * @param trail where the messages go
     * @param tls whether the listener speaks TLS (recorded as the studies' {@code Encrypted})
     * @param clock the time of the transfers' completion and of the rejection windows
     */
    public AssociationAuditor(AuditTrail trail, boolean tls, Clock clock) {
        this.trail = trail;
        this.tls = tls;
        this.clock = clock;
    }

    @Override
    public boolean needsSubjects() {
        return true;
    }

    @Override
    public void accepted(AssociationRequest request) {
        transfers.put(request, new Transfer());
        trail.record(trail.events().association(peer(request), request.calledAeTitle(), true,
                "association from " + describe(request) + " accepted"));
    }

    @Override
    public void rejected(AssociationRequest request, AssociationDecision.Reject reject) {
        String key = "rejected " + request.remoteAddress().getHostAddress() + " " + reject.reason() + " "
                + reject.source();
        if (admit(key) != 1) {
            return;
        }
        trail.record(trail.events().association(peer(request), request.calledAeTitle(), false,
                "association from " + describe(request) + " rejected (A-ASSOCIATE-RJ " + reject.result() + ", "
                        + reject.source() + ", reason " + reject.reason() + "): " + reject.why()
                        + "; repeats from this host for this reason are reported at most once a minute"));
    }

    @Override
    public void tlsFailed(InetAddress peer, String reason) {
        long n = admit("tls " + peer.getHostAddress());
        if (n == 1) {
            trail.record(trail.events().nodeAuthenticationFailed(peer.getHostAddress(), Outcome.MINOR_FAILURE,
                    "TLS with " + peer.getHostAddress() + " failed: " + reason));
        } else if (n == BURST) {
            trail.record(trail.events().nodeAuthenticationFailed(peer.getHostAddress(), Outcome.SERIOUS_FAILURE,
                    BURST + " TLS failures from " + peer.getHostAddress() + " within a minute; the latest: " + reason));
        }
    }

    @Override
    public void instanceStored(AssociationRequest association, StoredInstance instance) {
        Transfer t = transfers.get(association);
        if (t != null) {
            t.add(instance);
        }
    }

    @Override
    public void associationEnded(AssociationRequest association, String how) {
        Transfer t = transfers.remove(association);
        if (t == null) {
            return;
        }
        Instant completed = clock.instant();
        Peer sender = peer(association);
        for (Map.Entry<Transfer.Key, Transfer.Studied> e : t.studies.entrySet()) {
            Transfer.Key k = e.getKey();
            Transfer.Studied s = e.getValue();
            StudyInstances study = new StudyInstances(k.study(), new Patient(k.patientId(), k.issuer(),
                    k.patientName()), new ArrayList<>(s.accessions), s.sopClasses);
            Optional<String> description = k.stored() ? Optional.empty()
                    : Optional.of(s.instances + " instance(s) not stored: " + String.join(", ", s.statuses.entrySet()
                            .stream().map(x -> x.getKey() + " x" + x.getValue()).toList()) + "; association " + how);
            trail.record(trail.events().instancesReceived(sender, study, tls, completed,
                    k.stored() ? Outcome.SUCCESS : Outcome.MINOR_FAILURE, description));
        }
    }

    /** How many events of {@code key} fell in its current one-minute window, this one included. */
    private long admit(String key) {
        Instant now = clock.instant();
        if (windows.size() > MAX_WINDOWS) {
            // A scan from many addresses: forget the windows that have run out.
            windows.values().removeIf(w -> Duration.between(w.start, now).compareTo(WINDOW) >= 0);
        }
        Window w = windows.compute(key, (k, old) -> old == null || Duration.between(old.start, now).compareTo(WINDOW) >= 0
                ? new Window(now) : old);
        synchronized (w) {
            return ++w.count;
        }
    }

    private static final class Window {
        final Instant start;
        long count;

        Window(Instant start) {
            this.start = start;
        }
    }

    private static Peer peer(AssociationRequest r) {
        return new Peer(AssociationRequest.printable(r.callingAeTitle()), r.remoteAddress().getHostAddress());
    }

    private static String describe(AssociationRequest r) {
        return AssociationRequest.printable(r.callingAeTitle()) + " (" + r.remoteAddress().getHostAddress() + ")";
    }

    /** What one association stored, by study, patient and outcome. */
    private static final class Transfer {
        record Key(String study, String patientId, String issuer, String patientName, boolean stored) {
        }

        static final class Studied {
            final Map<String, Integer> sopClasses = new TreeMap<>();
            final Set<String> accessions = new LinkedHashSet<>();
            final Map<String, Integer> statuses = new LinkedHashMap<>();
            int instances;
        }

        final Map<Key, Studied> studies = new LinkedHashMap<>();

        void add(StoredInstance instance) {
            InstanceSubject s = instance.subject().orElse(new InstanceSubject(UNKNOWN, "", "", "", ""));
            boolean stored = instance.status().stored();
            Key key = new Key(s.studyInstanceUid().isEmpty() ? UNKNOWN : s.studyInstanceUid(), s.patientId(),
                    s.issuerOfPatientId(), s.patientName(), stored);
            Studied st = studies.computeIfAbsent(key, k -> new Studied());
            st.instances++;
            st.sopClasses.merge(instance.sopClassUid(), 1, Integer::sum);
            st.accessions.add(s.accessionNumber());
            if (!stored) {
                DimseStatus status = instance.status();
                st.statuses.merge(status.hex() + " " + status.meaning(), 1, Integer::sum);
            }
        }
    }
}

package org.cttriage.core.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.cttriage.core.dicom.net.AssociationListener;
import org.cttriage.core.dicom.net.AssociationPolicy;
import org.cttriage.core.dicom.net.DicomListener;
import org.cttriage.core.dicom.net.DicomSender;
import org.cttriage.core.dicom.net.DimseStatus;
import org.cttriage.core.dicom.net.ListenerOptions;
import org.cttriage.core.dicom.net.RemoteAe;
import org.cttriage.core.dicom.net.TlsOptions;
import org.cttriage.core.error.TriageException;
import org.cttriage.testdata.dicom.CtSeriesWriter;
import org.cttriage.testdata.dicom.SeriesWriteOptions;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.TlsKeys;
import org.cttriage.testdata.phantom.ContrastPhase;
import org.cttriage.testdata.phantom.PhantomGenerator;
import org.cttriage.testdata.phantom.PhantomSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real listener with the {@link AssociationAuditor} as observer, a real C-STORE SCU, and the
 * audit file read back: the accepted association, one DICOM Instances Transferred for the study
 * (its patient, its SOP class count) and one for the instance the store handler refused, the
 * rejected association with its reason, TLS failures and their burst. Every line validates
 * against PS3.15 A.5.1.
 */
@RequiresTools({"keytool", "openssl"})
class AssociationAuditorTest {
    private static final String CT = "1.2.840.10008.5.1.4.1.1.2";

    @TempDir
    Path dir;

    private DicomListener listener;
    private AuditTrail trail;
    private Path file;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.close();
        }
        if (trail != null) {
            trail.close();
        }
    }

    /** Starts the listener; the store handler refuses the {@code refused}-th instance (1-based; 0: none). */
    private void start(ListenerOptions options, int refused) throws Exception {
        file = dir.resolve("audit.log");
        trail = AuditTrail.start(new AuditOptions(Optional.empty(), Optional.of(file), dir.resolve("spool"), 1 << 20,
                AuditTrailTest.FAST), AuditTrailTest.EVENTS, Clock.systemUTC());
        AtomicInteger received = new AtomicInteger();
        listener = new DicomListener(options, new AssociationPolicy(options), instance -> {
            Files.deleteIfExists(instance.file());
            return received.incrementAndGet() == refused ? DimseStatus.ERROR_DATASET_DOES_NOT_MATCH_SOP_CLASS
                    : DimseStatus.SUCCESS;
        });
        listener.addObserver(new AssociationAuditor(trail, options.tls().isPresent(), Clock.systemUTC()));
        listener.start();
    }

    private List<AuditXmlAssert> awaitMessages(int n) throws Exception {
        List<String> lines = Eventually.await(AuditTrailTest.WAIT, () -> n + " audit lines", () -> Files.exists(file)
                ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of(), l -> l.size() >= n);
        List<AuditXmlAssert> messages = new ArrayList<>();
        for (String line : lines) {
            messages.add(AuditXmlAssert.of(line.getBytes(StandardCharsets.UTF_8)));
        }
        return messages;
    }

    @Test
    void aStudyReceivedAndAStrangerRejected() throws Exception {
        ListenerOptions options = ListenerOptions.defaults("CTTRIAGE", InetAddress.getLoopbackAddress(), 0,
                dir.resolve("incoming")).withMinFreeDiskBytes(0).withAllowedCallingAeTitles(Set.of("PACS"));
        CtSeriesWriter.WrittenSeries series = new CtSeriesWriter().write(new PhantomGenerator().generate(
                new PhantomSpec(77, 32, 32, 6, 400.0 / 32, 5, 5, ContrastPhase.NONE, Set.of(), false)),
                SeriesWriteOptions.defaults().withPatientName("Audit^Distinctive"), dir.resolve("series"));
        start(options, 6);

        RemoteAe node = new RemoteAe("CTTRIAGE", "127.0.0.1", listener.port());
        try {
            new DicomSender("PACS").store(node, series.files());
        } catch (TriageException expected) {
            // one instance is refused on purpose; the other five are stored
        }
        try {
            new DicomSender("INTRUDER").echo(node);
        } catch (TriageException expected) {
            // rejected: not in the allow-list
        }
        List<AuditXmlAssert> m = awaitMessages(4);
        assertThat(m).hasSize(4);

        AuditXmlAssert accepted = m.get(0);
        assertThat(accepted.get("//EventID/@csd-code")).isEqualTo("110113");
        assertThat(accepted.get("//EventIdentification/@EventOutcomeIndicator")).isEqualTo("0");
        assertThat(accepted.get("//ActiveParticipant[@AlternativeUserID='AETITLES=PACS']/@NetworkAccessPointID"))
                .isEqualTo("127.0.0.1");

        AuditXmlAssert stored = find(m, "0", "110104");
        assertThat(stored.get("//ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='3']/@ParticipantObjectID"))
                .isEqualTo(series.studyInstanceUid());
        assertThat(stored.get("//SOPClass/@UID")).isEqualTo(CT);
        assertThat(stored.get("//SOPClass/@NumberOfInstances")).isEqualTo("5");
        assertThat(stored.get("//Accession/@Number")).isEqualTo("ACC77");
        assertThat(stored.get("//Encrypted")).isEqualTo("false");
        assertThat(stored.get("//ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='1']/@ParticipantObjectID"))
                .isEqualTo("PHANTOM-77^^^CTTRIAGE-PHANTOM");
        assertThat(stored.get("//ParticipantObjectIdentification[@ParticipantObjectTypeCodeRole='1']/ParticipantObjectName"))
                .isEqualTo("Audit^Distinctive");
        assertThat(stored.get("//ActiveParticipant[RoleIDCode/@csd-code='110153']/@UserID")).isEqualTo("PACS");

        AuditXmlAssert failed = find(m, "4", "110104");
        assertThat(failed.get("//SOPClass/@NumberOfInstances")).isEqualTo("1");
        assertThat(failed.get("//EventOutcomeDescription")).contains("A900H");

        // The stranger's rejection and the ended association's Instances Transferred come from different threads:
        // found by what they are, not by their order (m.get(3) was the latter now and then on a loaded machine).
        AuditXmlAssert rejected = find(m, "4", "110113");
        assertThat(rejected.get("//EventOutcomeDescription")).contains("INTRUDER").contains("allow-list");
    }

    @Test
    void tlsFailuresAndTheirBurst() throws Exception {
        TlsKeys keys = TlsKeys.create(Files.createDirectories(dir.resolve("keys")));
        ListenerOptions options = ListenerOptions.defaults("CTTRIAGE", InetAddress.getLoopbackAddress(), 0,
                dir.resolve("incoming")).withMinFreeDiskBytes(0).withTls(Optional.of(new TlsOptions(keys.serverKeyStore(),
                        TlsKeys.PASSWORD.toCharArray(), Optional.empty(), new char[0], TlsOptions.ClientAuth.NONE)));
        start(options, 0);
        AtomicInteger failures = new AtomicInteger();
        listener.addObserver(new AssociationListener() {
            @Override
            public void tlsFailed(InetAddress peer, String reason) {
                failures.incrementAndGet();
            }
        });
        // Plain DICOM to the TLS port, again and again: one alert, then the burst at the tenth.
        for (int i = 0; i < AssociationAuditor.BURST + 2; i++) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), listener.port())) {
                OutputStream out = s.getOutputStream();
                out.write(new byte[] {1, 0, 0, 0, 0, 68, 0, 1, 0, 0});
                out.flush();
                s.getInputStream().read();
            } catch (java.io.IOException closedByTheNode) {
                // the node closes the connection after the failed handshake
            }
        }
        Eventually.await(AuditTrailTest.WAIT, "every handshake failed", failures::get,
                n -> n == AssociationAuditor.BURST + 2);
        trail.close();
        List<AuditXmlAssert> m = awaitMessages(2);
        assertThat(m).hasSize(2);
        // Each failed handshake is reported from its own association thread, after the node closed the socket: the
        // first alert and the burst are found by what they are, not by their order (the burst came first now and
        // then on a loaded CI machine).
        AuditXmlAssert alert = find(m, "4", "110113");
        assertThat(alert.get("//EventTypeCode/@csd-code")).isEqualTo("110126");
        assertThat(alert.get("//ParticipantObjectIdentification/@ParticipantObjectID")).isEqualTo("127.0.0.1");
        AuditXmlAssert burst = find(m, "8", "110113");
        assertThat(burst.get("//EventOutcomeDescription")).contains("10 TLS failures");
    }

    /** The message of {@code m} with this outcome indicator and EventID code; they arrive in no fixed order. */
    private static AuditXmlAssert find(List<AuditXmlAssert> m, String outcome, String eventId) {
        return m.stream().filter(x -> get(x, "//EventIdentification/@EventOutcomeIndicator").equals(outcome)
                && get(x, "//EventID/@csd-code").equals(eventId)).findFirst().orElseThrow();
    }

    private static String get(AuditXmlAssert x, String xpath) {
        try {
            return x.get(xpath);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}

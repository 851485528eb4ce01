package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.cttriage.core.dicom.net.TlsClientOptions;
import org.cttriage.core.error.TriageException;
import org.cttriage.fhir.delivery.FhirDeliveryOptions;
import org.cttriage.hl7.delivery.Hl7Options;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configuration: defaults, validation naming the key, and docs/configuration.md in step with the code. */
class NodeSettingsTest {
    @TempDir
    Path dir;

    @Test
    void documentationListsEveryKeyWithItsDefault() throws Exception {
        String doc = Files.readString(Path.of("../docs/configuration.md"));
        for (NodeSettings.Key k : NodeSettings.Key.values()) {
            String value = k.defaultValue().isEmpty() ? "(empty)" : "`" + k.defaultValue() + "`";
            assertThat(doc).as(k.key()).contains("| `" + k.key() + "` | " + value + " |");
        }
        for (FhirDeliveryOptions.ConfigKey k : FhirDeliveryOptions.CONFIG_KEYS) {
            String value = k.defaultValue().isEmpty() ? "(empty)" : "`" + k.defaultValue() + "`";
            assertThat(doc).as(k.key()).contains("| `" + k.key() + "` | " + value + " |");
        }
        for (Hl7Options.ConfigKey k : Hl7Options.CONFIG_KEYS) {
            String value = k.defaultValue().isEmpty() ? "(empty)" : "`" + k.defaultValue() + "`";
            assertThat(doc).as(k.key()).contains("| `" + k.key() + "` | " + value + " |");
        }
        for (org.cttriage.ups.UpsOptions.ConfigKey k : org.cttriage.ups.UpsOptions.CONFIG_KEYS) {
            String value = k.defaultValue().isEmpty() ? "(empty)" : "`" + k.defaultValue() + "`";
            assertThat(doc).as(k.key()).contains("| `" + k.key() + "` | " + value + " |");
        }
    }

    @Test
    void theHl7KeysMakeAnHl7DestinationAndBadValuesNameTheKey() throws Exception {
        NodeSettings none = NodeSettings.load(write("hl7.port=2575\n"), dir);
        assertThat(none.hl7Configured()).as("no host, no RIS").isFalse();
        assertThat(none.otherDestinations()).isEmpty();
        NodeSettings ris = NodeSettings.load(write("fhir.url=https://fhir.example/r4\nhl7.host=ris.example\n"
                + "hl7.message-type=omi_o23\nhl7.priority-codes=routine=R,urgent=R,asap=A,stat=S\n"), dir);
        assertThat(ris.otherDestinations()).extracting(Destination::name).containsExactly("fhir", "hl7");
        assertThat(ris.nodeConfig(ris.otherDestinations()).destinations()).extracting(NodeMetrics::kind)
                .containsExactly("fhir", "hl7");
        Hl7Options options = Hl7Options.fromConfig(ris.hl7Lookup());
        assertThat(options.host()).isEqualTo("ris.example");
        assertThat(options.port()).isEqualTo(2575);
        assertThat(options.message().type()).isEqualTo(org.cttriage.hl7.mapping.MessageType.OMI_O23);
        assertThat(options.message().code(org.cttriage.core.domain.Priority.URGENT)).isEqualTo("R");
        assertThat(options.minPriority()).isEqualTo(org.cttriage.core.domain.Priority.URGENT);
        assertThat(options.ackTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(options.retry().maxAttempts()).isEqualTo(20);

        assertThatThrownBy(() -> NodeSettings.load(write("hl7.host=ris\nhl7.mesage-type=ORM_O01\n"), dir))
                .hasMessageContaining("unknown key 'hl7.mesage-type'");
        for (String[] bad : new String[][] {{"hl7.message-type=ADT_A08", "ORM_O01, OMI_O23"},
                {"hl7.port=0", "1..65535"}, {"hl7.priority-codes=routine=R,stat=S", "does not give urgent, asap"},
                {"hl7.priority-codes=routine=R,urgent=U,asap=A,stat=S", "table 0485"},
                {"hl7.min-priority=high", "routine, urgent, asap, stat"}, {"hl7.ack-timeout=10m", "up to 2m"},
                {"hl7.sending-application=CT|TRIAGE", "delimiters"}, {"hl7.processing-id=X", "P, T, D"}}) {
            NodeSettings s = NodeSettings.load(write("hl7.host=ris\n" + bad[0] + "\n"), dir);
            assertThatThrownBy(() -> Hl7Options.fromConfig(s.hl7Lookup())).as(bad[0])
                    .hasMessageContaining(bad[0].substring(0, bad[0].indexOf('='))).hasMessageContaining(bad[1]);
        }
    }

    @Test
    void theFhirPriorityTargetChoosesTheTaskOrTheOrderAndTheEarlierKeyStillWorks() throws Exception {
        String fhir = "fhir.url=https://fhir.example/r4\n";
        assertThat(NodeSettings.load(write(fhir), dir).otherDestinations()).extracting(Destination::name)
                .containsExactly("fhir");
        assertThat(NodeSettings.load(write(fhir + "fhir.priority-target=task\n"), dir).otherDestinations())
                .extracting(Destination::name).containsExactly("fhir", "fhir-task");
        NodeSettings order = NodeSettings.load(write(fhir + "fhir.priority-target=service-request\n"
                + "fhir.accession-system=urn:oid:1.2.3.4\n"), dir);
        assertThat(order.otherDestinations()).extracting(Destination::name).containsExactly("fhir", "fhir-service-request");
        assertThat(order.nodeConfig(order.otherDestinations()).destinations()).extracting(NodeMetrics::kind)
                .containsExactly("fhir", "fhir-service-request");
        assertThat(order.fhirAccessionSystem()).isEqualTo("urn:oid:1.2.3.4");

        NodeSettings old = NodeSettings.load(write(fhir + "fhir.priority-task=true\n"), dir);
        assertThat(old.fhirPriorityTarget()).isEqualTo(NodeSettings.FhirPriorityTarget.TASK);
        assertThat(old.otherDestinations()).extracting(Destination::name).containsExactly("fhir", "fhir-task");
        assertThat(old.notes()).singleElement().satisfies(n -> assertThat(n).contains("fhir.priority-task")
                .contains("fhir.priority-target=task"));
        assertThat(NodeSettings.load(write(fhir + "fhir.priority-task=false\n"), dir).fhirPriorityTarget())
                .isEqualTo(NodeSettings.FhirPriorityTarget.NONE);
        assertThatThrownBy(() -> NodeSettings.load(write(fhir + "fhir.priority-task=true\nfhir.priority-target=task\n"),
                dir)).hasMessageContaining("TRIAGE-0612").hasMessageContaining("both");
        assertThatThrownBy(() -> NodeSettings.load(write(fhir + "fhir.priority-task=yes\n"), dir))
                .hasMessageContaining("fhir.priority-task").hasMessageContaining("true or false");

        for (String[] bad : new String[][] {{"fhir.priority-target=order", "none, task or service-request"},
                {"fhir.priority-target=service-request\nfhir.accession-system=1.2.3", "a URI"},
                {"fhir.priority-target=task\nfhir.accession-system=urn:oid:1.2", "service-request only"}}) {
            NodeSettings s = NodeSettings.load(write(fhir + bad[0] + "\n"), dir);
            assertThatThrownBy(s::otherDestinations).as(bad[0]).hasMessageContaining("TRIAGE-0612")
                    .hasMessageContaining(bad[1]);
        }
        assertThatThrownBy(() -> NodeSettings.load(write("fhir.priority-target=task\n"), dir).otherDestinations())
                .hasMessageContaining("fhir.priority-target").hasMessageContaining("fhir.url is not set");
    }

    @Test
    void theUpsKeysMakeAUpsDestinationAndBadValuesNameTheKey() throws Exception {
        NodeSettings ups = NodeSettings.load(write("delivery.dicom-destinations=PACS@127.0.0.1:104\n"
                + "ups.url=http://pacs:8080/dcm4chee-arc/aets/DCM4CHEE/rs/\nups.auth=basic\nups.user=node\n"), dir);
        assertThat(ups.otherDestinations()).extracting(Destination::name).containsExactly("ups");
        assertThat(ups.nodeConfig(ups.otherDestinations()).destinations()).extracting(NodeMetrics::kind)
                .containsExactly("dicom-sr", "ups");
        org.cttriage.ups.UpsOptions o = org.cttriage.ups.UpsOptions.fromConfig(ups.upsLookup(), "PACS");
        assertThat(o.baseUrl()).hasToString("http://pacs:8080/dcm4chee-arc/aets/DCM4CHEE/rs");
        assertThat(o.authorization()).startsWith("Basic ");
        assertThat(o.describe()).doesNotContain(o.authorization().substring(6));
        assertThat(o.priorities().get(org.cttriage.core.domain.Priority.ROUTINE))
                .isEqualTo(org.cttriage.ups.ProcedureStepPriority.MEDIUM);
        assertThat(o.retrieveAeTitle()).isEqualTo("PACS");
        assertThat(o.retry().maxAttempts()).isEqualTo(20);

        assertThatThrownBy(() -> NodeSettings.load(write("ups.url=http://x/rs\nups.urll=y\n"), dir))
                .hasMessageContaining("unknown key 'ups.urll'");
        for (String[] bad : new String[][] {{"ups.url=ftp://pacs/rs", "http:// or https://"},
                {"ups.auth=digest", "none, bearer, basic"}, {"ups.auth=bearer", "ups.token"},
                {"ups.priority-map=routine=HIGH,urgent=LOW,asap=HIGH,stat=HIGH", "the order must be kept"},
                {"ups.priority-map=routine=MEDIUM,stat=HIGH", "HIGH, MEDIUM, LOW"},
                {"ups.read-timeout=10m", "2m"},
                {"ups.max-attempts=0", "1..100"}}) {
            NodeSettings s = NodeSettings.load(write((bad[0].startsWith("ups.url") ? "" : "ups.url=http://pacs/rs\n")
                    + bad[0] + "\n"), dir);
            assertThatThrownBy(() -> org.cttriage.ups.UpsOptions.fromConfig(s.upsLookup(), "PACS")).as(bad[0])
                    .hasMessageContaining(bad[0].substring(0, bad[0].indexOf('='))).hasMessageContaining(bad[1]);
        }
        NodeSettings noPacs = NodeSettings.load(write("ups.url=http://pacs/rs\n"), dir);
        assertThatThrownBy(() -> org.cttriage.ups.UpsOptions.fromConfig(noPacs.upsLookup(), ""))
                .hasMessageContaining("ups.retrieve-ae-title");
    }

    @Test
    void defaultsMakeAValidNodeConfiguration() throws Exception {
        TriageNode.Config c = NodeSettings.load(null, dir).nodeConfig(List.of());
        assertThat(c.aeTitle()).isEqualTo("CTTRIAGE");
        assertThat(c.port()).isEqualTo(11112);
        assertThat(c.bindAddress()).isEqualTo("127.0.0.1");
        assertThat(c.destinations()).isEmpty();
        assertThat(c.spoolRetention()).isEqualTo(Duration.ofHours(72));
        assertThat(c.artimTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.maxAssociationsPerHost()).isEqualTo(16);
        TriageNode.Config hardened = NodeSettings.load(write("dicom.artim-timeout=3s\n"
                + "dicom.max-associations-per-host=2\n"), dir).nodeConfig(List.of());
        assertThat(hardened.artimTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(hardened.maxAssociationsPerHost()).isEqualTo(2);
        assertThat(NodeSettings.load(write("spool.retention=0\n"), dir).nodeConfig(List.of()).spoolRetention())
                .as("0 keeps the spool for ever").isZero();
    }

    @Test
    void everyDurationIsWrittenOneWayAndTheKeysOfEarlierVersionsStillWork() throws Exception {
        TriageNode.Config c = NodeSettings.load(write("assembly.quiet-period=1500ms\ndelivery.initial-backoff=PT1S\n"
                + "delivery.max-backoff=10m\nspool.retention=168h\n"), dir).nodeConfig(List.of());
        assertThat(c.quietPeriod()).isEqualTo(Duration.ofMillis(1500));
        assertThat(c.initialBackoff()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.maxBackoff()).isEqualTo(Duration.ofMinutes(10));
        assertThat(c.spoolRetention()).isEqualTo(Duration.ofDays(7));

        NodeSettings old = NodeSettings.load(write("assembly.quiet-period-seconds=3\nspool.retention-hours=48\n"
                + "dicom.artim-timeout-seconds=5\ndelivery.initial-backoff-seconds=1\ndelivery.max-backoff-seconds=60\n"),
                dir);
        TriageNode.Config o = old.nodeConfig(List.of());
        assertThat(o.quietPeriod()).isEqualTo(Duration.ofSeconds(3));
        assertThat(o.spoolRetention()).isEqualTo(Duration.ofHours(48));
        assertThat(o.artimTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(o.initialBackoff()).isEqualTo(Duration.ofSeconds(1));
        assertThat(o.maxBackoff()).isEqualTo(Duration.ofMinutes(1));
        assertThat(old.notes()).hasSize(5).anySatisfy(n -> assertThat(n)
                .contains("assembly.quiet-period-seconds").contains("assembly.quiet-period=3s"));

        assertThatThrownBy(() -> NodeSettings.load(write("assembly.quiet-period-seconds=3\nassembly.quiet-period=3s\n"),
                dir)).hasMessageContaining("TRIAGE-0612").hasMessageContaining("both");
        assertThatThrownBy(() -> NodeSettings.load(write("assembly.quiet-period-seconds=never\n"), dir))
                .hasMessageContaining("assembly.quiet-period-seconds").hasMessageContaining("whole number");
    }

    @Test
    void theNodesDefaultsHaveOneHome() {
        TriageNode.Config embedded = TriageNode.Config.defaults("NODE", 0, dir, List.of());
        TriageNode.Config configured;
        try {
            configured = NodeSettings.defaults().nodeConfig(List.of());
        } catch (TriageException e) {
            throw new AssertionError(e);
        }
        assertThat(embedded.quietPeriod()).isEqualTo(configured.quietPeriod());
        assertThat(embedded.maxAttempts()).isEqualTo(configured.maxAttempts()).isEqualTo(20);
        assertThat(embedded.maxBackoff()).isEqualTo(configured.maxBackoff());
        assertThat(embedded.spoolRetention()).isEqualTo(configured.spoolRetention());
        assertThat(embedded.artimTimeout()).isEqualTo(configured.artimTimeout());
    }

    @Test
    void destinationsAreParsed() throws Exception {
        Path file = write("delivery.dicom-destinations=PACS@10.0.0.5:104, ARCHIVE@archive.example:11112\n");
        TriageNode.Config c = NodeSettings.load(file, dir).nodeConfig(List.of());
        assertThat(c.destinations()).extracting(d -> d.dicom().toString())
                .containsExactly("PACS@10.0.0.5:104", "ARCHIVE@archive.example:11112");
    }

    @Test
    void badValuesStopStartUpNamingTheKeyAndTheAllowedValues() throws Exception {
        assertThatThrownBy(() -> NodeSettings.load(write("dicom.port=70000\n"), dir).nodeConfig(List.of()))
                .isInstanceOf(TriageException.class).hasMessageContaining("TRIAGE-0612")
                .hasMessageContaining("dicom.port").hasMessageContaining("1 to 65535");
        assertThatThrownBy(() -> NodeSettings.load(write("dicom.non-ct=DROP\n"), dir).nodeConfig(List.of()))
                .hasMessageContaining("dicom.non-ct").hasMessageContaining("IGNORE, REJECT");
        assertThatThrownBy(() -> NodeSettings.load(write("delivery.dicom-destinations=PACS@host\n"), dir)
                .nodeConfig(List.of())).hasMessageContaining("delivery.dicom-destinations");
        assertThatThrownBy(() -> NodeSettings.load(write("dicom.transfer-syntaxes=1.2.840.10008.1.2.4.80\n"), dir)
                .nodeConfig(List.of())).hasMessageContaining("dicom.transfer-syntaxes");
        assertThatThrownBy(() -> NodeSettings.load(write("dicom.tls.client-auth=REQUIRED\n"), dir).nodeConfig(List.of()))
                .hasMessageContaining("dicom.tls.key-store");
        assertThatThrownBy(() -> NodeSettings.load(write("dicom.tls.key-store=/nonexistent.p12\n"), dir)
                .nodeConfig(List.of())).hasMessageContaining("dicom.tls.key-store").hasMessageContaining("readable");
        assertThatThrownBy(() -> NodeSettings.load(write("database.url=jdbc:mysql://db/node\n"), dir).database())
                .hasMessageContaining("database.url").hasMessageContaining("jdbc:postgresql://");
        assertThatThrownBy(() -> NodeSettings.load(write("spool.retention=-1h\n"), dir).nodeConfig(List.of()))
                .hasMessageContaining("spool.retention").hasMessageContaining("0s to 87600h");
        assertThatThrownBy(() -> NodeSettings.load(write("dicom.artim-timeout=0s\n"), dir).nodeConfig(List.of()))
                .hasMessageContaining("dicom.artim-timeout").hasMessageContaining("1s to 10m");
        assertThatThrownBy(() -> NodeSettings.load(write("assembly.quiet-period=soon\n"), dir).nodeConfig(List.of()))
                .hasMessageContaining("assembly.quiet-period").hasMessageContaining("1s to 1h");
        assertThatThrownBy(() -> NodeSettings.load(write("dicom.max-associations-per-host=0\n"), dir)
                .nodeConfig(List.of())).hasMessageContaining("dicom.max-associations-per-host");
        assertThatThrownBy(() -> NodeSettings.load(write("dicom.prot=104\n"), dir))
                .hasMessageContaining("unknown key 'dicom.prot'");
        // fhir.* keys are checked with the rest: a misspelling used to be accepted and ignored.
        assertThatThrownBy(() -> NodeSettings.load(write("fhir.url=https://fhir.example/r4\nfhir.max-atempts=3\n"), dir))
                .hasMessageContaining("unknown key 'fhir.max-atempts'");
        assertThat(NodeSettings.load(write("fhir.url=https://fhir.example/r4\nfhir.max-attempts=3\n"), dir)
                .fhirConfigured()).isTrue();
    }

    @Test
    void destinationsUsePlainTcpWithoutAnOutboundTrustStore() throws Exception {
        Path file = write("delivery.dicom-destinations=PACS@10.0.0.5:104\n");
        assertThat(NodeSettings.load(file, dir).nodeConfig(List.of()).destinations()).singleElement()
                .satisfies(d -> assertThat(d.tls()).isEmpty());
    }

    @Test
    void anOutboundTrustStoreGivesEveryDestinationTlsAndAPinReplacesTheNameCheckForItsAeTitle() throws Exception {
        Path trust = Files.writeString(dir.resolve("pacs-trust.p12"), "");
        Path keys = Files.writeString(dir.resolve("node.p12"), "");
        String pin = "AB:".repeat(31) + "AB";
        Path file = write("delivery.dicom-destinations=PACS@10.0.0.5:2762,ARCHIVE@archive.example:2762\n"
                + "delivery.tls.trust-store=" + trust + "\ndelivery.tls.trust-store-password=t\n"
                + "delivery.tls.key-store=" + keys + "\ndelivery.tls.key-store-password=k\n"
                + "delivery.tls.pinned-certificates=PACS=" + pin + "\n");
        List<Destination> destinations = NodeSettings.load(file, dir).nodeConfig(List.of()).destinations();
        TlsClientOptions pacs = destinations.get(0).tls().orElseThrow();
        assertThat(pacs.trustStore()).isEqualTo(trust);
        assertThat(pacs.trustStorePassword()).containsExactly('t');
        assertThat(pacs.keyStore()).contains(keys);
        assertThat(pacs.keyStorePassword()).containsExactly('k');
        assertThat(pacs.peerCheck()).isEqualTo(new TlsClientOptions.Pinned("ab".repeat(32)));
        assertThat(destinations.get(1).tls().orElseThrow().peerCheck()).isEqualTo(new TlsClientOptions.HostName());
    }

    @Test
    void badOutboundTlsSettingsStopStartUpNamingTheKey() throws Exception {
        Path trust = Files.writeString(dir.resolve("pacs-trust.p12"), "");
        String pin = "ab".repeat(32);
        assertThatThrownBy(() -> NodeSettings.load(write("delivery.dicom-destinations=PACS@10.0.0.5:2762\n"
                + "delivery.tls.pinned-certificates=PACS=" + pin + "\n"), dir).nodeConfig(List.of()))
                .hasMessageContaining("TRIAGE-0612").hasMessageContaining("delivery.tls.trust-store")
                .hasMessageContaining("no trust store");
        assertThatThrownBy(() -> NodeSettings.load(write("delivery.dicom-destinations=PACS@10.0.0.5:2762\n"
                + "delivery.tls.trust-store=/nonexistent.p12\n"), dir).nodeConfig(List.of()))
                .hasMessageContaining("delivery.tls.trust-store").hasMessageContaining("readable");
        assertThatThrownBy(() -> NodeSettings.load(write("delivery.dicom-destinations=PACS@10.0.0.5:2762\n"
                + "delivery.tls.trust-store=" + trust + "\ndelivery.tls.pinned-certificates=PACS=abc\n"), dir)
                .nodeConfig(List.of())).hasMessageContaining("delivery.tls.pinned-certificates")
                .hasMessageContaining("64 hex digits");
        assertThatThrownBy(() -> NodeSettings.load(write("delivery.dicom-destinations=PACS@10.0.0.5:2762\n"
                + "delivery.tls.trust-store=" + trust + "\ndelivery.tls.pinned-certificates=OTHER=" + pin + "\n"), dir)
                .nodeConfig(List.of())).hasMessageContaining("delivery.tls.pinned-certificates")
                .hasMessageContaining("OTHER is not in delivery.dicom-destinations");
    }

    private Path write(String content) throws Exception {
        Path f = dir.resolve("ct-triage.properties");
        Files.writeString(f, content);
        return f;
    }
}

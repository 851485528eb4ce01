package org.cttriage.plugin.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.TlsKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ct-triage config check FILE}: every check listed, every failure found, nothing started. */
@RequiresTools({"keytool", "openssl"})
class ConfigCommandTest {
    private static final Path MODEL = Path.of(System.getProperty("ctglip.package", "../models/ctglip-ref"))
            .toAbsolutePath().normalize();

    @TempDir
    Path dir;

    private Path config(String... lines) throws Exception {
        Path file = dir.resolve("node.properties");
        Files.writeString(file, String.join("\n", lines) + "\n");
        return file;
    }

    @Test
    void aValidConfigurationPassesEveryCheckAndCreatesNothing() throws Exception {
        TlsKeys keys = TlsKeys.create(Files.createDirectories(dir.resolve("keys")));
        Path data = dir.resolve("var");
        Path file = config("node.data-dir=" + data, "model.path=" + MODEL, "dicom.port=11112",
                "assembly.quiet-period-seconds=5",
                "dicom.tls.key-store=" + keys.serverKeyStore(), "dicom.tls.key-store-password=" + TlsKeys.PASSWORD,
                "delivery.dicom-destinations=PACS@127.0.0.1:104",
                "delivery.tls.trust-store=" + keys.serverTrustStore(),
                "delivery.tls.trust-store-password=" + TlsKeys.PASSWORD,
                "fhir.url=http://127.0.0.1:8080/fhir", "hl7.host=127.0.0.1", "hl7.message-type=OMI_O23",
                "fhir.priority-target=service-request", "ups.url=http://127.0.0.1:8080/dcm4chee-arc/aets/DCM4CHEE/rs",
                "ups.auth=bearer", "ups.token=s3cret-token");

        CommandLineTest.Run run = CommandLineTest.run("config", "check", file.toString());

        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        assertThat(run.out())
                .contains("ok    keys: every key known")
                .contains("note  assembly.quiet-period-seconds is the key of an earlier version: write"
                        + " assembly.quiet-period=5s")
                .contains("ok    node: AE CTTRIAGE on 127.0.0.1:11112, quiet period 5 s")
                .contains("ok    dicom tls: dicom.tls.key-store server.p12 (1 entry), client certificates none")
                .contains("ok    destination pacs: PACS@127.0.0.1:104 over TLS")
                .contains("ok    destination pacs tls: delivery.tls.trust-store servers.p12 (2 entries); no client"
                        + " certificate")
                .contains("ok    data folder: " + data + " (will be created)")
                .contains("ok    fhir: server http://127.0.0.1:8080/fhir, priority to service-request")
                .contains("ok    ups: http://127.0.0.1:8080/dcm4chee-arc/aets/DCM4CHEE/rs (bearer token), priorities"
                        + " routine=MEDIUM,urgent=HIGH,asap=HIGH,stat=HIGH, SR retrieved from PACS (not connected to)")
                .doesNotContain("s3cret-token")
                .contains("ok    hl7: OMI^O23 v2.5.1 to 127.0.0.1:2575, priorities routine=R,urgent=A,asap=A,stat=S,"
                        + " at least urgent (not connected to)")
                .contains("ok    http: health, metrics and status on 127.0.0.1:8080")
                .contains("ok    log: no patient data in the operational log")
                .contains("ok    audit: off (neither audit.syslog.host nor audit.file is set)")
                .contains("ok    database: embedded H2 in " + data.resolve("db"))
                .contains("ok    model: ctglip-ref")
                .contains(file + ": valid");
        assertThat(data).doesNotExist();
    }

    @Test
    void everyFailureIsListedWithItsCodeNotOnlyTheFirst() throws Exception {
        TlsKeys keys = TlsKeys.create(Files.createDirectories(dir.resolve("keys")));
        Path file = config("node.data-dir=" + dir.resolve("var"), "model.path=" + dir.resolve("no-model"),
                "dicom.tls.key-store=" + keys.serverKeyStore(), "dicom.tls.key-store-password=wrong",
                "fhir.url=ftp://fhir.example", "database.pool-size=0", "log.patient-data=yes",
                "hl7.host=ris.example", "hl7.ack-timeout=5m", "ups.url=http://pacs/rs", "ups.retrieve-ae-title=PACS",
                "ups.priority-map=routine=HIGH,urgent=MEDIUM,asap=HIGH,stat=HIGH");

        CommandLineTest.Run run = CommandLineTest.run("config", "check", file.toString());

        assertThat(run.exitCode()).isEqualTo(2);
        List<String> failed = run.out().lines().filter(l -> l.startsWith("FAIL")).toList();
        assertThat(failed).hasSize(7).allSatisfy(l -> assertThat(l).contains("TRIAGE-"));
        assertThat(run.out()).contains("FAIL  log: TRIAGE-0612 log.patient-data");
        assertThat(run.out())
                .contains("FAIL  dicom tls: TRIAGE-0612 dicom.tls.key-store " + keys.serverKeyStore()
                        + " cannot be opened with its password as PKCS#12")
                .contains("FAIL  fhir: TRIAGE-0612 fhir.url: 'ftp://fhir.example' is not allowed")
                .contains("FAIL  database: TRIAGE-0612 database.pool-size")
                .contains("FAIL  hl7: TRIAGE-0612 hl7.ack-timeout: '5m' is not allowed; allowed: more than 0 up to 2m")
                .contains("FAIL  model: TRIAGE-0401 no manifest.json in " + dir.resolve("no-model"))
                .contains("ok    node: ")
                .contains("FAIL  ups: TRIAGE-0612 ups.priority-map: 'routine=HIGH,urgent=MEDIUM,asap=HIGH,stat=HIGH' is"
                        + " not allowed: urgent would map below routine")
                .contains(file + ": 7 check(s) failed");
    }

    @Test
    void theAuditTrailsCollectorAndItsTlsKeyMaterialAreChecked() throws Exception {
        TlsKeys keys = TlsKeys.create(Files.createDirectories(dir.resolve("keys")));
        Path data = dir.resolve("var");
        Path valid = config("node.data-dir=" + data, "model.path=" + MODEL, "audit.syslog.host=127.0.0.1",
                "audit.syslog.tls.trust-store=" + keys.serverTrustStore(),
                "audit.syslog.tls.trust-store-password=" + TlsKeys.PASSWORD,
                "audit.syslog.tls.key-store=" + keys.clientKeyStore(),
                "audit.syslog.tls.key-store-password=" + TlsKeys.PASSWORD, "audit.file=" + dir.resolve("audit.log"),
                "audit.enterprise-site-id=HOSP");
        CommandLineTest.Run run = CommandLineTest.run("config", "check", valid.toString());
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        assertThat(run.out())
                .contains("ok    audit: syslog tls://127.0.0.1:6514, spool " + data.resolve("audit-spool")
                        + " up to 256 MiB; file " + dir.resolve("audit.log") + "; AuditSourceID CTTRIAGE")
                .contains("ok    audit tls: audit.syslog.tls.trust-store servers.p12 (2 entries);"
                        + " audit.syslog.tls.key-store client.p12 (1 entry)");
        assertThat(data).doesNotExist();

        Path noTrust = config("node.data-dir=" + data, "model.path=" + MODEL, "audit.syslog.host=127.0.0.1");
        CommandLineTest.Run failed = CommandLineTest.run("config", "check", noTrust.toString());
        assertThat(failed.exitCode()).isEqualTo(2);
        assertThat(failed.out()).contains("FAIL  audit: TRIAGE-0612 audit.syslog.tls.trust-store");

        Path wrongPassword = config("node.data-dir=" + data, "model.path=" + MODEL, "audit.syslog.host=127.0.0.1",
                "audit.syslog.tls.trust-store=" + keys.serverTrustStore(), "audit.syslog.tls.trust-store-password=x");
        CommandLineTest.Run wrong = CommandLineTest.run("config", "check", wrongPassword.toString());
        assertThat(wrong.out()).contains("FAIL  audit tls: TRIAGE-0612 audit.syslog.tls.trust-store");

        Path orphan = config("node.data-dir=" + data, "model.path=" + MODEL, "audit.syslog.port=514");
        assertThat(CommandLineTest.run("config", "check", orphan.toString()).out())
                .contains("FAIL  audit: TRIAGE-0612 audit.syslog.host = '' is not allowed");
    }

    @Test
    void anUnknownKeyStopsTheCheckAtOnceAndAMissingFileIsSaidSo() throws Exception {
        Path file = config("node.data-dir=" + dir.resolve("var"), "dicom.prot=104");
        CommandLineTest.Run run = CommandLineTest.run("config", "check", file.toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.out()).contains("FAIL  keys: TRIAGE-0612 unknown key 'dicom.prot'")
                .contains("not valid (the other checks need readable keys)");

        CommandLineTest.Run missing = CommandLineTest.run("config", "check", dir.resolve("absent.properties").toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.out()).contains("FAIL  file: TRIAGE-0106 " + dir.resolve("absent.properties"));
    }
}

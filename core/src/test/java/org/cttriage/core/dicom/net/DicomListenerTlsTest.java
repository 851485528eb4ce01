package org.cttriage.core.dicom.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DICOM TLS (PS3.15 B.1) against dcmtk's echoscu: a server certificate from a PKCS#12 key
 * store, and the optional client-certificate check. Key material is made by keytool/openssl.
 */
@RequiresTools({"echoscu", "keytool", "openssl"})
class DicomListenerTlsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String SECRET = "changeit";

    @TempDir
    Path dir;

    private DicomListener listener;

    @BeforeEach
    void keys() throws Exception {
        keytool("-genkeypair", "-alias", "node", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=localhost",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", path("server.p12"), "-storepass", SECRET,
                "-ext", "SAN=ip:127.0.0.1,dns:localhost");
        keytool("-exportcert", "-rfc", "-alias", "node", "-keystore", path("server.p12"), "-storepass", SECRET,
                "-file", path("server.pem"));
        keytool("-genkeypair", "-alias", "pacs", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=pacs",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", path("client.p12"), "-storepass", SECRET);
        keytool("-exportcert", "-rfc", "-alias", "pacs", "-keystore", path("client.p12"), "-storepass", SECRET,
                "-file", path("client.pem"));
        run("openssl", "pkcs12", "-in", path("client.p12"), "-nocerts", "-nodes", "-out", path("client.key"),
                "-passin", "pass:" + SECRET);
        keytool("-importcert", "-noprompt", "-alias", "pacs", "-file", path("client.pem"), "-storetype", "PKCS12",
                "-keystore", path("trust.p12"), "-storepass", SECRET);
    }

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.close();
        }
    }

    @Test
    void echoOverTlsWithTheServerCertificate() throws Exception {
        start(new TlsOptions(dir.resolve("server.p12"), SECRET.toCharArray(), Optional.empty(), new char[0],
                TlsOptions.ClientAuth.NONE));
        ExternalCommand.Result tls = echo("+tla", "+cf", path("server.pem"));
        assertThat(tls.exitCode()).as(tls.output()).isZero();
        assertThat(echo().exitCode()).as("plain TCP to a TLS listener").isNotZero();
    }

    @Test
    void requiredClientCertificateIsChecked() throws Exception {
        start(new TlsOptions(dir.resolve("server.p12"), SECRET.toCharArray(), Optional.of(dir.resolve("trust.p12")),
                SECRET.toCharArray(), TlsOptions.ClientAuth.REQUIRED));
        ExternalCommand.Result withCert = echo("+tls", path("client.key"), path("client.pem"), "+cf", path("server.pem"));
        assertThat(withCert.exitCode()).as(withCert.output()).isZero();
        assertThat(echo("+tla", "+cf", path("server.pem")).exitCode()).as("no client certificate").isNotZero();
    }

    private void start(TlsOptions tls) throws Exception {
        ListenerOptions options = ListenerOptions.defaults("CTTRIAGE", InetAddress.getLoopbackAddress(), 0,
                dir.resolve("incoming")).withTls(Optional.of(tls));
        listener = new DicomListener(options, new AssociationPolicy(options), instance -> DimseStatus.SUCCESS);
        listener.start();
    }

    private ExternalCommand.Result echo(String... tlsOptions) throws Exception {
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("echoscu"));
        command.addAll(java.util.List.of(tlsOptions));
        command.addAll(java.util.List.of("-aec", "CTTRIAGE", "127.0.0.1", Integer.toString(listener.port())));
        return ExternalCommand.run(TIMEOUT, command);
    }

    private String path(String name) {
        return dir.resolve(name).toString();
    }

    private static void keytool(String... args) throws Exception {
        String[] command = new String[args.length + 1];
        command[0] = "keytool";
        System.arraycopy(args, 0, command, 1, args.length);
        run(command);
    }

    private static void run(String... command) throws Exception {
        ExternalCommand.Result r = ExternalCommand.run(TIMEOUT, command);
        assertThat(r.exitCode()).as(String.join(" ", command) + "\n" + r.output()).isZero();
    }
}

package org.cttriage.core.dicom.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.TlsKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DICOM TLS (PS3.15 B.12, see {@link TlsProfile}) against dcmtk's echoscu: a server certificate from a PKCS#12 key
 * store, and the optional client-certificate check. Key material: {@link TlsKeys}.
 */
@RequiresTools({"echoscu", "keytool", "openssl"})
class DicomListenerTlsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final char[] SECRET = TlsKeys.PASSWORD.toCharArray();

    @TempDir
    static Path keyDir;
    static TlsKeys keys;

    @TempDir
    Path dir;

    private DicomListener listener;

    @BeforeAll
    static void keyMaterial() throws Exception {
        keys = TlsKeys.create(keyDir);
    }

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.close();
        }
    }

    @Test
    void echoOverTlsWithTheServerCertificate() throws Exception {
        start(new TlsOptions(keys.serverKeyStore(), SECRET, Optional.empty(), new char[0], TlsOptions.ClientAuth.NONE));
        ExternalCommand.Result tls = echo("+tla", "+cf", keys.serverCertificate().toString());
        assertThat(tls.exitCode()).as(tls.output()).isZero();
        assertThat(echo().exitCode()).as("plain TCP to a TLS listener").isNotZero();
    }

    @Test
    void requiredClientCertificateIsChecked() throws Exception {
        start(new TlsOptions(keys.serverKeyStore(), SECRET, Optional.of(keys.clientTrustStore()), SECRET,
                TlsOptions.ClientAuth.REQUIRED));
        ExternalCommand.Result withCert = echo("+tls", keys.clientKey().toString(), keys.clientCertificate().toString(),
                "+cf", keys.serverCertificate().toString());
        assertThat(withCert.exitCode()).as(withCert.output()).isZero();
        assertThat(echo("+tla", "+cf", keys.serverCertificate().toString()).exitCode()).as("no client certificate")
                .isNotZero();
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

}

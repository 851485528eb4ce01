package org.cttriage.core.dicom.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.TlsKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The listener's TLS is the BCP 195 profile ({@link TlsProfile}): TLS 1.2 only with ECDHE and an
 * AEAD cipher, TLS 1.1 and older refused, the server's preference wins; a refused handshake is
 * one coded WARN line. Peers: a JSSE client in this JVM, and openssl s_client as a real one.
 */
@RequiresTools({"keytool", "openssl"})
class DicomListenerTlsProfileTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path keyDir;
    static TlsKeys keys;

    @TempDir
    Path dir;

    private DicomListener listener;
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private PrintStream err;

    @BeforeAll
    static void keyMaterial() throws Exception {
        keys = TlsKeys.create(keyDir);
    }

    @BeforeEach
    void start() throws Exception {
        err = System.err;
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
        ListenerOptions options = ListenerOptions.defaults("CTTRIAGE", InetAddress.getLoopbackAddress(), 0,
                dir.resolve("incoming")).withTls(Optional.of(new TlsOptions(keys.serverKeyStore(),
                        TlsKeys.PASSWORD.toCharArray(), Optional.empty(), new char[0], TlsOptions.ClientAuth.NONE)));
        listener = new DicomListener(options, new AssociationPolicy(options), instance -> DimseStatus.SUCCESS);
        listener.start();
    }

    @AfterEach
    void stop() {
        System.setErr(err);
        listener.close();
    }

    @Test
    void tls12WithEcdheAndAesGcmIsAccepted() throws Exception {
        SSLSession session = handshake("TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assertThat(session.getProtocol()).isEqualTo("TLSv1.2");
        assertThat(session.getCipherSuite()).isEqualTo("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    }

    @Test
    void tls13IsAccepted() throws Exception {
        assertThat(handshake("TLSv1.3", "TLS_AES_256_GCM_SHA384").getProtocol()).isEqualTo("TLSv1.3");
    }

    /** No forward secrecy (RSA key transport), CBC with SHA-1 or SHA-256 MACs, or finite-field DHE. */
    @ParameterizedTest
    @ValueSource(strings = {"TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
            "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"})
    void tls12SuitesOutsideTheProfileAreRefused(String suite) throws Exception {
        assertThatThrownBy(() -> handshake("TLSv1.2", suite)).isInstanceOf(SSLException.class);
    }

    @Test
    void theServersOrderOfPreferenceWins() throws Exception {
        SSLSession session = handshake("TLSv1.2", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assertThat(session.getCipherSuite()).isEqualTo("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    }

    @Test
    void aRefusedHandshakeIsOneCodedWarningWithoutStackTrace() throws Exception {
        assertThatThrownBy(() -> handshake("TLSv1.2", "TLS_RSA_WITH_AES_128_CBC_SHA")).isInstanceOf(SSLException.class);
        String line = Eventually.await(TIMEOUT, "the listener's TLS warning", () -> lines("TRIAGE-0630"),
                l -> !l.isEmpty()).get(0);
        assertThat(line).contains("WARN").contains("TRIAGE-0630 TLS with 127.0.0.1 failed: ")
                .contains("no cipher suites in common");
        assertThat(lines("TRIAGE-0630")).hasSize(1);
        assertThat(lines("TRIAGE-0606")).as("not also logged as a failed association").isEmpty();
        assertThat(log.toString(StandardCharsets.UTF_8)).doesNotContain("\tat ");
    }

    @Test
    void opensslWithoutForwardSecrecyOrWithTls11IsRefusedAndWithEcdheGcmAccepted() throws Exception {
        ExternalCommand.Result cbc = sClient("-tls1_2", "-cipher", "AES128-SHA@SECLEVEL=0");
        assertThat(cbc.exitCode()).as(cbc.output()).isNotZero();
        assertThat(cbc.output()).contains("alert handshake failure");
        ExternalCommand.Result old = sClient("-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0");
        assertThat(old.exitCode()).as(old.output()).isNotZero();
        assertThat(old.output()).contains("alert protocol version");
        ExternalCommand.Result good = sClient("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256");
        assertThat(good.exitCode()).as(good.output()).isZero();
        assertThat(good.output()).contains("Cipher is ECDHE-RSA-AES128-GCM-SHA256");
    }

    private SSLSession handshake(String protocol, String... suites) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {
            TlsProfile.trustManager(keys.serverTrustStore(), TlsKeys.PASSWORD.toCharArray())}, null);
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", listener.port())) {
            socket.setEnabledProtocols(new String[] {protocol});
            socket.setEnabledCipherSuites(suites);
            socket.startHandshake();
            return socket.getSession();
        }
    }

    private ExternalCommand.Result sClient(String... options) throws Exception {
        String command = "openssl s_client -connect 127.0.0.1:" + listener.port() + " -CAfile "
                + keys.serverCertificate() + " " + String.join(" ", options) + " < /dev/null";
        return ExternalCommand.run(TIMEOUT, "bash", "-c", command);
    }

    private List<String> lines(String code) {
        return log.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains(code)).toList();
    }
}

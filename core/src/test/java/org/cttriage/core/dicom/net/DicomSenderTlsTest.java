package org.cttriage.core.dicom.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.StoreScp;
import org.cttriage.testdata.junit.TlsKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node's own associations over TLS: C-ECHO and C-STORE to our {@link DicomListener} with
 * TLS and to dcmtk's storescp {@code +tls}; the peer must be trusted, then named by its
 * certificate or match the pinned fingerprint, each refusal with its own code.
 */
@RequiresTools({"keytool", "openssl", "storescp", "echoscu"})
class DicomSenderTlsTest {
    private static final char[] SECRET = TlsKeys.PASSWORD.toCharArray();

    @TempDir
    static Path keyDir;
    static TlsKeys keys;

    @TempDir
    Path dir;

    private DicomListener listener;
    private final List<ReceivedInstance> received = new CopyOnWriteArrayList<>();

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
    void echoAndStoreOverTlsCheckingTheHostName() throws Exception {
        RemoteAe peer = listen(keys.serverKeyStore(), TlsOptions.ClientAuth.NONE);
        DicomSender sender = sender(keys.serverTrustStore(), new TlsClientOptions.HostName());
        sender.echo(peer);
        List<Path> files = PhantomSeries.write(7, 32, 2, 5, dir.resolve("series")).files();
        sender.store(peer, files);
        assertThat(received).hasSize(2);
    }

    @Test
    void theHostNameIsCheckedByDefault() throws Exception {
        RemoteAe peer = listen(keys.elsewhereKeyStore(), TlsOptions.ClientAuth.NONE);
        assertThatThrownBy(() -> sender(keys.serverTrustStore(), new TlsClientOptions.HostName()).echo(peer))
                .isInstanceOfSatisfying(TriageException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(ErrorCode.TLS_PEER_NAME_MISMATCH);
                    assertThat(e.getMessage()).startsWith("TRIAGE-0632 C-ECHO to CTTRIAGE@127.0.0.1:")
                            .contains("CN=pacs.elsewhere.example");
                });
        assertThatThrownBy(() -> sender(keys.serverTrustStore(), new TlsClientOptions.HostName()).store(peer,
                PhantomSeries.write(7, 32, 1, 5, dir.resolve("series")).files()))
                .isInstanceOfSatisfying(TriageException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.TLS_PEER_NAME_MISMATCH));
        assertThat(received).isEmpty();
    }

    @Test
    void aPinnedCertificateReplacesTheNameCheck() throws Exception {
        RemoteAe peer = listen(keys.elsewhereKeyStore(), TlsOptions.ClientAuth.NONE);
        sender(keys.serverTrustStore(), new TlsClientOptions.Pinned(TlsKeys.sha256(keys.elsewhereCertificate())))
                .echo(peer);
    }

    @Test
    void aPinMismatchIsRefused() throws Exception {
        RemoteAe peer = listen(keys.serverKeyStore(), TlsOptions.ClientAuth.NONE);
        TlsClientOptions.Pinned other = new TlsClientOptions.Pinned(TlsKeys.sha256(keys.elsewhereCertificate()));
        String actual = TlsKeys.sha256(keys.serverCertificate());
        assertThatThrownBy(() -> sender(keys.serverTrustStore(), other).echo(peer))
                .isInstanceOfSatisfying(TriageException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(ErrorCode.TLS_PEER_PIN_MISMATCH);
                    assertThat(e.getMessage()).contains("has SHA-256 " + actual)
                            .contains("pinned is " + other.sha256());
                });
    }

    @Test
    void aPinDoesNotLiftTheTrustStore() throws Exception {
        RemoteAe peer = listen(keys.serverKeyStore(), TlsOptions.ClientAuth.NONE);
        TlsClientOptions.Pinned pin = new TlsClientOptions.Pinned(TlsKeys.sha256(keys.serverCertificate()));
        assertThatThrownBy(() -> sender(keys.clientTrustStore(), pin).echo(peer))
                .isInstanceOfSatisfying(TriageException.class,
                        e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.TLS_PEER_UNTRUSTED));
    }

    @Test
    void anUntrustedCertificateIsRefused() throws Exception {
        RemoteAe peer = listen(keys.serverKeyStore(), TlsOptions.ClientAuth.NONE);
        assertThatThrownBy(() -> sender(keys.clientTrustStore(), new TlsClientOptions.HostName()).echo(peer))
                .isInstanceOfSatisfying(TriageException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(ErrorCode.TLS_PEER_UNTRUSTED);
                    assertThat(e.getMessage()).startsWith("TRIAGE-0631 ").contains("CN=localhost");
                });
    }

    @Test
    void theClientCertificateIsPresentedWhenConfigured() throws Exception {
        RemoteAe peer = listen(keys.serverKeyStore(), TlsOptions.ClientAuth.REQUIRED);
        new DicomSender("NODE", Optional.of(new TlsClientOptions(Optional.of(keys.clientKeyStore()), SECRET,
                keys.serverTrustStore(), SECRET, new TlsClientOptions.HostName()))).echo(peer);
        // In TLS 1.3 the server checks the client's certificate after the client's handshake is done,
        // so the client learns of the refusal as a TLS alert or as a connection the server closed
        // while it sends the A-ASSOCIATE-RQ, depending on timing; either way no association exists.
        assertThatThrownBy(() -> sender(keys.serverTrustStore(), new TlsClientOptions.HostName()).echo(peer))
                .isInstanceOfSatisfying(TriageException.class, e -> assertThat(e.errorCode()).as(e.getMessage())
                        .isIn(ErrorCode.TLS_FAILED, ErrorCode.ECHO_FAILED));
    }

    /** A server offering only a suite without forward secrecy gets no session from the node. */
    @Test
    void theSenderOffersOnlyTheProfile() throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(TlsProfile.keyManagers(keys.serverKeyStore(), SECRET), null, null);
        try (SSLServerSocket server = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 1,
                InetAddress.getLoopbackAddress())) {
            server.setEnabledProtocols(new String[] {"TLSv1.2"});
            server.setEnabledCipherSuites(new String[] {"TLS_RSA_WITH_AES_128_CBC_SHA"});
            Thread accept = new Thread(() -> {
                try (SSLSocket s = (SSLSocket) server.accept()) {
                    s.startHandshake();
                } catch (Exception expected) {
                    // the handshake fails: what the test asserts on the sender's side
                }
            });
            accept.start();
            RemoteAe peer = new RemoteAe("PACS", "127.0.0.1", server.getLocalPort());
            assertThatThrownBy(() -> sender(keys.serverTrustStore(), new TlsClientOptions.HostName()).echo(peer))
                    .isInstanceOfSatisfying(TriageException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.TLS_FAILED));
            accept.join();
        }
    }

    @Test
    void storesToDcmtkStorescpOverTls() throws Exception {
        try (StoreScp scp = StoreScp.startTls("PACS", dir.resolve("scp"), keys.serverKey(), keys.serverCertificate(),
                keys.clientKey(), keys.clientCertificate())) {
            RemoteAe peer = new RemoteAe(scp.aet(), scp.host(), scp.port());
            DicomSender sender = new DicomSender("NODE", Optional.of(new TlsClientOptions(
                    Optional.of(keys.clientKeyStore()), SECRET, keys.serverTrustStore(), SECRET,
                    new TlsClientOptions.HostName())));
            sender.echo(peer);
            sender.store(peer, PhantomSeries.write(7, 32, 2, 5, dir.resolve("series")).files());
            assertThat(scp.receivedFiles()).as(scp.log()).hasSize(2);
        }
    }

    private RemoteAe listen(Path keyStore, TlsOptions.ClientAuth clientAuth) throws Exception {
        ListenerOptions options = ListenerOptions.defaults("CTTRIAGE", InetAddress.getLoopbackAddress(), 0,
                dir.resolve("incoming")).withTls(Optional.of(new TlsOptions(keyStore, SECRET,
                        Optional.of(keys.clientTrustStore()), SECRET, clientAuth)));
        listener = new DicomListener(options, new AssociationPolicy(options), instance -> {
            received.add(instance);
            return DimseStatus.SUCCESS;
        });
        listener.start();
        return new RemoteAe("CTTRIAGE", "127.0.0.1", listener.port());
    }

    private static DicomSender sender(Path trustStore, TlsClientOptions.PeerCheck check) {
        return new DicomSender("NODE", Optional.of(new TlsClientOptions(Optional.empty(), new char[0], trustStore,
                SECRET, check)));
    }
}

package org.cttriage.core.dicom.net;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.SOPClass;
import com.pixelmed.dicom.SetOfDicomFiles;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import com.pixelmed.network.Association;
import com.pixelmed.network.CEchoRequestCommandMessage;
import com.pixelmed.network.CompositeResponseHandler;
import com.pixelmed.network.CtTriageRequestor;
import com.pixelmed.network.MultipleInstanceTransferStatusHandler;
import com.pixelmed.network.PresentationContext;
import com.pixelmed.network.StorageSOPClassSCU;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.LinkedList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;

/**
 * C-STORE and C-ECHO SCU over PixelMed, on a connection we open ourselves: plain TCP, or TLS
 * ({@link TlsClientOptions}: {@link TlsProfile}'s protocols and suites, the trust store, then the
 * host name or a pinned certificate) established and checked before the A-ASSOCIATE-RQ is sent.
 * (Plain sending measured working against dcmtk storescp and Orthanc.)
 */
public final class DicomSender {
    /** The HTTPS rules (RFC 2818 / RFC 6125) are the JDK's only endpoint identification for non-LDAP peers. */
    private static final String ENDPOINT_IDENTIFICATION = "HTTPS";
    private static final byte ECHO_CONTEXT_ID = 1;

    /** Longest wait for the peer to accept the TCP connection. */
    public static final java.time.Duration CONNECT_TIMEOUT = java.time.Duration.ofSeconds(10);
    /**
     * Longest silence of the peer while we wait for it (TLS handshake, A-ASSOCIATE-AC, C-STORE-RSP):
     * a PACS that accepts the connection and never answers fails the attempt, which is retried,
     * instead of holding a delivery thread for ever.
     */
    public static final java.time.Duration ANSWER_TIMEOUT = java.time.Duration.ofSeconds(60);

    private final String callingAeTitle;
    private final Optional<TlsClientOptions> tls;
    private final java.time.Duration connectTimeout;
    private final java.time.Duration answerTimeout;

    /** A sender over plain TCP. */
    public DicomSender(String callingAeTitle) {
        this(callingAeTitle, Optional.empty());
    }

    /** A sender over TLS when {@code tls} is present. */
    public DicomSender(String callingAeTitle, Optional<TlsClientOptions> tls) {
        this(callingAeTitle, tls, CONNECT_TIMEOUT, ANSWER_TIMEOUT);
    }

    /** As above, with other time limits (tests). */
    DicomSender(String callingAeTitle, Optional<TlsClientOptions> tls, java.time.Duration connectTimeout,
                java.time.Duration answerTimeout) {
        this.callingAeTitle = callingAeTitle;
        this.tls = tls;
        this.connectTimeout = connectTimeout;
        this.answerTimeout = answerTimeout;
    }

    /** Verifies {@code peer} with C-ECHO. */
    public void echo(RemoteAe peer) throws TriageException {
        Socket socket = connect(peer, ErrorCode.ECHO_FAILED, "C-ECHO to " + peer);
        try {
            LinkedList<PresentationContext> contexts = new LinkedList<>();
            LinkedList<String> syntaxes = new LinkedList<>(List.of(TransferSyntax.ImplicitVRLittleEndian,
                    TransferSyntax.ExplicitVRLittleEndian));
            contexts.add(new PresentationContext(ECHO_CONTEXT_ID, SOPClass.Verification, syntaxes));
            Association association = CtTriageRequestor.request(socket, peer.aeTitle(), callingAeTitle, contexts);
            EchoResponse response = new EchoResponse();
            association.setReceivedDataHandler(response);
            association.send(association.getSuitablePresentationContextID(SOPClass.Verification),
                    new CEchoRequestCommandMessage().getBytes(), null);
            association.waitForCommandPDataPDUs();
            association.release();
            if (response.getStatus() != DimseStatus.SUCCESS.code()) {
                throw new TriageException(ErrorCode.ECHO_FAILED, "C-ECHO to " + peer + " answered status "
                        + String.format("%04XH", response.getStatus()));
            }
        } catch (TriageException e) {
            throw e;
        } catch (Exception e) {
            throw failure(ErrorCode.ECHO_FAILED, "C-ECHO to " + peer, e);
        } finally {
            closeQuietly(socket);
        }
    }

    /**
     * Sends {@code files} to {@code peer} on one association.
     *
     * @throws TriageException when the connection or association fails or any instance is not
     *     answered with success
     */
    public void store(RemoteAe peer, List<Path> files) throws TriageException {
        SetOfDicomFiles set = new SetOfDicomFiles();
        for (Path f : files) {
            set.add(f.toString());
        }
        int[] counts = new int[2];
        MultipleInstanceTransferStatusHandler status = new MultipleInstanceTransferStatusHandler() {
            @Override
            public void updateStatus(int remaining, int completed, int failed, int warning, String sopInstanceUid) {
                counts[0] = completed + warning;
                counts[1] = failed;
            }
        };
        Socket socket = connect(peer, ErrorCode.DICOM_DELIVERY_FAILED, "C-STORE to " + peer);
        boolean trapped;
        try {
            Association association = CtTriageRequestor.request(socket, peer.aeTitle(), callingAeTitle,
                    CtTriageRequestor.storageContexts(set));
            StorageSOPClassSCU scu = new StorageSOPClassSCU(association, set, status);
            trapped = scu.encounteredTrappedExceptions();
            if (!trapped) {
                association.release();
            }
        } catch (Exception e) {
            throw failure(ErrorCode.DICOM_DELIVERY_FAILED, "C-STORE to " + peer, e);
        } finally {
            closeQuietly(socket);
        }
        if (trapped || counts[1] > 0 || counts[0] != files.size()) {
            throw new TriageException(ErrorCode.DICOM_DELIVERY_FAILED, "C-STORE to " + peer + ": " + counts[0] + " of "
                    + files.size() + " stored, " + counts[1] + " failed" + (trapped ? " (association failed)" : ""));
        }
    }

    /** Opens the connection, and for TLS completes and checks the handshake. */
    private Socket connect(RemoteAe peer, ErrorCode otherwise, String what) throws TriageException {
        SSLSocketFactory factory = tls.isPresent() ? socketFactory(tls.get()) : null;
        Socket plain = new Socket();
        try {
            plain.connect(new InetSocketAddress(peer.host(), peer.port()), (int) connectTimeout.toMillis());
            plain.setSoTimeout((int) answerTimeout.toMillis());
            if (factory == null) {
                return plain;
            }
            SSLSocket socket = (SSLSocket) factory.createSocket(plain, peer.host(), peer.port(), true);
            SSLParameters parameters = socket.getSSLParameters();
            TlsProfile.apply(parameters, socket.getSupportedCipherSuites());
            if (tls.get().peerCheck() instanceof TlsClientOptions.HostName) {
                parameters.setEndpointIdentificationAlgorithm(ENDPOINT_IDENTIFICATION);
            }
            socket.setSSLParameters(parameters);
            socket.setSoTimeout((int) answerTimeout.toMillis());
            socket.startHandshake();
            return socket;
        } catch (IOException e) {
            closeQuietly(plain);
            throw failure(otherwise, what, e);
        }
    }

    private static SSLSocketFactory socketFactory(TlsClientOptions options) throws TriageException {
        try {
            KeyManager[] keys = options.keyStore().isPresent()
                    ? TlsProfile.keyManagers(options.keyStore().get(), options.keyStorePassword())
                    : null;
            TrustManager trust = new PeerTrustManager(
                    TlsProfile.trustManager(options.trustStore(), options.trustStorePassword()), options.peerCheck());
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys, new TrustManager[] {trust}, null);
            return context.getSocketFactory();
        } catch (IOException | GeneralSecurityException e) {
            throw new TriageException(ErrorCode.TLS_KEY_MATERIAL_UNREADABLE, "cannot load the TLS key store "
                    + options.keyStore().map(Path::toString).orElse("(none)") + " or trust store "
                    + options.trustStore() + ": " + e.getMessage(), e);
        }
    }

    /** The most specific code: a refused certificate's, any other TLS failure's, or {@code otherwise}. */
    private static TriageException failure(ErrorCode otherwise, String what, Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof PeerTrustManager.Refused refused) {
                return new TriageException(refused.code(), what + " refused: "
                        + refused.getMessage().substring(refused.code().code().length() + 1), e);
            }
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SSLException) {
                return new TriageException(ErrorCode.TLS_FAILED, what + ": TLS failed: " + t.getMessage(), e);
            }
        }
        return new TriageException(otherwise, what + " failed: " + e.getMessage(), e);
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // the association is over either way
        }
    }

    /** Reads the C-ECHO-RSP status. */
    private static final class EchoResponse extends CompositeResponseHandler {
        /** No answer yet is not Success. */
        private static final int NONE = -1;

        EchoResponse() {
            status = NONE;
        }

        @Override
        protected void evaluateStatusAndSetSuccess(AttributeList list) {
            status = Attribute.getSingleIntegerValueOrDefault(list, TagFromName.Status, Integer.MAX_VALUE);
            success = status == DimseStatus.SUCCESS.code();
        }
    }
}

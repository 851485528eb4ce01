package org.cttriage.core.dicom.net;

import com.pixelmed.network.AReleaseException;
import com.pixelmed.network.Association;
import com.pixelmed.network.CtTriageDataHandler;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.TrustManager;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's C-ECHO / C-STORE SCP: our own accept loop on the configured address (PixelMed's
 * dispatcher binds every interface and starts a thread per connection without limit), a bounded
 * pool of association threads, the {@link AssociationPolicy} applied to the A-ASSOCIATE-RQ
 * before PixelMed negotiates, and PixelMed's association layer with our DIMSE handler.
 * Sockets use TCP_NODELAY (without it receiving ran at 12 MB/s here).
 *
 * <p>Against a hostile network: a new connection has {@link ListenerOptions#artimTimeout()} in
 * all to deliver its A-ASSOCIATE-RQ (PS3.8's ARTIM timer); one host holds at most
 * {@link ListenerOptions#maxAssociationsPerHost()} connections; a connection for which no
 * thread is free is closed at once rather than queued; every PDU is checked before PixelMed
 * reads it ({@link AssociationRequest}, {@link PduGuard}) and answered as PS3.8's state machine
 * says. Lines that a peer can provoke in a loop are throttled per host ({@link LogThrottle}).
 */
public final class DicomListener implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DicomListener.class);
    /** Associations being negotiated or rejected beyond the limit still need a thread to say so. */
    private static final int REJECTION_HEADROOM = 4;
    private static final int LINGERING_ROUNDS = 4;
    private static final int SOCKET_BUFFER = 1 << 20;

    private final ListenerOptions options;
    private final AssociationPolicy policy;
    private final StoreHandler storeHandler;
    private final List<AssociationListener> observers = new CopyOnWriteArrayList<>();
    private final AtomicInteger active = new AtomicInteger();
    private final Map<InetAddress, Integer> connectionsPerHost = new ConcurrentHashMap<>();
    private final LogThrottle throttle = new LogThrottle(Clock.systemUTC(), Duration.ofMinutes(1));
    private final TransferSyntaxPreference presentationPolicy;
    private ServerSocket serverSocket;
    private ThreadPoolExecutor pool;
    private Thread acceptThread;
    private volatile boolean running;

    public DicomListener(ListenerOptions options, AssociationPolicy policy, StoreHandler storeHandler) {
        this.options = options;
        this.policy = policy;
        this.storeHandler = storeHandler;
        this.presentationPolicy = new TransferSyntaxPreference(options.transferSyntaxes());
    }

    /** Adds an observer; its exceptions are logged and contained. */
    public void addObserver(AssociationListener observer) {
        observers.add(observer);
    }

    /** Binds and starts accepting. */
    public synchronized void start() throws TriageException {
        if (running) {
            return;
        }
        try {
            Files.createDirectories(options.incomingFolder());
            serverSocket = options.tls().isPresent() ? tlsServerSocket(options.tls().get()) : new ServerSocket();
            serverSocket.setReuseAddress(true);
            serverSocket.setReceiveBufferSize(SOCKET_BUFFER);
            serverSocket.bind(new InetSocketAddress(options.bindAddress(), options.port()), 50);
        } catch (IOException | GeneralSecurityException e) {
            throw new TriageException(ErrorCode.LISTENER_START_FAILED, "cannot listen on "
                    + options.bindAddress().getHostAddress() + ":" + options.port() + ": " + e.getMessage(), e);
        }
        // A released association keeps its thread for PixelMed's ARTIM wait (5 s) after it stopped
        // counting against the limit, so there are threads for several rounds of associations.
        // No queue: a connection waiting for a thread would hang without an answer; it is closed
        // at once instead (a PACS retries), and ARTIM bounds how long a thread waits for an RQ.
        int threads = LINGERING_ROUNDS * options.maxAssociations() + REJECTION_HEADROOM;
        pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
                runnable -> {
                    Thread t = new Thread(runnable, "dicom-association");
                    t.setDaemon(true);
                    return t;
                });
        running = true;
        acceptThread = new Thread(this::acceptLoop, "dicom-accept-" + options.aeTitle());
        acceptThread.setDaemon(true);
        acceptThread.start();
        LOG.info("DICOM listener {} on {}:{}{}", options.aeTitle(), options.bindAddress().getHostAddress(), port(),
                options.tls().isPresent() ? " (TLS)" : "");
    }

    /** The bound port (the ephemeral one when configured with 0). */
    public int port() {
        return serverSocket == null ? options.port() : serverSocket.getLocalPort();
    }

    /** Associations being served now. */
    public int activeAssociations() {
        return active.get();
    }

    private void acceptLoop() {
        while (running) {
            Socket socket;
            try {
                socket = serverSocket.accept();
            } catch (IOException e) {
                if (running) {
                    LOG.error(ErrorCode.ACCEPT_FAILED.code() + " accept failed: {}", e.getMessage());
                }
                continue;
            }
            InetAddress host = socket.getInetAddress();
            HostSlot slot = HostSlot.take(connectionsPerHost, host, options.maxAssociationsPerHost());
            if (slot == null) {
                warnThrottled(ErrorCode.HOST_CONNECTION_LIMIT, host, "connection from {} closed: that host already holds {}"
                        + " connections (dicom.max-associations-per-host)", host.getHostAddress(),
                        options.maxAssociationsPerHost());
                closeQuietly(socket);
                continue;
            }
            try {
                pool.execute(() -> serve(socket, slot));
            } catch (RejectedExecutionException e) {
                slot.release();
                warnThrottled(ErrorCode.ASSOCIATION_THREADS_BUSY, host, "connection from {} closed: all {} association"
                        + " threads busy", host.getHostAddress(), pool.getMaximumPoolSize());
                closeQuietly(socket);
            }
        }
    }

    /** One of a host's connections, given back once: when its association ends or the connection closes. */
    private static final class HostSlot {
        private final Map<InetAddress, Integer> counts;
        private final InetAddress host;
        private final AtomicBoolean held = new AtomicBoolean(true);

        private HostSlot(Map<InetAddress, Integer> counts, InetAddress host) {
            this.counts = counts;
            this.host = host;
        }

        /** A slot for {@code host}, or null when it already holds {@code max}; atomic per host. */
        static HostSlot take(Map<InetAddress, Integer> counts, InetAddress host, int max) {
            boolean[] taken = new boolean[1];
            counts.compute(host, (h, c) -> {
                int n = c == null ? 0 : c;
                taken[0] = n < max;
                return taken[0] ? n + 1 : c;
            });
            return taken[0] ? new HostSlot(counts, host) : null;
        }

        void release() {
            if (held.compareAndSet(true, false)) {
                counts.computeIfPresent(host, (h, c) -> c <= 1 ? null : c - 1);
            }
        }
    }

    private void serve(Socket socket, HostSlot slot) {
        AtomicBoolean counted = new AtomicBoolean();
        // The association stops counting when it ends in protocol terms (A-RELEASE-RP or A-ABORT
        // sent), not when PixelMed lets go of the connection after the ARTIM period.
        Runnable uncount = () -> {
            if (counted.compareAndSet(true, false)) {
                active.decrementAndGet();
            }
            slot.release();
        };
        InetAddress host = socket.getInetAddress();
        String calling = "?";
        PduGuard guard = null;
        AssociationRequest request = null;
        AssociationRequest acceptedRequest = null;
        try {
            socket.setTcpNoDelay(true);
            socket.setSendBufferSize(SOCKET_BUFFER);
            request = receiveRequest(socket);
            if (request == null) {
                return;
            }
            socket.setSoTimeout((int) options.idleTimeout().toMillis());
            calling = AssociationRequest.printable(request.callingAeTitle());
            AssociationDecision decision;
            synchronized (active) {
                decision = policy.decide(request, active.get());
                if (decision instanceof AssociationDecision.Accept) {
                    active.incrementAndGet();
                    counted.set(true);
                }
            }
            if (decision instanceof AssociationDecision.Reject reject) {
                LOG.warn(ErrorCode.ASSOCIATION_REJECTED.code() + " association from {} ({}) rejected: {}", calling,
                        host.getHostAddress(), reject.why());
                socket.getOutputStream().write(AssociationRequest.rejectPdu(reject));
                socket.getOutputStream().flush();
                AssociationRequest rejected = request;
                notify(o -> o.rejected(rejected, reject));
                return;
            }
            AssociationRequest accepted = request;
            acceptedRequest = request;
            notify(o -> o.accepted(accepted));
            OutputStream out = new PduWatchingOutputStream(socket.getOutputStream(), uncount);
            guard = new PduGuard(socket, socket.getInputStream(), out, options.maxPduLength(), options.artimTimeout());
            Association association = CtTriageDataHandler.accept(new ReplayingSocket(socket, request.pdu(), guard, out),
                    options.aeTitle(), options.maxPduLength(), SOCKET_BUFFER, SOCKET_BUFFER, presentationPolicy);
            guard.acceptedContexts(CtTriageDataHandler.acceptedPresentationContexts(association));
            String how = converse(association, request, guard);
            String endedCalling = calling;
            notify(o -> o.ended(endedCalling, how));
            notify(o -> o.associationEnded(accepted, how));
        } catch (Exception | StackOverflowError e) {
            String how = ended(calling, host, guard, e);
            String endedCalling = calling;
            notify(o -> o.ended(endedCalling, how));
            if (acceptedRequest != null) {
                AssociationRequest accepted = acceptedRequest;
                notify(o -> o.associationEnded(accepted, how));
            }
        } finally {
            uncount.run();
            closeQuietly(socket);
        }
    }

    /**
     * Reads the A-ASSOCIATE-RQ under ARTIM (state Sta2). Returns null when the connection ended
     * before one arrived, after answering as PS3.8 Table 9-10 says for Sta2: AA-1 (A-ABORT) for a
     * malformed or unexpected PDU, AA-2 (close) when ARTIM expired or the peer aborted, nothing
     * when the peer closed (AA-5).
     */
    private AssociationRequest receiveRequest(Socket socket) throws IOException {
        ArtimInputStream in = new ArtimInputStream(socket, options.artimTimeout());
        String host = socket.getInetAddress().getHostAddress();
        try {
            return AssociationRequest.read(in, socket.getInetAddress());
        } catch (ProtocolViolation v) {
            if (v.answer().isPresent()) {
                try {
                    socket.getOutputStream().write(v.answer().get());
                    socket.getOutputStream().flush();
                    PduGuard.awaitClose(socket, socket.getInputStream(), options.artimTimeout());
                } catch (IOException gone) {
                    // the peer left first; the line below still says what it sent
                }
            }
            warnThrottled(v.code(), socket.getInetAddress(), "connection from {} before association: {}; {}", host,
                    v.getMessage(), v.answerDescription());
        } catch (AssociationRequest.PeerAbortedEarly e) {
            LOG.info(ErrorCode.PEER_ABORTED.code() + " connection from {} sent A-ABORT before association; closed", host);
        } catch (SSLException e) {
            // A security event (the audit trail picks these up): one line, no stack trace.
            warnThrottled(ErrorCode.TLS_FAILED, socket.getInetAddress(), "TLS with {} failed: {}", host,
                    e.getMessage());
            notify(o -> o.tlsFailed(socket.getInetAddress(), String.valueOf(e.getMessage())));
        } catch (EOFException | SocketException e) {
            if (in.received() == 0) {
                // A TCP connect and close (port scanner, load-balancer health check): not worth a warning.
                LOG.debug("connection from {} closed without sending a PDU", host);
            } else {
                warnThrottled(ErrorCode.ASSOCIATION_FAILED, socket.getInetAddress(), "connection from {} closed after {}"
                        + " bytes of an A-ASSOCIATE-RQ", host, in.received());
            }
        }
        return null;
    }

    private String converse(Association association, AssociationRequest request, PduGuard guard) throws Exception {
        while (true) {
            DimseRequestHandler handler = new DimseRequestHandler(options.incomingFolder(), storeHandler,
                    request.callingAeTitle(), request.remoteAddress(), guard, needsSubjects());
            association.setReceivedDataHandler(handler);
            try {
                association.waitForPDataPDUsUntilHandlerReportsDone();
            } catch (AReleaseException released) {
                discardPartial(handler, request, "an A-RELEASE-RQ");
                return "released";
            } catch (Exception | StackOverflowError e) {
                discardPartial(handler, request, guard.peerAbort().isPresent() ? "an A-ABORT"
                        : guard.violation().isPresent() ? "a protocol error" : "the end of the connection");
                throw e;
            }
            association.send(handler.presentationContextId(), handler.response(), null);
            if (handler.sopInstanceUid() != null) {
                notify(o -> o.storeAnswered(request.callingAeTitle(), handler.sopInstanceUid(), handler.answered()));
                StoredInstance stored = new StoredInstance(handler.sopClassUid(), handler.sopInstanceUid(),
                        handler.answered(), handler.subject());
                notify(o -> o.instanceStored(request, stored));
            }
        }
    }

    /** A C-STORE cut off mid data set: its {@code .part} is deleted, never acknowledged, and the log says so. */
    private void discardPartial(DimseRequestHandler handler, AssociationRequest request, String cause) {
        boolean partial = handler.partial();
        handler.abandon();
        if (partial) {
            String calling = AssociationRequest.printable(request.callingAeTitle());
            String uid = handler.sopInstanceUid();
            LOG.warn(ErrorCode.PARTIAL_INSTANCE_DISCARDED.code() + " {} ({}) ended the association with {} while the"
                    + " data set of SOP Instance {} was half received: the partial instance was discarded and must be"
                    + " sent again", calling, request.remoteAddress().getHostAddress(), cause, uid);
            notify(o -> o.partialInstanceDiscarded(request.callingAeTitle(), uid, cause));
        }
    }

    /** The one log line for an association that did not end with a release, and its summary. */
    private String ended(String calling, InetAddress host, PduGuard guard, Throwable e) {
        String from = calling + " (" + host.getHostAddress() + ")";
        if (!running) {
            LOG.debug("association from {} ended by shutdown", from);
            return "shutdown";
        }
        if (guard != null && guard.violation().isPresent()) {
            ProtocolViolation v = guard.violation().get();
            warnThrottled(v.code(), host, "association from {} aborted: {}; {}", from, v.getMessage(),
                    v.answerDescription());
            return "aborted: " + v.getMessage();
        }
        if (guard != null && guard.peerAbort().isPresent()) {
            int[] sr = guard.peerAbort().get();
            LOG.info(ErrorCode.PEER_ABORTED.code() + " association from {} aborted by the peer (A-ABORT source {},"
                    + " reason {})", from, sr[0], sr[1]);
            return "aborted by the peer";
        }
        if (e instanceof SSLException) {
            warnThrottled(ErrorCode.TLS_FAILED, host, "TLS with {} failed: {}", from, e.getMessage());
            notify(o -> o.tlsFailed(host, String.valueOf(e.getMessage())));
            return "failed: TLS";
        }
        String what;
        if (e instanceof StackOverflowError) {
            what = "a request nested too deeply for the parser";
        } else if (guard != null && guard.timedOut()) {
            what = "no PDU for " + options.idleTimeout().toSeconds() + " s; closed";
        } else if (guard != null && (guard.endOfStream() || guard.transportError().isPresent())) {
            what = "the connection was closed without A-RELEASE or A-ABORT";
        } else {
            what = "unexpected failure (" + e.getClass().getSimpleName() + ")";
            LOG.debug("association from " + from + " failed", e);
        }
        warnThrottled(ErrorCode.ASSOCIATION_FAILED, host, "association from {} failed: {}", from, what);
        return "failed: " + what;
    }

    /** A warning a peer could provoke in a loop: at most one per code and host a minute, with a count. */
    private void warnThrottled(ErrorCode code, InetAddress host, String format, Object... args) {
        long suppressed = throttle.admit(code.code() + " " + host.getHostAddress());
        if (suppressed >= 0) {
            LOG.warn(code.code() + " " + format + LogThrottle.suffix(suppressed), args);
        }
    }

    /** Whether any observer wants the patient and study of each stored instance. */
    private boolean needsSubjects() {
        for (AssociationListener observer : observers) {
            try {
                if (observer.needsSubjects()) {
                    return true;
                }
            } catch (RuntimeException e) {
                LOG.warn("association observer failed: {}", e.toString());
            }
        }
        return false;
    }

    private void notify(java.util.function.Consumer<AssociationListener> event) {
        for (AssociationListener observer : observers) {
            try {
                event.accept(observer);
            } catch (RuntimeException e) {
                LOG.warn("association observer failed: {}", e.toString());
            }
        }
    }

    private static ServerSocket tlsServerSocket(TlsOptions tls) throws IOException, GeneralSecurityException {
        KeyManager[] keys = TlsProfile.keyManagers(tls.keyStore(), tls.keyStorePassword());
        TrustManager[] trust = tls.trustStore().isPresent()
                ? new TrustManager[] {TlsProfile.trustManager(tls.trustStore().get(), tls.trustStorePassword())}
                : null;
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys, trust, null);
        SSLServerSocket socket = (SSLServerSocket) context.getServerSocketFactory().createServerSocket();
        SSLParameters parameters = socket.getSSLParameters();
        TlsProfile.apply(parameters, socket.getSupportedCipherSuites());
        parameters.setNeedClientAuth(tls.clientAuth() == TlsOptions.ClientAuth.REQUIRED);
        socket.setSSLParameters(parameters);
        return socket;
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing a dead socket has nothing left to report
        }
    }

    /**
     * Stops accepting, gives associations in progress a moment, then interrupts them. Nothing
     * acknowledged is lost (it was persisted before Success); an instance cut off mid-transfer
     * was never acknowledged and its {@code .part} is discarded, so the PACS resends it.
     * (PixelMed keeps a released association's thread for the ARTIM period before closing the
     * transport, as PS3.8 asks of an acceptor; waiting for that would only delay shutdown.)
     */
    @Override
    public synchronized void close() {
        if (!running) {
            return;
        }
        running = false;
        try {
            serverSocket.close();
        } catch (IOException e) {
            LOG.warn("closing listener socket: {}", e.toString());
        }
        pool.shutdown();
        try {
            if (!pool.awaitTermination(1, TimeUnit.SECONDS)) {
                pool.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            pool.shutdownNow();
        }
        LOG.info("DICOM listener {} stopped", options.aeTitle());
    }
}

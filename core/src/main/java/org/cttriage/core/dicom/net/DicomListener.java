package org.cttriage.core.dicom.net;

import com.pixelmed.network.AReleaseException;
import com.pixelmed.network.Association;
import com.pixelmed.network.CtTriageDataHandler;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
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
        int threads = LINGERING_ROUNDS * options.maxAssociations() + REJECTION_HEADROOM;
        pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(threads),
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
                    LOG.error(ErrorCode.ACCEPT_FAILED.code() + " accept failed: {}", e.toString());
                }
                continue;
            }
            try {
                pool.execute(() -> serve(socket));
            } catch (RejectedExecutionException e) {
                LOG.warn(ErrorCode.ASSOCIATION_THREADS_BUSY.code() + " connection from {} dropped: all association threads busy",
                        socket.getInetAddress().getHostAddress());
                closeQuietly(socket);
            }
        }
    }

    private void serve(Socket socket) {
        AtomicBoolean counted = new AtomicBoolean();
        // The association stops counting when it ends in protocol terms (A-RELEASE-RP or A-ABORT
        // sent), not when PixelMed lets go of the connection after the ARTIM period.
        Runnable uncount = () -> {
            if (counted.compareAndSet(true, false)) {
                active.decrementAndGet();
            }
        };
        String calling = "?";
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout((int) options.idleTimeout().toMillis());
            socket.setSendBufferSize(SOCKET_BUFFER);
            InputStream in = socket.getInputStream();
            AssociationRequest request = AssociationRequest.read(in, socket.getInetAddress());
            calling = request.callingAeTitle();
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
                        socket.getInetAddress().getHostAddress(), reject.why());
                socket.getOutputStream().write(AssociationRequest.rejectPdu(reject));
                socket.getOutputStream().flush();
                notify(o -> o.rejected(request, reject));
                return;
            }
            notify(o -> o.accepted(request));
            Association association = CtTriageDataHandler.accept(new ReplayingSocket(socket, request.pdu(), uncount),
                    options.aeTitle(), options.maxPduLength(), SOCKET_BUFFER, SOCKET_BUFFER, presentationPolicy);
            String how = converse(association, request);
            String endedCalling = calling;
            notify(o -> o.ended(endedCalling, how));
        } catch (Exception e) {
            if (running && e instanceof SSLException) {
                // A security event (the audit trail picks these up): one line, no stack trace.
                LOG.warn(ErrorCode.TLS_FAILED.code() + " TLS with {} failed: {}",
                        socket.getInetAddress().getHostAddress(), e.getMessage());
            } else if (running) {
                LOG.warn(ErrorCode.ASSOCIATION_FAILED.code() + " association from {} ({}) failed: {}", calling,
                        socket.getInetAddress().getHostAddress(), e.toString());
            } else {
                LOG.debug("association from {} ended by shutdown: {}", calling, e.toString());
            }
            String endedCalling = calling;
            notify(o -> o.ended(endedCalling, "failed: " + e.getMessage()));
        } finally {
            uncount.run();
            closeQuietly(socket);
        }
    }

    private String converse(Association association, AssociationRequest request) throws Exception {
        while (true) {
            DimseRequestHandler handler = new DimseRequestHandler(options.incomingFolder(), storeHandler,
                    request.callingAeTitle(), request.remoteAddress());
            association.setReceivedDataHandler(handler);
            try {
                association.waitForPDataPDUsUntilHandlerReportsDone();
            } catch (AReleaseException released) {
                handler.abandon();
                return "released";
            } catch (Exception e) {
                handler.abandon();
                throw e;
            }
            association.send(handler.presentationContextId(), handler.response(), null);
            if (handler.sopInstanceUid() != null) {
                notify(o -> o.storeAnswered(request.callingAeTitle(), handler.sopInstanceUid(), handler.answered()));
            }
        }
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

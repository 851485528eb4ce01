package org.cttriage.core.audit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.GeneralSecurityException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.cttriage.core.audit.AuditOptions.Protocol;
import org.cttriage.core.audit.AuditOptions.Syslog;
import org.cttriage.core.dicom.net.TlsProfile;

/**
 * One connection to the syslog collector, used by the audit trail's sender thread only.
 *
 * <p>Syslog over TCP and TLS has no acknowledgement (RFC 6587, RFC 5425): a write that succeeds has
 * only reached this host's socket buffer. Two things keep a message from being lost to a collector
 * that went away: before each message the connection is checked for the end of stream or a reset
 * that a collector which closed or died leaves behind (a collector never sends anything, so any
 * readable state means it is gone), and a send that blocks past the write timeout (a collector that
 * stopped reading) closes the connection. In both cases the message stays in the spool and goes
 * again on a new connection. What remains possible: a collector that accepted bytes into its own
 * socket buffer and crashed before it read them loses them.
 */
final class SyslogSender implements AutoCloseable {
    /** The longest UDP payload (65,535 minus the IP and UDP headers). */
    static final int MAX_DATAGRAM = 65_507;

    /** A message too long to go as one datagram (UDP only). */
    static final class TooLongForDatagram extends IOException {
        private static final long serialVersionUID = 1L;

        TooLongForDatagram(int length) {
            super(length + " bytes do not fit one UDP datagram (" + MAX_DATAGRAM + ")");
        }
    }

    private final Syslog target;
    private final AuditOptions.Timing timing;
    private final ScheduledExecutorService watchdog;
    private SSLContext tls;
    private Socket socket;
    private OutputStream out;
    private InputStream in;
    private DatagramSocket datagrams;

    SyslogSender(Syslog target, AuditOptions.Timing timing, ScheduledExecutorService watchdog) {
        this.target = target;
        this.timing = timing;
        this.watchdog = watchdog;
    }

    /** Sends one SYSLOG-MSG; an {@link IOException} means it was not sent (and the connection is closed). */
    void send(byte[] message) throws IOException {
        if (target.protocol() == Protocol.UDP) {
            sendDatagram(message);
            return;
        }
        if (socket != null && !alive()) {
            disconnect();
        }
        if (socket == null) {
            connect();
        }
        byte[] frame = SyslogFormat.octetCounted(message);
        Socket s = socket;
        ScheduledFuture<?> abort = watchdog.schedule(() -> closeQuietly(s), timing.writeTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
        try {
            out.write(frame);
            out.flush();
        } catch (IOException e) {
            disconnect();
            throw abort.isDone() ? new IOException("the collector took nothing for "
                    + timing.writeTimeout().toSeconds() + " s; connection closed", e) : e;
        } finally {
            abort.cancel(false);
        }
        if (abort.isDone() && s.isClosed()) {
            disconnect();
            throw new IOException("the collector took nothing for " + timing.writeTimeout().toSeconds() + " s");
        }
    }

    private void sendDatagram(byte[] message) throws IOException {
        if (message.length > MAX_DATAGRAM) {
            throw new TooLongForDatagram(message.length);
        }
        if (datagrams == null) {
            datagrams = new DatagramSocket();
            datagrams.connect(new InetSocketAddress(target.host(), target.port()));
        }
        try {
            datagrams.send(new DatagramPacket(message, message.length));
        } catch (IOException e) {
            datagrams.close();
            datagrams = null;
            throw e;
        }
    }

    /**
     * Whether the collector is still there: a read that times out at once means nothing arrived (the
     * connection is open); end of stream, a reset or a TLS close means it is gone.
     */
    private boolean alive() {
        try {
            socket.setSoTimeout(1);
            int b = in.read();
            socket.setSoTimeout(0);
            // A collector sends nothing; a byte is tolerated (and ignored), the end of stream is not.
            return b >= 0;
        } catch (SocketTimeoutException open) {
            try {
                socket.setSoTimeout(0);
                return true;
            } catch (IOException e) {
                return false;
            }
        } catch (IOException gone) {
            return false;
        }
    }

    private void connect() throws IOException {
        Socket plain = new Socket();
        try {
            plain.setTcpNoDelay(true);
            plain.setKeepAlive(true);
            plain.connect(new InetSocketAddress(target.host(), target.port()), (int) timing.connectTimeout().toMillis());
            Socket s = plain;
            if (target.protocol() == Protocol.TLS) {
                SSLSocket ssl = (SSLSocket) context().getSocketFactory().createSocket(plain, target.host(),
                        target.port(), true);
                SSLParameters parameters = ssl.getSSLParameters();
                TlsProfile.apply(parameters, ssl.getSupportedCipherSuites());
                // RFC 5425 5.2: the collector's certificate must name the host we meant.
                parameters.setEndpointIdentificationAlgorithm("HTTPS");
                ssl.setSSLParameters(parameters);
                ssl.setSoTimeout((int) timing.connectTimeout().toMillis());
                ssl.startHandshake();
                ssl.setSoTimeout(0);
                s = ssl;
            }
            socket = s;
            out = s.getOutputStream();
            in = s.getInputStream();
        } catch (IOException | RuntimeException e) {
            closeQuietly(plain);
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        }
    }

    private SSLContext context() throws IOException {
        if (tls == null) {
            AuditOptions.Tls t = target.tls().orElseThrow();
            try {
                KeyManager[] keys = t.keyStore().isPresent()
                        ? TlsProfile.keyManagers(t.keyStore().get(), t.keyStorePassword()) : null;
                SSLContext context = SSLContext.getInstance("TLS");
                context.init(keys, new TrustManager[] {TlsProfile.trustManager(t.trustStore(), t.trustStorePassword())},
                        null);
                tls = context;
            } catch (GeneralSecurityException e) {
                throw new IOException("audit TLS key material: " + e.getMessage(), e);
            }
        }
        return tls;
    }

    void disconnect() {
        closeQuietly(socket);
        socket = null;
        out = null;
        in = null;
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // the connection is being given up; nothing more to tell
        }
    }

    @Override
    public void close() {
        disconnect();
        if (datagrams != null) {
            datagrams.close();
            datagrams = null;
        }
    }
}

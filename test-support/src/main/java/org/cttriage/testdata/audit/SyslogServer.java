package org.cttriage.testdata.audit;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * A syslog collector for tests on 127.0.0.1: RFC 6587 octet-counting frames over TCP, the same
 * over TLS (RFC 5425), or one message per datagram over UDP (RFC 5426). Every frame is parsed as
 * RFC 5424 ({@link SyslogMessage}); a frame that breaks the framing or the header is kept in
 * {@link #errors()} for the test to assert on. It can be stopped and started again on the same
 * port (a collector that goes away and comes back), or run {@linkplain Mode#HANGING hanging}:
 * accepting connections and never reading them.
 */
public final class SyslogServer implements AutoCloseable {
    /** What the collector does with a connection. */
    public enum Mode {
        /** Reads and parses every frame. */
        READING,
        /**
         * Accepts one connection, then never reads it and accepts no other: the sender's socket buffers
         * fill and its writes block, and a new connection is refused, so what the sender could not
         * write stays with it.
         */
        HANGING
    }

    /** The transport. */
    public enum Transport {
        TCP, TLS, UDP
    }

    private static final int MAX_FRAME = 1 << 20;

    private final Transport transport;
    private final Mode mode;
    private final SSLContext tls;
    private final boolean needClientAuth;
    private final List<SyslogMessage> messages = new CopyOnWriteArrayList<>();
    private final List<String> errors = new CopyOnWriteArrayList<>();
    private final List<Socket> connections = new CopyOnWriteArrayList<>();
    private final List<String> clientPrincipals = new CopyOnWriteArrayList<>();
    private volatile ServerSocket server;
    private volatile DatagramSocket datagrams;
    private volatile boolean running;
    private int port;

    private SyslogServer(Transport transport, Mode mode, SSLContext tls, boolean needClientAuth) {
        this.transport = transport;
        this.mode = mode;
        this.tls = tls;
        this.needClientAuth = needClientAuth;
    }

    /** A TCP collector on an ephemeral port, started. */
    public static SyslogServer tcp(Mode mode) throws IOException {
        SyslogServer s = new SyslogServer(Transport.TCP, mode, null, false);
        s.start(0);
        return s;
    }

    /** A reading TCP collector on {@code port} (one a sender was told to use before it existed), started. */
    public static SyslogServer tcpOn(int port) throws IOException {
        SyslogServer s = new SyslogServer(Transport.TCP, Mode.READING, null, false);
        s.start(port);
        return s;
    }

    /** A UDP collector on an ephemeral port, started. */
    public static SyslogServer udp() throws IOException {
        SyslogServer s = new SyslogServer(Transport.UDP, Mode.READING, null, false);
        s.start(0);
        return s;
    }

    /**
     * A TLS collector presenting the PKCS#12 {@code keyStore}; with a {@code clientTrustStore} it
     * requires a client certificate that store trusts (as an IHE Audit Record Repository does).
     */
    public static SyslogServer tls(Path keyStore, Path clientTrustStore, char[] password)
            throws IOException, GeneralSecurityException {
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(load(keyStore, password), password);
        TrustManagerFactory trust = null;
        if (clientTrustStore != null) {
            trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(load(clientTrustStore, password));
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys.getKeyManagers(), trust == null ? null : trust.getTrustManagers(), null);
        SyslogServer s = new SyslogServer(Transport.TLS, Mode.READING, context, clientTrustStore != null);
        s.start(0);
        return s;
    }

    private static KeyStore load(Path file, char[] password) throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(file)) {
            store.load(in, password);
        }
        return store;
    }

    /** Binds {@code port} (0: ephemeral) and serves; the port stays this collector's for {@link #restart()}. */
    private synchronized void start(int wanted) throws IOException {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        running = true;
        if (transport == Transport.UDP) {
            datagrams = new DatagramSocket(new InetSocketAddress(loopback, wanted));
            port = datagrams.getLocalPort();
            thread("syslog-udp", this::receiveDatagrams);
            return;
        }
        ServerSocket s = transport == Transport.TLS ? tls.getServerSocketFactory().createServerSocket() : new ServerSocket();
        if (s instanceof SSLServerSocket ssl) {
            ssl.setNeedClientAuth(needClientAuth);
        }
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(loopback, wanted));
        server = s;
        port = s.getLocalPort();
        thread("syslog-accept", this::accept);
    }

    /** The port it listens on (the same after {@link #restart()}). */
    public synchronized int port() {
        return port;
    }

    /** Stops listening and closes every connection: the collector is gone. */
    public synchronized void stop() {
        running = false;
        closeQuietly(server);
        if (datagrams != null) {
            datagrams.close();
        }
        for (Socket c : connections) {
            closeQuietly(c);
        }
        connections.clear();
    }

    /** Listens again on the same port. */
    public synchronized void restart() throws IOException {
        stop();
        start(port);
    }

    /** Every message received so far, in arrival order. */
    public List<SyslogMessage> messages() {
        return List.copyOf(messages);
    }

    /** Frames that broke RFC 6587 framing or RFC 5424; empty when all were well formed. */
    public List<String> errors() {
        return List.copyOf(errors);
    }

    /** The subject of each TLS client certificate presented (TLS with client authentication). */
    public List<String> clientPrincipals() {
        return List.copyOf(clientPrincipals);
    }

    private void accept() {
        ServerSocket s = server;
        while (running && !s.isClosed()) {
            try {
                Socket c = s.accept();
                connections.add(c);
                if (mode == Mode.READING) {
                    thread("syslog-connection", () -> read(c));
                } else {
                    closeQuietly(s);
                    return;
                }
            } catch (IOException e) {
                return;
            }
        }
    }

    private void read(Socket c) {
        try (InputStream in = new BufferedInputStream(c.getInputStream())) {
            if (c instanceof javax.net.ssl.SSLSocket ssl) {
                ssl.startHandshake();
                if (needClientAuth) {
                    clientPrincipals.add(ssl.getSession().getPeerPrincipal().getName());
                }
            }
            while (true) {
                int length = frameLength(in);
                if (length < 0) {
                    return;
                }
                byte[] frame = in.readNBytes(length);
                if (frame.length < length) {
                    errors.add("frame cut short: " + frame.length + " of " + length + " bytes");
                    return;
                }
                accept(frame);
            }
        } catch (EOFException | SocketException e) {
            // the sender closed, or stop() did
        } catch (IOException e) {
            if (running) {
                errors.add("connection failed: " + e);
            }
        } finally {
            connections.remove(c);
        }
    }

    /** RFC 6587 3.4.1: MSG-LEN (NONZERO-DIGIT *DIGIT) SP; -1 at a clean end between frames. */
    private int frameLength(InputStream in) throws IOException {
        ByteArrayOutputStream digits = new ByteArrayOutputStream();
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (digits.size() > 0) {
                    errors.add("connection ended inside MSG-LEN");
                }
                return -1;
            }
            if (b == ' ') {
                break;
            }
            if (b < '0' || b > '9' || (digits.size() == 0 && b == '0') || digits.size() > 7) {
                errors.add("not octet-counting framing: byte " + b + " after '" + digits + "'");
                throw new EOFException("framing broken");
            }
            digits.write(b);
        }
        int length = Integer.parseInt(digits.toString());
        if (length > MAX_FRAME) {
            errors.add("MSG-LEN " + length + " beyond what this collector takes");
            throw new EOFException("frame too long");
        }
        return length;
    }

    private void receiveDatagrams() {
        byte[] buffer = new byte[65535];
        while (running) {
            DatagramPacket p = new DatagramPacket(buffer, buffer.length);
            try {
                datagrams.receive(p);
            } catch (IOException e) {
                return;
            }
            accept(Arrays.copyOf(p.getData(), p.getLength()));
        }
    }

    private void accept(byte[] frame) {
        try {
            messages.add(SyslogMessage.parse(frame));
        } catch (IllegalArgumentException e) {
            errors.add(e.getMessage());
        }
    }

    private static void thread(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // closing a dead socket has nothing to report
        }
    }

    @Override
    public void close() {
        stop();
    }

    /** Every message's MSG as text, in arrival order. */
    public List<String> texts() {
        List<String> texts = new ArrayList<>();
        messages.forEach(m -> texts.add(m.text()));
        return texts;
    }
}

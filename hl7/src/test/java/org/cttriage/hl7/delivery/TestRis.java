package org.cttriage.hl7.delivery;

import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.ErrorCode;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A RIS for tests: a real MLLP listener on 127.0.0.1 (an ephemeral port, kept across {@link #stopListening()} and
 * {@link #resumeListening()}), which reads each framed message, keeps it, and answers as told with an
 * acknowledgement HAPI builds from the message (so MSA-2 echoes its MSH-10, and an error carries ERR-3 and ERR-4 as
 * HAPI writes them): AA, AE or AR with an HL7 error code, CA, CE, CR, nothing (a RIS that hangs), or an answer that is
 * not HL7.
 */
public final class TestRis implements AutoCloseable {
    /** How the RIS answers the next messages. */
    public sealed interface Answer {
        /** An acknowledgement with this code; for an error, ERR-3 from {@code error} (HL7 table 0357). */
        record Ack(AcknowledgmentCode code, ErrorCode error, String text) implements Answer {
        }

        /** Reads the message and stays silent, for {@code hangFor} before it closes the connection. */
        record Silent(Duration hangFor) implements Answer {
        }

        /** A framed answer that is not an HL7 message. */
        record Garbage(String text) implements Answer {
        }
    }

    public static final Answer ACCEPT = new Answer.Ack(AcknowledgmentCode.AA, null, null);

    private final HapiContext hapi;
    private final List<String> received = new CopyOnWriteArrayList<>();
    private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
    private volatile Answer answer = ACCEPT;
    private volatile ServerSocket server;
    private volatile Thread acceptor;
    private final int port;

    private TestRis() throws IOException {
        hapi = new DefaultHapiContext();
        hapi.setValidationContext(ValidationContextFactory.noValidation());
        // The acknowledgement's own MSH-10: HAPI's default generator keeps a counter file in the working directory.
        hapi.getParserConfiguration().setIdGenerator(new ca.uhn.hl7v2.util.idgenerator.InMemoryIDGenerator());
        server = bind(0);
        port = server.getLocalPort();
        accept(server);
    }

    /** A RIS listening on 127.0.0.1, answering AA. */
    public static TestRis start() throws IOException {
        return new TestRis();
    }

    public String host() {
        return "127.0.0.1";
    }

    public int port() {
        return port;
    }

    /** How the following messages are answered. */
    public void answer(Answer a) {
        answer = a;
    }

    /** Every message read, in order, as sent (segments ended by CR). */
    public List<String> received() {
        return List.copyOf(received);
    }

    /** The RIS goes down: its port refuses connections and open connections are closed. */
    public synchronized void stopListening() throws IOException {
        server.close();
        // Java closes a listening socket for good only when the thread blocked in accept() has left it; until then
        // the kernel still completes connections, and accept() may even return one. Wait for that thread, so that
        // "down" means refused, and reset whatever it accepted in that window (below, with the others).
        try {
            acceptor.join(Duration.ofSeconds(10).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while the RIS stopped listening", e);
        }
        for (Socket s : connections) {
            if (s.isClosed()) {
                // Its handler closed it already (the client went away first): nothing to reset.
                continue;
            }
            try {
                // A reset, not a FIN: nothing of the old connection lingers on the port the RIS binds again.
                s.setSoLinger(true, 0);
            } catch (java.net.SocketException closedMeanwhile) {
                // Closed by its handler between the check and here.
            }
            s.close();
        }
    }

    /** The RIS is back on the same port. */
    public synchronized void resumeListening() throws IOException {
        server = bindAgain();
        accept(server);
    }

    /** The port of before; the kernel may still hold it for a moment after a close. */
    private ServerSocket bindAgain() throws IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            try {
                return bind(port);
            } catch (java.net.BindException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException i) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private static ServerSocket bind(int port) throws IOException {
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port));
        return s;
    }

    private void accept(ServerSocket listening) {
        acceptor = new Thread(() -> {
            while (!listening.isClosed()) {
                try {
                    Socket s = listening.accept();
                    connections.add(s);
                    Thread c = new Thread(() -> serve(s), "test-ris-connection");
                    c.setDaemon(true);
                    c.start();
                } catch (IOException e) {
                    return;
                }
            }
        }, "test-ris-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void serve(Socket s) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            while (true) {
                String message = readFrame(in);
                if (message == null) {
                    return;
                }
                received.add(message);
                Answer a = answer;
                if (a instanceof Answer.Silent silent) {
                    Thread.sleep(silent.hangFor().toMillis());
                    return;
                }
                String text = a instanceof Answer.Garbage g ? g.text() : ack(message, (Answer.Ack) a);
                out.write(0x0b);
                out.write(text.getBytes(StandardCharsets.UTF_8));
                out.write(new byte[] {0x1c, 0x0d});
                out.flush();
            }
        } catch (SocketException e) {
            // closed by stopListening or by the client
        } catch (IOException | HL7Exception e) {
            throw new IllegalStateException("test RIS: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            connections.remove(s);
        }
    }

    private String ack(String message, Answer.Ack a) throws HL7Exception, IOException {
        Message m = hapi.getPipeParser().parse(message);
        Message ack = a.error() == null ? m.generateACK(a.code(), null)
                : m.generateACK(a.code(), new HL7Exception(a.text(), a.error()));
        return hapi.getPipeParser().encode(ack);
    }

    /** One MLLP frame's content (VT … FS CR), or null at the end of the stream. */
    private static String readFrame(InputStream in) throws IOException {
        int b;
        do {
            b = in.read();
            if (b < 0) {
                return null;
            }
        } while (b != 0x0b);
        ByteArrayOutputStream content = new ByteArrayOutputStream();
        while ((b = in.read()) >= 0) {
            if (b == 0x1c) {
                in.read(); // the CR that ends the frame
                return content.toString(StandardCharsets.UTF_8);
            }
            content.write(b);
        }
        return null;
    }

    /** The segments of a received message, split at CR. */
    public static List<String> segments(String message) {
        return new ArrayList<>(List.of(message.split("\r")));
    }

    @Override
    public void close() throws IOException {
        stopListening();
        hapi.close();
    }
}

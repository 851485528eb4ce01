package org.cttriage.testdata.junit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away Apache ActiveMQ Artemis broker as a running peer: the broker distribution from Maven
 * Central ({@code org.apache.activemq:apache-artemis:bin}, unpacked by the build into the folder the
 * system property {@code artemis.home} names), an instance created with {@code artemis create} in a
 * folder the caller owns, listening on 127.0.0.1 and a free port only, CORE protocol only, login
 * required (user {@link #USER}, a random password), no web console, a persistent NIO journal.
 * {@link #kill()} ends it with SIGKILL; {@link #start()} starts the same instance again on the same
 * port with its journal, as a restarted broker would.
 */
public final class ArtemisServer implements AutoCloseable {
    /** The user the tests connect as. */
    public static final String USER = "ctt";
    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    private final Path instance;
    private final int port;
    private final String password;
    private Process process;

    private ArtemisServer(Path instance, int port, String password) {
        this.instance = instance;
        this.port = port;
        this.password = password;
    }

    /** The distribution's folder, from the system property {@code artemis.home}. */
    public static Path home() {
        String home = System.getProperty("artemis.home");
        if (home == null || !Files.isExecutable(Path.of(home, "bin", "artemis"))) {
            throw new IllegalStateException("system property artemis.home must name an unpacked Artemis distribution"
                    + " (the build unpacks org.apache.activemq:apache-artemis:bin); was " + home);
        }
        return Path.of(home);
    }

    /** Creates an instance under {@code directory/artemis} and starts it. */
    public static ArtemisServer create(Path directory) throws IOException, InterruptedException {
        Path instance = directory.resolve("artemis");
        int port = LoopbackPorts.free();
        String password = UUID.randomUUID().toString();
        ExternalCommand.Result r = ExternalCommand.run(TIMEOUT, home().resolve("bin/artemis").toString(), "create",
                instance.toString(), "--user", USER, "--password", password, "--require-login",
                "--host", LoopbackPorts.HOST, "--http-host", LoopbackPorts.HOST, "--no-web",
                "--default-port", Integer.toString(port), "--no-amqp-acceptor", "--no-mqtt-acceptor",
                "--no-stomp-acceptor", "--no-hornetq-acceptor", "--nio", "--no-autotune", "--silent",
                "--java-memory", "512M");
        if (r.exitCode() != 0) {
            throw new IOException("artemis create exited with " + r.exitCode() + ":\n" + r.output());
        }
        ignoreHostDiskUsage(instance.resolve("etc/broker.xml"));
        ArtemisServer server = new ArtemisServer(instance, port, password);
        server.start();
        return server;
    }

    /**
     * Turns off the broker's disk-usage block ({@code max-disk-usage}, 90 % of the whole file system by default): the
     * file system is the build machine's, shared with everything else on it, and a broker that blocks its producers
     * once that disk is 90 % full fails the tests for a reason that is not the code's (seen: a CI machine at 92 %,
     * every completion stuck in the outbox). The broker's journal here holds a few kilobytes.
     */
    private static void ignoreHostDiskUsage(Path brokerXml) throws IOException {
        String xml = Files.readString(brokerXml);
        String set = xml.replaceFirst("<max-disk-usage>\\d+</max-disk-usage>", "<max-disk-usage>-1</max-disk-usage>");
        if (set.equals(xml)) {
            throw new IOException("no <max-disk-usage> in " + brokerXml + " to turn off (a newer Artemis?)");
        }
        Files.writeString(brokerXml, set);
    }

    /** Starts the instance (again) and waits until it accepts connections. */
    public synchronized void start() throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("the broker is running");
        }
        Path log = instance.resolve("log").resolve("console-" + Instant.now().toEpochMilli() + ".log");
        Files.createDirectories(log.getParent());
        List<String> command = new ArrayList<>(List.of(instance.resolve("bin/artemis").toString(), "run"));
        process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Instant deadline = Instant.now().plus(TIMEOUT);
        while (Instant.now().isBefore(deadline)) {
            String text = Files.readString(log);
            if (text.contains("AMQ221007")) { // "Server is now active"
                return;
            }
            if (!process.isAlive()) {
                throw new IOException("the broker exited with " + process.exitValue() + ":\n" + text);
            }
            Thread.sleep(200);
        }
        process.destroyForcibly();
        throw new IOException("the broker did not become active within " + TIMEOUT + ":\n" + Files.readString(log));
    }

    /** The broker's URL for the Artemis CORE client. */
    public String url() {
        return "tcp://" + LoopbackPorts.HOST + ":" + port;
    }

    public String user() {
        return USER;
    }

    public String password() {
        return password;
    }

    /** Ends the broker with SIGKILL, as a crash would: what it had not written to its journal is lost. */
    public synchronized void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** Stops the broker (SIGTERM: Artemis's shutdown hook stops it cleanly). */
    @Override
    public synchronized void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }
}

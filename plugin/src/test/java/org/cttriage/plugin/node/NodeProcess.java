package org.cttriage.plugin.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;

/**
 * A real node process ({@code ct-triage serve}'s main on the test class path) with its log in a
 * file: started and waited for until it answers C-ECHO, killed with SIGKILL or stopped, and its
 * peak resident memory read from /proc.
 */
final class NodeProcess implements AutoCloseable {
    private static final Path HOME = Path.of("..").toAbsolutePath().normalize();

    private final Path config;
    private final Path log;
    private final int port;
    private final Duration wait;
    private Process process;

    private NodeProcess(Path config, Path log, int port, Duration wait) {
        this.config = config;
        this.log = log;
        this.port = port;
        this.wait = wait;
    }

    /**
     * Starts {@code serve --config config} (no demo studies), listening on {@code port}; a port below 0 for a
     * worker (node.role=worker), which is ready when its log says it started.
     */
    static NodeProcess start(Path config, Path log, int port, Duration wait) throws Exception {
        NodeProcess node = new NodeProcess(config, log, port, wait);
        node.start();
        return node;
    }

    private void start() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        process = new ProcessBuilder(java, "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                "-Dct-triage.home=" + HOME, "org.cttriage.plugin.cli.CtTriageCommand", "serve", "--config",
                config.toString(), "--demo-studies", "0")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        Eventually.await(wait, () -> "node ready; log:\n" + tail(), () -> {
            if (!process.isAlive()) {
                return false;
            }
            if (port < 0) { // a worker does not listen: ready once it says it started (since its last restart)
                String text = Files.readString(log);
                return text.substring(Math.max(0, text.lastIndexOf("---- restart"))).contains("started as worker");
            }
            return ExternalCommand.run(Duration.ofSeconds(10), "echoscu", "-aec", "CTTRIAGE", "127.0.0.1",
                    Integer.toString(port)).exitCode() == 0;
        }, ok -> ok || !process.isAlive());
        if (!process.isAlive()) { // at once, not after the whole wait
            throw new IllegalStateException("node exited " + process.exitValue() + ":\n" + tail());
        }
    }

    /** SIGKILL (destroyForcibly on Linux): no shutdown hook, no graceful stop. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    /** Starts it again after {@link #kill}, marking the place in the log. */
    void restart() throws Exception {
        Files.writeString(log, "---- restart after SIGKILL ----\n", StandardOpenOption.APPEND);
        start();
    }

    /** A graceful stop (SIGTERM: the node stops in order, then the JVM exits); its exit status. */
    int stop() throws InterruptedException {
        process.destroy();
        return process.waitFor();
    }

    /** The process' peak resident set size (VmHWM), in KiB. */
    long peakRssKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no VmHWM in /proc/" + process.pid() + "/status");
    }

    /** The node's log so far. */
    String log() throws IOException {
        return Files.readString(log);
    }

    /** The last 40 lines of the log. */
    String tail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly().waitFor();
        }
    }
}

package org.cttriage.testdata.junit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * dcmtk's {@code storescp} as a running peer: a C-STORE SCP with a given AE title on a free
 * loopback port, writing what it receives into {@code directory/received} and its output into
 * {@code directory/storescp.log}. dcmtk 3.6.7's storescp has no bind-address option, so it
 * listens on every interface for the life of the test.
 */
public final class StoreScp implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final int START_ATTEMPTS = 3;

    private final String aet;
    private final int port;
    private final Path received;
    private final Path log;
    private final Process process;
    private final List<String> echoOptions;

    private StoreScp(String aet, int port, Path received, Path log, Process process, List<String> echoOptions) {
        this.aet = aet;
        this.port = port;
        this.received = received;
        this.log = log;
        this.process = process;
        this.echoOptions = echoOptions;
    }

    /**
     * Starts storescp as {@code aet} and returns once it answers a C-ECHO. {@code directory} is a
     * folder the caller owns (a JUnit {@code @TempDir}).
     */
    public static StoreScp start(String aet, Path directory) throws IOException, InterruptedException {
        return start(aet, directory, 0, false);
    }

    /**
     * Starts storescp on {@code port} (0: a free one) and, with {@code uniqueFileNames}, gives every
     * received object its own file ({@code +uf}), so that an object received twice shows as two
     * files: what exactly-once tests count.
     */
    public static StoreScp start(String aet, Path directory, int port, boolean uniqueFileNames)
            throws IOException, InterruptedException {
        return start(aet, directory, port, uniqueFileNames, List.of(), List.of());
    }

    /**
     * Starts storescp, with its own file per object ({@code +uf}), answering each C-STORE only {@code seconds} after
     * it has written the object ({@code --sleep-after}): a slow PACS, which keeps a delivery under way long enough to
     * stop the sender in the middle of it.
     */
    public static StoreScp startSlow(String aet, Path directory, int seconds) throws IOException, InterruptedException {
        return start(aet, directory, 0, true, List.of("--sleep-after", Integer.toString(seconds)), List.of());
    }

    /**
     * Starts storescp over DICOM TLS ({@code +tls key certificate}, dcmtk's default Non-downgrading
     * BCP 195 profile) requiring a client certificate that {@code clientCertificate} is or signed;
     * the readiness C-ECHO presents {@code clientKey} / {@code clientCertificate} (unencrypted PEM).
     */
    public static StoreScp startTls(String aet, Path directory, Path key, Path certificate, Path clientKey,
            Path clientCertificate) throws IOException, InterruptedException {
        return start(aet, directory, 0, false, List.of("+tls", key.toString(), certificate.toString(), "-pw", "+cf",
                clientCertificate.toString(), "--require-peer-cert"), List.of("+tls", clientKey.toString(),
                        clientCertificate.toString(), "+cf", certificate.toString()));
    }

    private static StoreScp start(String aet, Path directory, int port, boolean uniqueFileNames, List<String> options,
            List<String> echoOptions) throws IOException, InterruptedException {
        Path received = Files.createDirectories(directory.resolve("received"));
        Path log = directory.resolve("storescp.log");
        IOException last = null;
        for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
            int chosen = port == 0 ? LoopbackPorts.free() : port;
            java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("storescp", "--aetitle", aet,
                    "--output-directory", received.toString()));
            if (uniqueFileNames) {
                command.add("+uf");
            }
            command.addAll(options);
            command.add(Integer.toString(chosen));
            Process p = new ProcessBuilder(command)
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            StoreScp scp = new StoreScp(aet, chosen, received, log, p, echoOptions);
            try {
                scp.awaitEcho();
                return scp;
            } catch (IOException e) {
                // Most likely the port was taken between LoopbackPorts.free() and storescp's bind.
                scp.close();
                last = e;
            }
        }
        throw last;
    }

    private void awaitEcho() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (!process.isAlive()) {
                throw new IOException("storescp exited with status " + process.exitValue() + " before answering"
                        + " C-ECHO on port " + port + ":\n" + log());
            }
            List<String> echoCommand = new java.util.ArrayList<>(List.of("echoscu", "--call", aet));
            echoCommand.addAll(echoOptions);
            echoCommand.addAll(List.of(LoopbackPorts.HOST, Integer.toString(port)));
            ExternalCommand.Result echo = ExternalCommand.run(START_TIMEOUT, echoCommand);
            if (echo.exitCode() == 0) {
                return;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new IOException("storescp did not answer C-ECHO on port " + port + " within " + START_TIMEOUT
                        + ":\n" + echo.output() + "\nstorescp log:\n" + log());
            }
            Thread.sleep(50);
        }
    }

    public String aet() {
        return aet;
    }

    public String host() {
        return LoopbackPorts.HOST;
    }

    public int port() {
        return port;
    }

    /** Where received objects are written, one file each, named by storescp ({@code CT.<SOP Instance UID>}…). */
    public Path receivedDirectory() {
        return received;
    }

    /**
     * The files received completely so far, by name. storescp writes each object under its final name, so a file it
     * still holds open is one it is still writing: those are left out (read from {@code /proc}, after the listing, so
     * a file listed and then closed counts as complete).
     */
    public List<Path> receivedFiles() throws IOException {
        List<Path> listed;
        try (Stream<Path> s = Files.list(received)) {
            listed = s.sorted().toList();
        }
        java.util.Set<Path> writing = openFiles();
        return listed.stream().filter(p -> !writing.contains(p.toAbsolutePath())).toList();
    }

    private java.util.Set<Path> openFiles() throws IOException {
        Path fds = Path.of("/proc", Long.toString(process.pid()), "fd");
        java.util.Set<Path> open = new java.util.HashSet<>();
        if (!process.isAlive() || !Files.isDirectory(fds)) {
            return open;
        }
        try (Stream<Path> s = Files.list(fds)) {
            for (Path fd : s.toList()) {
                try {
                    open.add(Files.readSymbolicLink(fd).toAbsolutePath());
                } catch (IOException closedMeanwhile) {
                    // The descriptor was closed between the listing and the read: nothing open there.
                }
            }
        } catch (java.nio.file.NoSuchFileException exited) {
            return open;
        }
        return open;
    }

    /** storescp's output so far. */
    public String log() throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }
    }
}

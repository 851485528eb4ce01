package org.cttriage.testdata.orthanc;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.cttriage.testdata.junit.ExternalToolExtension;
import org.cttriage.testdata.junit.LoopbackPorts;
import org.cttriage.testdata.orthanc.OrthancOptions.Routing;

/**
 * A real Orthanc (the Debian {@code orthanc} package's binary) started as a child process, playing
 * the PACS in tests: it receives CT, routes stable CT series to the "cttriage" modality with the
 * shipped Lua script, and takes the node's SR back.
 *
 * <p>Everything it writes lives in the directory the caller gives: the generated
 * {@code orthanc.json}, the Lua script, {@code storage/}, {@code index/} and {@code orthanc.log}.
 * Its DICOM and HTTP ports are free ports picked at start; a system Orthanc service on 4242/8042 is
 * neither used nor disturbed.
 *
 * <p>Orthanc 1.10.1 cannot be told which address to listen on: it listens on every interface. The
 * configuration makes that harmless: the REST API refuses other hosts ("RemoteAccessAllowed"
 * false), and DICOM associations are accepted only from 127.0.0.1 and only from the AE titles the
 * options list plus the routing peer's ("DicomCheckModalityHost" true, no "DicomAlwaysAllow…").
 * The called AE title is checked too, so a node that calls the wrong AE title fails here as it
 * would against a strict PACS.
 */
public final class OrthancServer implements AutoCloseable {
    /** The name of the node's entry in "DicomModalities"; the shipped Lua script sends to it. */
    public static final String ROUTING_MODALITY = "cttriage";
    /** Classpath location of the shipped routing script (kept identical to deploy/orthanc/). */
    public static final String ROUTING_SCRIPT_RESOURCE = "/org/cttriage/testdata/orthanc/route-ct-to-ct-triage.lua";

    private static final String EXECUTABLE = "Orthanc";
    private static final int START_ATTEMPTS = 3;
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);
    private static final int LOG_TAIL_LINES = 40;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final OrthancOptions options;
    private final Path directory;
    private final Path logFile;
    private final int dicomPort;
    private final int httpPort;
    private final Process process;
    private final OrthancClient client;
    private final Thread shutdownHook;

    private OrthancServer(OrthancOptions options, Path directory, int dicomPort, int httpPort, Process process) {
        this.options = options;
        this.directory = directory;
        this.logFile = directory.resolve("orthanc.log");
        this.dicomPort = dicomPort;
        this.httpPort = httpPort;
        this.process = process;
        this.client = new OrthancClient(URI.create("http://" + LoopbackPorts.HOST + ":" + httpPort + "/"));
        // A test JVM that exits without closing us must not leave an Orthanc running.
        this.shutdownHook = new Thread(process::destroyForcibly, "orthanc-harness-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Starts Orthanc with the default options in {@code directory}; see {@link #start(Path, OrthancOptions)}. */
    public static OrthancServer start(Path directory) throws IOException, InterruptedException {
        return start(directory, OrthancOptions.defaults());
    }

    /**
     * Starts Orthanc and returns once its REST API answers {@code GET /system} (its DICOM server is
     * up by then: Orthanc starts it first). {@code directory} is an empty folder the caller owns,
     * typically a JUnit {@code @TempDir}; it is left in place on close for post-mortems.
     *
     * @throws IOException when Orthanc is not installed, exits, or does not answer within the
     *                     options' start timeout; the message carries the tail of its log
     */
    public static OrthancServer start(Path directory, OrthancOptions options) throws IOException, InterruptedException {
        Path executable = ExternalToolExtension.find(EXECUTABLE);
        if (executable == null) {
            throw new IOException("the Orthanc executable is not installed (Debian package orthanc; run bin/setup)");
        }
        return start(directory, options, executable);
    }

    /** {@link #start(Path, OrthancOptions)} with another executable, so tests can make start-up fail. */
    static OrthancServer start(Path directory, OrthancOptions options, Path executable)
            throws IOException, InterruptedException {
        Files.createDirectories(directory);
        Path storage = Files.createDirectories(directory.resolve("storage"));
        Path index = Files.createDirectories(directory.resolve("index"));
        Path lua = null;
        if (options.routing() == Routing.ROUTE_CT_TO_CT_TRIAGE) {
            lua = directory.resolve("route-ct-to-ct-triage.lua");
            Files.writeString(lua, routingScript(), StandardCharsets.UTF_8);
        }
        Path config = directory.resolve("orthanc.json");
        IOException last = null;
        for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
            int dicomPort = LoopbackPorts.free();
            int httpPort = LoopbackPorts.free();
            while (httpPort == dicomPort) {
                httpPort = LoopbackPorts.free();
            }
            Files.writeString(config, JSON.writeValueAsString(
                    configuration(options, dicomPort, httpPort, storage, index, lua)), StandardCharsets.UTF_8);
            Process p = new ProcessBuilder(executable.toString(), config.toString())
                    .directory(directory.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(directory.resolve("orthanc.log").toFile())
                    .start();
            OrthancServer server = new OrthancServer(options, directory, dicomPort, httpPort, p);
            try {
                server.awaitRestApi();
                return server;
            } catch (IOException e) {
                String log = server.logTail();
                server.close();
                last = e;
                // Another process may have taken a port between LoopbackPorts.free() and Orthanc's bind.
                if (!log.contains("already in use")) {
                    break;
                }
            }
        }
        throw last;
    }

    /** The shipped routing script, byte for byte. */
    public static String routingScript() throws IOException {
        try (InputStream in = OrthancServer.class.getResourceAsStream(ROUTING_SCRIPT_RESOURCE)) {
            if (in == null) {
                throw new IOException("resource " + ROUTING_SCRIPT_RESOURCE + " is missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The configuration written to orthanc.json; see the class comment for why each key is set. */
    static ObjectNode configuration(OrthancOptions options, int dicomPort, int httpPort, Path storage, Path index,
                                    Path luaScript) {
        ObjectNode c = JSON.createObjectNode();
        c.put("Name", "ct-triage test PACS");
        c.put("StorageDirectory", storage.toString());
        c.put("IndexDirectory", index.toString());
        ArrayNode scripts = c.putArray("LuaScripts");
        if (luaScript != null) {
            scripts.add(luaScript.toString());
        }
        c.putArray("Plugins");
        c.put("HttpServerEnabled", true);
        c.put("HttpPort", httpPort);
        // No keep-alive: the JDK client would otherwise reuse a pooled connection that CivetWeb may
        // close at the same moment, and a POST on it fails with "header parser received no bytes"
        // (seen once in CI on the first upload after start-up). A new loopback connection per
        // request costs nothing here.
        c.put("KeepAlive", false);
        c.put("RemoteAccessAllowed", false);
        c.put("AuthenticationEnabled", false);
        c.put("WebDavEnabled", false);
        c.put("ExecuteLuaEnabled", false);
        c.put("DicomServerEnabled", true);
        c.put("DicomAet", options.aet());
        c.put("DicomPort", dicomPort);
        c.put("DicomCheckCalledAet", true);
        // Associations only from 127.0.0.1 and only from the AE titles registered below.
        c.put("DicomCheckModalityHost", true);
        c.put("DicomAlwaysAllowEcho", false);
        c.put("DicomAlwaysAllowStore", false);
        c.put("DicomAlwaysAllowFind", false);
        c.put("DicomAlwaysAllowFindWorklist", false);
        c.put("DicomAlwaysAllowGet", false);
        c.put("DicomAlwaysAllowMove", false);
        ObjectNode modalities = c.putObject("DicomModalities");
        if (options.routingPeer() != null) {
            modality(modalities.putObject(ROUTING_MODALITY), options.routingPeer().aet(), options.routingPeer().port());
        }
        int caller = 0;
        for (String aet : options.callingAets()) {
            // A calling-only peer: Orthanc never dials it, but an entry needs a port.
            modality(modalities.putObject("caller-" + ++caller), aet, 104);
        }
        c.put("StableAge", options.stableAge().getSeconds());
        c.put("SaveJobs", false);
        return c;
    }

    private static void modality(ObjectNode m, String aet, int port) {
        m.put("AET", aet);
        m.put("Host", LoopbackPorts.HOST);
        m.put("Port", port);
    }

    private void awaitRestApi() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + options.startTimeout().toNanos();
        Exception last = null;
        while (true) {
            if (!process.isAlive()) {
                throw new IOException("Orthanc exited with status " + process.exitValue() + " during start-up;"
                        + " log tail:\n" + logTail());
            }
            try {
                client.system();
                return;
            } catch (IOException e) {
                last = e;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new IOException("Orthanc's REST API did not answer within " + options.startTimeout()
                        + " (last error: " + last + "); log tail:\n" + logTail(), last);
            }
            Thread.sleep(50);
        }
    }

    /**
     * Points the "cttriage" modality at {@code peer} while Orthanc runs ({@code PUT /modalities/cttriage}),
     * for tests that start Orthanc before the node (the node needs Orthanc's port to send its SR
     * back). The peer's AE title may then also associate with Orthanc from 127.0.0.1.
     */
    public void routeTo(DicomPeer peer) throws IOException, InterruptedException {
        client.putModality(ROUTING_MODALITY, peer.aet(), LoopbackPorts.HOST, peer.port());
    }

    /** Orthanc's AE title (what C-STOREs into it must call). */
    public String aet() {
        return options.aet();
    }

    /** The host Orthanc is addressed at: always 127.0.0.1. */
    public String host() {
        return LoopbackPorts.HOST;
    }

    public int dicomPort() {
        return dicomPort;
    }

    public int httpPort() {
        return httpPort;
    }

    /** The REST API's base, {@code http://127.0.0.1:<httpPort>/}. */
    public URI restApi() {
        return URI.create("http://" + LoopbackPorts.HOST + ":" + httpPort + "/");
    }

    /** A REST client for this Orthanc. */
    public OrthancClient client() {
        return client;
    }

    /** The directory holding configuration, storage, index and log. */
    public Path directory() {
        return directory;
    }

    /** Orthanc's combined stdout and stderr. */
    public Path logFile() {
        return logFile;
    }

    /** The last lines of Orthanc's log, for failure messages. */
    public String logTail() {
        try {
            if (!Files.exists(logFile)) {
                return "(no log)";
            }
            // ISO-8859-1 decodes any byte: a log line in another encoding must not hide the tail.
            List<String> lines = Files.readString(logFile, StandardCharsets.ISO_8859_1).lines().toList();
            return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + logFile + ": " + e + ")";
        }
    }

    /** Stops Orthanc: SIGTERM, then SIGKILL if it has not stopped after 15 s. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down; the hook does the same thing.
        }
    }
}

package org.cttriage.core.dicom.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.cttriage.testdata.junit.Eventually;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the listener logs when peers misbehave (issue 15, item 9): a timestamp on every line, one
 * coded line per event, no stack trace or Java exception text, nothing above DEBUG for a bare
 * connect. slf4j-simple writes to the current System.err, which the test captures; the logging
 * configuration is the node's (core/src/test/resources/simplelogger.properties).
 */
class ListenerLogTest {
    private static final String ISO_TIMESTAMP = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}(Z|[+-]\\d{2}:\\d{2}) .*";

    @TempDir
    Path dir;

    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
    private PrintStream original;
    private DicomListener listener;

    @BeforeEach
    void start() throws Exception {
        original = System.err;
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        ListenerOptions options = ListenerOptions.defaults(MisbehavingPeerTest.AE, InetAddress.getLoopbackAddress(), 0,
                dir.resolve("incoming")).withMinFreeDiskBytes(0).withArtimTimeout(Duration.ofSeconds(5));
        listener = new DicomListener(options, new AssociationPolicy(options), instance -> DimseStatus.SUCCESS);
        listener.start();
    }

    @AfterEach
    void stop() {
        listener.close();
        System.setErr(original);
    }

    private List<String> lines() {
        return captured.toString(StandardCharsets.UTF_8).lines().toList();
    }

    private void awaitLine(String containing) throws InterruptedException {
        Eventually.await(Duration.ofSeconds(30), () -> "a log line with " + containing + " in:\n" + String.join("\n",
                lines()), this::lines, l -> l.stream().anyMatch(x -> x.contains(containing)));
    }

    @Test
    void bareConnectsAreNotWarnings() throws Exception {
        for (int i = 0; i < 20; i++) {
            MisbehavingPeerTest.closedAfter(listener.port(), new byte[0]);
        }
        // An association afterwards proves the bare connects were all handled before it.
        MisbehavingPeerTest.halfDataSetThen(listener.port(), ScriptedPeer.releaseRq());
        awaitLine("TRIAGE-0621");
        assertThat(lines()).noneMatch(l -> l.contains(" WARN ") && !l.contains("TRIAGE-0621"));
    }

    @Test
    void aPeerAbortIsOneCodedLineWithoutAStackTrace() throws Exception {
        MisbehavingPeerTest.associated(listener.port(), ScriptedPeer.abort(0, 0));
        awaitLine("TRIAGE-0620");
        assertThat(lines()).filteredOn(l -> l.contains("abort")).singleElement().asString()
                .contains("SCRIPTED").contains("source 0, reason 0");
        assertThat(lines()).noneMatch(l -> l.startsWith("\tat ") || l.contains("Exception") || l.contains(" ERROR "));
    }

    @Test
    void malformedRequestsGiveOneCodedLineAMinuteWithoutJavaExceptionText() throws Exception {
        List<String> ended = new java.util.concurrent.CopyOnWriteArrayList<>();
        listener.addObserver(new AssociationListener() {
            @Override
            public void ended(String callingAeTitle, String how) {
                ended.add(how);
            }
        });
        for (int i = 0; i < 5; i++) {
            MisbehavingPeerTest.associated(listener.port(), ScriptedPeer.pData(5, true, true, ScriptedPeer.echoCommand()));
        }
        // The listener logs before it tells its observers that the association ended.
        Eventually.await(Duration.ofSeconds(30), "five associations ended", () -> ended, e -> e.size() == 5);
        assertThat(lines()).filteredOn(l -> l.contains("TRIAGE-0617")).singleElement().asString()
                .contains("association from SCRIPTED (127.0.0.1) aborted: PDV for presentation context 5")
                .contains("A-ABORT sent (source 2, reason 6)");
        assertThat(lines()).noneMatch(l -> l.contains("java.") || l.contains("Exception") || l.startsWith("\tat "));
    }

    @Test
    void aReleaseMidDataSetNamesTheCallerAndTheInstanceAndEveryLineHasATimestamp() throws Exception {
        MisbehavingPeerTest.halfDataSetThen(listener.port(), ScriptedPeer.releaseRq());
        awaitLine("TRIAGE-0621");
        assertThat(lines()).filteredOn(l -> l.contains("TRIAGE-0621")).singleElement().asString()
                .contains("SCRIPTED").contains(MisbehavingPeerTest.HALF_SENT_UID).contains("A-RELEASE-RQ")
                .contains("discarded");
        assertThat(lines()).isNotEmpty().allMatch(l -> l.matches(ISO_TIMESTAMP));
    }
}

package org.cttriage.plugin.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.LoopbackPorts;
import org.cttriage.testdata.junit.RequiresTools;
import org.cttriage.testdata.junit.StoreScp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SIGTERM while a delivery is under way: the node lets the attempt finish and records it before the JVM's shutdown
 * closes the embedded database. The PACS answers each C-STORE 2 s after writing the object, so the node is stopped
 * between the SR and its SEG and KOS. Before {@code GracefulStop}, H2's own shutdown hook closed the database
 * concurrently with the node's: the PACS had the objects, the ledger never said DELIVERED (NodeLoadTest's clean-clone
 * CI: 35 of 36), and the next start sent them again.
 */
@RequiresTools({"storescu", "storescp", "echoscu"})
class NodeGracefulStopTest {
    private static final Duration WAIT = Duration.ofSeconds(180);

    @TempDir
    Path dir;

    @Test
    void aSigtermDuringADeliveryLetsItFinishAndRecordsIt() throws Exception {
        int nodePort = LoopbackPorts.free();
        try (StoreScp pacs = StoreScp.startSlow("PACS", dir.resolve("pacs"), 2)) {
            Files.writeString(dir.resolve("node.properties"), String.join("\n",
                    "node.data-dir=" + dir.resolve("var"),
                    "dicom.port=" + nodePort,
                    "http.port=0",
                    "assembly.quiet-period=1s",
                    "delivery.dicom-destinations=PACS@127.0.0.1:" + pacs.port(),
                    "dicom.min-free-disk-mb=1", ""));
            List<Path> study = PhantomSeries.write(7, 64, 30, 10, dir.resolve("ct")).files();
            int status;
            try (NodeProcess node = NodeProcess.start(dir.resolve("node.properties"), dir.resolve("node.log"), nodePort,
                    WAIT)) {
                List<String> command = new ArrayList<>(List.of("storescu", "-aet", "MODALITY", "-aec", "CTTRIAGE",
                        "127.0.0.1", Integer.toString(nodePort)));
                study.forEach(f -> command.add(f.toString()));
                assertThat(ExternalCommand.run(Duration.ofSeconds(120), command).exitCode()).isZero();
                // The first object is written and its answer is 2 s away; the others follow on the same association.
                Eventually.await(WAIT, () -> "an object written at the PACS; node log:\n" + node.tail(),
                        () -> listed(pacs), l -> !l.isEmpty());
                status = node.stop();
                assertThat(node.log()).contains("SIGTERM received");
            }
            assertThat(status).as("the JVM's status for SIGTERM, the systemd unit's SuccessExitStatus").isEqualTo(143);
            int objects;
            try (Connection c = DriverManager.getConnection("jdbc:h2:" + dir.resolve("var/db/node"), "sa", "");
                 Statement s = c.createStatement()) {
                try (ResultSet r = s.executeQuery("SELECT state, attempts FROM node_delivery")) {
                    assertThat(r.next()).isTrue();
                    assertThat(r.getString(1)).isEqualTo("DELIVERED");
                    assertThat(r.getInt(2)).isEqualTo(1);
                    assertThat(r.next()).isFalse();
                }
                try (ResultSet r = s.executeQuery("SELECT objects_json FROM node_result")) {
                    assertThat(r.next()).isTrue();
                    objects = r.getString(1).split("\"sopInstanceUid\"", -1).length - 1;
                }
            }
            // The SR (Comprehensive 3D SR: storescp's "SR3") and the organ SEG ("SG"), and a KOS ("KO") when a finding
            // was called present: each exactly once.
            List<String> kinds = Eventually.await(WAIT, "the result's objects at the PACS", pacs::receivedFiles,
                    l -> l.size() >= objects).stream().map(p -> p.getFileName().toString().split("\\.")[0]).toList();
            assertThat(kinds).hasSize(objects).contains("SR3", "SG").doesNotHaveDuplicates();
        }
    }

    /** Every file storescp has begun, written completely or not. */
    private static List<Path> listed(StoreScp pacs) throws Exception {
        try (var s = Files.list(pacs.receivedDirectory())) {
            return s.toList();
        }
    }
}

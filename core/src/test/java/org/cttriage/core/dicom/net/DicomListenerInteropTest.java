package org.cttriage.core.dicom.net;

import static org.assertj.core.api.Assertions.assertThat;

import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.cttriage.core.node.DuplicatePolicy;
import org.cttriage.core.node.InstanceIngest;
import org.cttriage.core.node.NodeDatabase;
import org.cttriage.core.node.NonCtPolicy;
import org.cttriage.core.node.SeriesKey;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.ExternalCommand;
import org.cttriage.testdata.junit.RequiresTools;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The listener against dcmtk's echoscu and storescu: policy, persistence, statuses. */
@RequiresTools({"echoscu", "storescu"})
class DicomListenerInteropTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private DicomListener listener;
    private NodeDatabase database;
    private InstanceIngest ingest;
    private final List<SeriesKey> signals = new CopyOnWriteArrayList<>();
    private final List<AssociationDecision.Reject> rejections = new CopyOnWriteArrayList<>();
    private final List<DimseStatus> answers = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:" + dir.resolve("db/node").toAbsolutePath());
        database = new NodeDatabase(ds);
        database.migrate();
        ListenerOptions options = ListenerOptions.defaults("CTTRIAGE", InetAddress.getLoopbackAddress(), 0,
                dir.resolve("incoming")).withAllowedCallingAeTitles(Set.of("STORESCU", "ECHOSCU"));
        ingest = new InstanceIngest(database, dir.resolve("spool"), NonCtPolicy.IGNORE,
                DuplicatePolicy.IGNORE_IDENTICAL_KEEP_NEWER, Clock.systemUTC(), signals::add);
        listener = new DicomListener(options, new AssociationPolicy(options), ingest);
        listener.addObserver(new AssociationListener() {
            @Override
            public void rejected(AssociationRequest request, AssociationDecision.Reject decision) {
                rejections.add(decision);
            }

            @Override
            public void storeAnswered(String callingAeTitle, String sopInstanceUid, DimseStatus status) {
                answers.add(status);
            }
        });
        listener.start();
    }

    @AfterEach
    void stop() {
        listener.close();
    }

    private String port() {
        return Integer.toString(listener.port());
    }

    @Test
    void echoSucceedsForAnAllowedCaller() throws Exception {
        ExternalCommand.Result r = ExternalCommand.run(TIMEOUT, "echoscu", "-aet", "ECHOSCU", "-aec", "CTTRIAGE",
                "127.0.0.1", port());
        assertThat(r.exitCode()).as(r.output()).isZero();
    }

    @Test
    void unknownCallingAeIsRejectedAtAssociation() throws Exception {
        ExternalCommand.Result r = ExternalCommand.run(TIMEOUT, "echoscu", "-aet", "INTRUDER", "-aec", "CTTRIAGE",
                "127.0.0.1", port());
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.output()).containsIgnoringCase("rejected");
        assertThat(rejections).singleElement().satisfies(j -> {
            assertThat(j.reason()).isEqualTo(AssociationDecision.Reject.CALLING_AE_NOT_RECOGNIZED);
            assertThat(j.result()).isEqualTo(AssociationDecision.Result.PERMANENT);
        });
    }

    @Test
    void aReleasedAssociationNoLongerCountsAgainstTheLimit() throws Exception {
        // PixelMed keeps a released association's thread for the ARTIM period (5 s) before it closes
        // the transport; a PACS opening one association per series must not be refused meanwhile.
        listener.close();
        ListenerOptions two = ListenerOptions.defaults("CTTRIAGE", InetAddress.getLoopbackAddress(), 0,
                dir.resolve("incoming")).withAllowedCallingAeTitles(Set.of("ECHOSCU")).withMaxAssociations(2);
        listener = new DicomListener(two, new AssociationPolicy(two), instance -> DimseStatus.SUCCESS);
        listener.addObserver(new AssociationListener() {
            @Override
            public void rejected(AssociationRequest request, AssociationDecision.Reject decision) {
                rejections.add(decision);
            }
        });
        listener.start();
        for (int i = 0; i < 6; i++) {
            ExternalCommand.Result r = ExternalCommand.run(TIMEOUT, "echoscu", "-aet", "ECHOSCU", "-aec", "CTTRIAGE",
                    "127.0.0.1", port());
            assertThat(r.exitCode()).as("association %d: %s", i + 1, r.output()).isZero();
        }
        assertThat(rejections).isEmpty();
        // echoscu exits on the A-RELEASE-RP; the listener's thread ends the association a moment after sending it.
        // Well within the 5 s ARTIM period that the count must not wait for.
        Eventually.await(Duration.ofSeconds(2), "no active association once released",
                listener::activeAssociations, n -> n == 0);
    }

    @Test
    void wrongCalledAeIsRejected() throws Exception {
        ExternalCommand.Result r = ExternalCommand.run(TIMEOUT, "echoscu", "-aet", "ECHOSCU", "-aec", "SOMEONE",
                "127.0.0.1", port());
        assertThat(r.exitCode()).isNotZero();
        assertThat(rejections).singleElement()
                .satisfies(j -> assertThat(j.reason()).isEqualTo(AssociationDecision.Reject.CALLED_AE_NOT_RECOGNIZED));
    }

    @Test
    void storedSeriesIsPersistedRecordedAndSignalledOnce() throws Exception {
        List<Path> files = series(dir.resolve("in"), 12);
        ExternalCommand.Result r = storescu(files);
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(answers).hasSize(12).containsOnly(DimseStatus.SUCCESS);
        assertThat(count("SELECT COUNT(*) FROM node_instance")).isEqualTo(12);
        assertThat(count("SELECT instances FROM node_series")).isEqualTo(12);
        assertThat(signals).hasSize(12).containsOnly(signals.get(0));
        try (Stream<Path> spooled = Files.walk(dir.resolve("spool"))) {
            List<Path> stored = spooled.filter(p -> p.toString().endsWith(".dcm")).toList();
            assertThat(stored).hasSize(12);
            AttributeList original = read(files.get(3));
            Path copy = stored.stream().filter(p -> p.getFileName().toString().startsWith(
                    original.get(TagFromName.SOPInstanceUID).getSingleStringValueOrEmptyString())).findFirst().orElseThrow();
            assertThat(read(copy).get(TagFromName.PixelData).getShortValues())
                    .isEqualTo(original.get(TagFromName.PixelData).getShortValues());
        }
        try (Stream<Path> incoming = Files.list(dir.resolve("incoming"))) {
            assertThat(incoming).as("no .part left behind").isEmpty();
        }

        // The same instances again while the series is still receiving: identical bytes record
        // nothing new; the signal only extends the quiet period.
        answers.clear();
        signals.clear();
        assertThat(storescu(files).exitCode()).isZero();
        assertThat(answers).hasSize(12).containsOnly(DimseStatus.SUCCESS);
        assertThat(count("SELECT COUNT(*) FROM node_instance")).isEqualTo(12);
        assertThat(count("SELECT MAX(revision) FROM node_instance")).isEqualTo(1);

        // Once the series is triaged, identical instances signal nothing (no second SR).
        try (Connection c = database.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE node_series SET state = 'TRIAGED'");
        }
        signals.clear();
        assertThat(storescu(files).exitCode()).isZero();
        assertThat(signals).isEmpty();
        assertThat(count("SELECT COUNT(*) FROM node_instance")).isEqualTo(12);
    }

    @Test
    void spoolFilesWhoseRowsWereLostAreRecordedAgainAtStartUp() throws Exception {
        List<Path> files = series(dir.resolve("in"), 8);
        assertThat(storescu(files).exitCode()).isZero();
        // A power loss took the newest rows (H2 does not fsync) and the series' triage state with them.
        try (Connection c = database.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("DELETE FROM node_instance WHERE sop_uid IN (SELECT sop_uid FROM node_instance"
                    + " ORDER BY sop_uid LIMIT 3)");
            s.executeUpdate("UPDATE node_series SET state = 'TRIAGED', instances = 5");
        }
        Path seriesFolder;
        try (Stream<Path> spooled = Files.walk(dir.resolve("spool"))) {
            seriesFolder = spooled.filter(p -> p.toString().endsWith(".dcm")).findFirst().orElseThrow().getParent();
        }
        // Neither of these is an instance the node acknowledged: both are left alone.
        Path garbage = Files.write(seriesFolder.resolve("1.2.3.4.dcm"), new byte[] {1, 2, 3});
        Path elsewhere = Files.createDirectories(seriesFolder.resolveSibling("1.2.3.5")).resolve("1.2.3.6.dcm");
        Files.copy(files.get(0), elsewhere);

        assertThat(ingest.recordUnrecordedSpoolFiles()).isEqualTo(3);
        assertThat(count("SELECT COUNT(*) FROM node_instance")).isEqualTo(8);
        assertThat(count("SELECT instances FROM node_series")).isEqualTo(8);
        assertThat(count("SELECT COUNT(*) FROM node_series WHERE state = 'RECEIVING'")).isEqualTo(1);
        assertThat(count("SELECT COUNT(*) FROM node_instance WHERE calling_aet = '(RECOVERED)'")).isEqualTo(3);
        assertThat(garbage).exists();
        assertThat(elsewhere).exists();
        assertThat(ingest.recordUnrecordedSpoolFiles()).as("nothing left to record").isZero();
    }

    @Test
    void corruptSliceGetsAnErrorStatusAndOthersAreStored() throws Exception {
        List<Path> files = series(dir.resolve("in"), 6);
        // Claim more rows than the pixel data holds: a corrupted slice, still parseable by storescu.
        Path bad = files.get(2);
        AttributeList list = read(bad);
        com.pixelmed.dicom.Attribute rows = list.get(TagFromName.Rows);
        rows.setValue(rows.getIntegerValues()[0] * 2);
        list.write(bad.toFile(), list.get(TagFromName.TransferSyntaxUID).getSingleStringValueOrEmptyString(), true, true);

        ExternalCommand.Result r = storescu(files);
        assertThat(answers).hasSize(6);
        assertThat(answers.get(2)).isEqualTo(DimseStatus.ERROR_CANNOT_UNDERSTAND);
        assertThat(answers.stream().filter(s -> s == DimseStatus.SUCCESS)).hasSize(5);
        assertThat(r.output()).contains("Error: CannotUnderstand");
        assertThat(count("SELECT COUNT(*) FROM node_instance")).isEqualTo(5);
        // The node keeps serving.
        assertThat(ExternalCommand.run(TIMEOUT, "echoscu", "-aet", "ECHOSCU", "-aec", "CTTRIAGE", "127.0.0.1",
                port()).exitCode()).isZero();
    }

    @Test
    void truncatedSliceIsRefusedWithoutAffectingTheRest() throws Exception {
        List<Path> files = series(dir.resolve("in"), 4);
        Path bad = files.get(1);
        try (RandomAccessFile f = new RandomAccessFile(bad.toFile(), "rw")) {
            f.setLength(f.length() - 3000);
        }
        ExternalCommand.Result r = storescu(files);
        // storescu refuses to send a file it cannot read (-nh: and goes on with the next); nothing
        // broken is stored and every other instance is.
        assertThat(count("SELECT COUNT(*) FROM node_instance")).as(r.output()).isEqualTo(3);
        assertThat(answers.stream().filter(s -> s != DimseStatus.SUCCESS))
                .allMatch(s -> s == DimseStatus.ERROR_CANNOT_UNDERSTAND);
    }

    /**
     * Every file of Debian pydicom's test_files that storescu can send (real-world oddities:
     * odd encodings, big endian, compressed, deflated, private tags, broken values) gets an
     * answer with a defined status; nothing is left half-written, the node keeps serving and
     * a normal series sent afterwards is stored complete.
     */
    @Test
    void pydicomTestFilesEachGetADefinedStatusAndTheNodeKeepsServing() throws Exception {
        List<Path> oddities;
        try (Stream<Path> files = Files.list(Path.of("/usr/lib/python3/dist-packages/pydicom/data/test_files"))) {
            oddities = files.filter(Files::isRegularFile).sorted().toList();
        }
        assertThat(oddities).hasSizeGreaterThan(20);
        // -R: propose only the contexts the files need; storescu skips what it cannot read itself.
        List<String> command = new ArrayList<>(Arrays.asList("storescu", "-v", "-nh", "+sd", "-R", "-aet", "STORESCU",
                "-aec", "CTTRIAGE", "127.0.0.1", port()));
        oddities.forEach(f -> command.add(f.toString()));
        ExternalCommand.Result r = ExternalCommand.run(TIMEOUT, command);
        // Files in transfer syntaxes we do not accept (JPEG 2000, lossy JPEG…) have no accepted
        // presentation context, so storescu cannot send them ("DIMSE Failed to send message").
        long responses = r.output().lines().filter(l -> l.contains("Received Store Response")).count();
        assertThat(responses).as(r.output()).isGreaterThan(10);
        assertThat(answers).as(r.output()).hasSize((int) responses);
        assertThat(answers).allMatch(s -> s == DimseStatus.SUCCESS || s == DimseStatus.ERROR_CANNOT_UNDERSTAND
                || s == DimseStatus.ERROR_DATASET_DOES_NOT_MATCH_SOP_CLASS);
        try (Stream<Path> incoming = Files.list(dir.resolve("incoming"))) {
            assertThat(incoming).as("no .part left behind").isEmpty();
        }

        answers.clear();
        List<Path> files = series(dir.resolve("after"), 5);
        assertThat(storescu(files).exitCode()).isZero();
        assertThat(answers).hasSize(5).containsOnly(DimseStatus.SUCCESS);
        assertThat(ExternalCommand.run(TIMEOUT, "echoscu", "-aet", "ECHOSCU", "-aec", "CTTRIAGE", "127.0.0.1",
                port()).exitCode()).isZero();
    }

    @Test
    void sameSopInstanceWithDifferentBytesReplacesTheCopyAndChangesTheSeries() throws Exception {
        List<Path> files = series(dir.resolve("in"), 4);
        assertThat(storescu(files).exitCode()).isZero();
        try (Connection c = database.dataSource().getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE node_series SET state = 'TRIAGED'");
        }
        signals.clear();
        // The modality corrects one slice: same SOP Instance UID, different bytes.
        Path changed = files.get(1);
        AttributeList list = read(changed);
        list.replaceWithValueIfPresent(TagFromName.SeriesDescription, "corrected");
        list.write(changed.toFile(), list.get(TagFromName.TransferSyntaxUID).getSingleStringValueOrEmptyString(), true,
                true);
        assertThat(storescu(List.of(changed)).exitCode()).isZero();
        assertThat(signals).hasSize(1);
        assertThat(count("SELECT COUNT(*) FROM node_instance")).isEqualTo(4);
        assertThat(count("SELECT MAX(revision) FROM node_instance")).isEqualTo(2);
        assertThat(count("SELECT COUNT(*) FROM node_series WHERE state = 'RECEIVING'")).isEqualTo(1);
    }

    @Test
    void nonCtIsIgnoredByDefaultAndRefusedWhenConfigured() throws Exception {
        Path mr = Path.of("/usr/lib/python3/dist-packages/pydicom/data/test_files/MR_small.dcm");
        assertThat(storescu(List.of(mr)).exitCode()).isZero();
        assertThat(answers).containsExactly(DimseStatus.SUCCESS);
        assertThat(count("SELECT COUNT(*) FROM node_instance")).isZero();

        listener.close();
        ListenerOptions options = ListenerOptions.defaults("CTTRIAGE", InetAddress.getLoopbackAddress(), 0,
                dir.resolve("incoming"));
        listener = new DicomListener(options, new AssociationPolicy(options), new InstanceIngest(database,
                dir.resolve("spool"), NonCtPolicy.REJECT, DuplicatePolicy.IGNORE_IDENTICAL_KEEP_NEWER, Clock.systemUTC(),
                signals::add));
        listener.addObserver(new AssociationListener() {
            @Override
            public void storeAnswered(String callingAeTitle, String sopInstanceUid, DimseStatus status) {
                answers.add(status);
            }
        });
        listener.start();
        answers.clear();
        ExternalCommand.Result r = storescu(List.of(mr));
        assertThat(answers).containsExactly(DimseStatus.REFUSED_SOP_CLASS_NOT_SUPPORTED);
        assertThat(r.output()).contains("Refused: SOPClassNotSupported");
        assertThat(count("SELECT COUNT(*) FROM node_instance")).isZero();
    }

    private ExternalCommand.Result storescu(List<Path> files) throws Exception {
        List<String> command = new ArrayList<>(Arrays.asList("storescu", "-v", "-nh", "-aet", "STORESCU", "-aec", "CTTRIAGE",
                "127.0.0.1", port()));
        files.forEach(f -> command.add(f.toString()));
        return ExternalCommand.run(TIMEOUT, command);
    }

    private static List<Path> series(Path out, int slices) throws Exception {
        return PhantomSeries.write(7, 64, slices, 10, out).files();
    }

    private static AttributeList read(Path file) throws Exception {
        AttributeList list = new AttributeList();
        list.read(file.toString());
        return list;
    }

    private int count(String sql) throws Exception {
        try (Connection c = database.dataSource().getConnection(); Statement s = c.createStatement();
                ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getInt(1);
        }
    }
}

package org.cttriage.core.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.TagFromName;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import org.cttriage.core.dicom.net.DimseStatus;
import org.cttriage.core.dicom.net.ReceivedInstance;
import org.cttriage.core.io.Sha256;
import org.cttriage.core.dicom.sr.SrOptions;
import org.cttriage.testdata.dicom.PhantomSeries;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spool retention over real DICOM files and the node's H2 schema, through InstanceIngest. */
class SpoolRetentionTest {
    private static final Instant T0 = Instant.parse("2026-11-02T08:00:00Z");
    private static final Duration RETENTION = Duration.ofHours(72);

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock(T0);
    private NodeDatabase database;
    private InstanceIngest ingest;
    private SpoolRetention retention;
    private SeriesTriage triage;

    @BeforeEach
    void setUp() throws Exception {
        database = TestDatabases.migratedH2(dir);
        ingest = new InstanceIngest(database, dir.resolve("spool"), NonCtPolicy.IGNORE,
                DuplicatePolicy.IGNORE_IDENTICAL_KEEP_NEWER, clock);
        retention = new SpoolRetention(database, ingest, dir.resolve("spool"), RETENTION, clock);
        // Only input() and incomplete() are used here: no engine, selection or pool needed.
        triage = new SeriesTriage(database, null, null, null, null, SrOptions.defaults(), dir.resolve("results"),
                List.of("PACS"), clock);
    }

    @Test
    void aFinishedDeliveredSeriesPastRetentionLosesItsFilesButKeepsItsRecords() throws Exception {
        List<Path> delivered = PhantomSeries.write(11, 32, 6, 5, dir.resolve("a")).files();
        List<Path> pending = PhantomSeries.write(12, 32, 4, 5, dir.resolve("b")).files();
        List<Path> receiving = PhantomSeries.write(13, 32, 3, 5, dir.resolve("c")).files();
        SeriesKey a = receiveAll(delivered);
        SeriesKey b = receiveAll(pending);
        SeriesKey c = receiveAll(receiving);
        finish(a, DeliveryState.DELIVERED);
        finish(b, DeliveryState.PENDING);
        clock.set(T0.plus(RETENTION).plusSeconds(60));
        List<Path> recent = PhantomSeries.write(14, 32, 3, 5, dir.resolve("d")).files();
        SeriesKey d = receiveAll(recent);
        finish(d, DeliveryState.DELIVERED);
        String firstSha = Sha256.ofFile(spooled(a).get(0));

        SpoolRetention.Removed removed = retention.removeExpired();

        assertThat(removed.series()).isEqualTo(1);
        assertThat(removed.instances()).isEqualTo(6);
        assertThat(removed.bytes()).isEqualTo(delivered.stream().mapToLong(SpoolRetentionTest::size).sum());
        assertThat(dir.resolve("spool").resolve(a.studyInstanceUid())).doesNotExist();
        assertThat(count("SELECT COUNT(*) FROM node_instance WHERE NOT spooled")).isEqualTo(6);
        assertThat(string("SELECT content_sha256 FROM node_instance WHERE NOT spooled ORDER BY sop_uid LIMIT 1"))
                .isEqualTo(firstSha);
        assertThat(spooled(b)).as("a delivery still owed keeps the files").hasSize(4).allMatch(Files::exists);
        assertThat(spooled(c)).as("still receiving").hasSize(3).allMatch(Files::exists);
        assertThat(spooled(d)).as("within retention").hasSize(3).allMatch(Files::exists);
        assertThat(retention.removeExpired().series()).as("nothing left to remove").isZero();

        SeriesTriage.Input input = triage.input(a);
        assertThat(input.removed()).isEqualTo(6);
        assertThat(input.existingResult()).as("the result made for this input still stands").isNotNull();
    }

    @Test
    void theSameBytesReceivedAgainGoBackIntoTheSpoolWithoutChangingTheInput() throws Exception {
        List<Path> files = PhantomSeries.write(21, 32, 5, 5, dir.resolve("a")).files();
        SeriesKey a = receiveAll(files);
        finish(a, DeliveryState.DELIVERED);
        String hashBefore = triage.input(a).inputHash();
        clock.set(T0.plus(RETENTION).plusSeconds(1));
        assertThat(retention.removeExpired().instances()).isEqualTo(5);

        InstanceIngest.Outcome again = ingest.ingest(received(files.get(2)));

        assertThat(again.status()).isEqualTo(DimseStatus.SUCCESS);
        assertThat(again.changedSeries()).as("unchanged input, no re-triage").isNull();
        assertThat(count("SELECT COUNT(*) FROM node_instance WHERE spooled")).isEqualTo(1);
        assertThat(count("SELECT MAX(revision) FROM node_instance")).isEqualTo(1);
        assertThat(spooled(a)).hasSize(1).allMatch(Files::exists);
        assertThat(Files.mismatch(spooled(a).get(0), files.get(2))).isEqualTo(-1L);
        SeriesTriage.Input input = triage.input(a);
        assertThat(input.inputHash()).isEqualTo(hashBefore);
        assertThat(input.removed()).isEqualTo(4);
    }

    @Test
    void otherBytesAfterRetentionChangeTheSeriesWhichIsNotTriagedFromPartOfIt() throws Exception {
        List<Path> files = PhantomSeries.write(31, 32, 5, 5, dir.resolve("a")).files();
        SeriesKey a = receiveAll(files);
        finish(a, DeliveryState.DELIVERED);
        clock.set(T0.plus(RETENTION).plusSeconds(1));
        retention.removeExpired();
        Path changed = Files.copy(files.get(0), dir.resolve("changed.dcm"));
        byte[] bytes = Files.readAllBytes(changed);
        bytes[bytes.length - 1] ^= 0x01;   // one pixel differs
        Files.write(changed, bytes);

        InstanceIngest.Outcome outcome = ingest.ingest(received(changed));

        assertThat(outcome.changedSeries()).isEqualTo(a);
        assertThat(count("SELECT MAX(revision) FROM node_instance")).isEqualTo(2);
        SeriesTriage.Input input = triage.input(a);
        assertThat(input.existingResult()).isNull();
        assertThat(input.removed()).isEqualTo(4);
        SeriesTriage.Outcome result = triage.incomplete(input);
        assertThat(result).isInstanceOfSatisfying(SeriesTriage.NotTriaged.class,
                n -> assertThat(n.reason()).startsWith("TRIAGE-0616 4 of 5 instances"));
        assertThat(string("SELECT state FROM node_series")).isEqualTo(SeriesState.NOT_TRIAGED.name());
    }

    @Test
    void filesAlreadyGoneCountAsRemovedAndAreMarkedWithoutAHash() throws Exception {
        List<Path> files = PhantomSeries.write(41, 32, 3, 5, dir.resolve("a")).files();
        SeriesKey a = receiveAll(files);
        finish(a, DeliveryState.DELIVERED);
        // As a run interrupted between deleting the files and its commit leaves it.
        Files.delete(spoolCopy(a, files.get(0)));
        Files.delete(spoolCopy(a, files.get(1)));
        assertThat(triage.input(a).removed()).isEqualTo(2);

        InstanceIngest.Outcome resent = ingest.ingest(received(files.get(0)));

        assertThat(resent.status()).as("no comparison with a missing file").isEqualTo(DimseStatus.SUCCESS);
        assertThat(resent.changedSeries()).as("bytes of unknown content count as changed").isEqualTo(a);
        assertThat(spoolCopy(a, files.get(0))).exists();
        SeriesTriage.Input input = triage.input(a);
        assertThat(input.removed()).isEqualTo(1);
        assertThat(triage.incomplete(input)).isInstanceOf(SeriesTriage.NotTriaged.class);

        clock.set(T0.plus(RETENTION).plusSeconds(1));
        assertThat(retention.removeExpired().instances()).as("a series not triageable is finished too").isEqualTo(3);
        assertThat(count("SELECT COUNT(*) FROM node_instance WHERE NOT spooled AND content_sha256 IS NULL"))
                .isEqualTo(1);
        assertThat(dir.resolve("spool").resolve(a.studyInstanceUid())).doesNotExist();
    }

    @Test
    void zeroRetentionKeepsEverything() throws Exception {
        SpoolRetention forever = new SpoolRetention(database, ingest, dir.resolve("spool"), Duration.ZERO, clock);
        SeriesKey a = receiveAll(PhantomSeries.write(51, 32, 3, 5, dir.resolve("a")).files());
        finish(a, DeliveryState.DELIVERED);
        clock.set(T0.plus(Duration.ofDays(3650)));

        assertThat(forever.removeExpired().series()).isZero();
        assertThat(spooled(a)).hasSize(3).allMatch(Files::exists);
    }

    private SeriesKey receiveAll(List<Path> files) throws Exception {
        SeriesKey series = null;
        for (Path f : files) {
            InstanceIngest.Outcome o = ingest.ingest(received(f));
            assertThat(o.status()).isEqualTo(DimseStatus.SUCCESS);
            series = o.changedSeries();
        }
        return series;
    }

    private ReceivedInstance received(Path file) throws Exception {
        return Received.of(dir, file);
    }

    /** The series triaged, with one result whose delivery to PACS stands at {@code delivery}. */
    private void finish(SeriesKey series, DeliveryState delivery) throws Exception {
        try (Connection c = database.dataSource().getConnection()) {
            try (PreparedStatement s = c.prepareStatement("UPDATE node_series SET state = 'TRIAGED' WHERE study_uid = ?"
                    + " AND series_uid = ?")) {
                s.setString(1, series.studyInstanceUid());
                s.setString(2, series.seriesInstanceUid());
                s.executeUpdate();
            }
            String hash = triage.input(series).inputHash();
            try (PreparedStatement s = c.prepareStatement("INSERT INTO node_result (study_uid, series_uid, input_hash,"
                    + " sr_sop_uid, sr_path, result_json, priority, created) VALUES (?, ?, ?, '2.25.1', 'sr.dcm', '{}',"
                    + " 'routine', CURRENT_TIMESTAMP)", Statement.RETURN_GENERATED_KEYS)) {
                s.setString(1, series.studyInstanceUid());
                s.setString(2, series.seriesInstanceUid());
                s.setString(3, hash);
                s.executeUpdate();
                try (ResultSet keys = s.getGeneratedKeys(); PreparedStatement d = c.prepareStatement(
                        "INSERT INTO node_delivery (result_id, destination, state, attempts, updated) VALUES"
                                + " (?, 'PACS', ?, 1, CURRENT_TIMESTAMP)")) {
                    keys.next();
                    d.setLong(1, keys.getLong(1));
                    d.setString(2, delivery.name());
                    d.executeUpdate();
                }
            }
        }
    }

    private Path spoolCopy(SeriesKey series, Path file) throws Exception {
        AttributeList list = new AttributeList();
        list.read(file.toString());
        return dir.resolve("spool").resolve(series.studyInstanceUid()).resolve(series.seriesInstanceUid())
                .resolve(list.get(TagFromName.SOPInstanceUID).getSingleStringValueOrEmptyString() + ".dcm");
    }

    private List<Path> spooled(SeriesKey series) throws Exception {
        try (Connection c = database.dataSource().getConnection(); PreparedStatement s = c.prepareStatement(
                "SELECT path FROM node_instance WHERE study_uid = ? AND series_uid = ? AND spooled ORDER BY sop_uid")) {
            s.setString(1, series.studyInstanceUid());
            s.setString(2, series.seriesInstanceUid());
            try (ResultSet r = s.executeQuery()) {
                List<Path> paths = new java.util.ArrayList<>();
                while (r.next()) {
                    paths.add(Path.of(r.getString(1)));
                }
                return paths;
            }
        }
    }

    private long count(String sql) throws Exception {
        return Long.parseLong(string(sql));
    }

    private String string(String sql) throws Exception {
        try (Connection c = database.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getString(1);
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static final class MutableClock extends Clock {
        private volatile Instant now;

        MutableClock(Instant start) {
            this.now = start;
        }

        void set(Instant instant) {
            now = instant;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}

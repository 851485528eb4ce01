package org.cttriage.core.node;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.io.Sha256;
import org.cttriage.core.node.InstanceRepository.Spooled;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the spool from growing without bound: removes the instance files of a series once the
 * node no longer needs them, that is when the series is triaged (or could not be), nothing of it
 * arrived for the retention period, and every delivery of its results has ended (delivered, superseded or discarded) (a pending or
 * dead-lettered one keeps the series' files). The PACS holds the images; the node keeps them only
 * so that a late instance can re-triage the whole series.
 *
 * <p>The instance rows stay, each with {@code spooled = FALSE} and the SHA-256 of the removed
 * bytes: an instance received again with the same bytes goes back into the spool without a new
 * SR, and a series whose input includes removed instances that were not received again is never
 * triaged from the rest of them (TRIAGE-0616, see {@link SeriesTriage}). Removal runs under the
 * ingest's record lock, so no instance of the series is recorded meanwhile.
 */
public final class SpoolRetention {
    private static final Logger LOG = LoggerFactory.getLogger(SpoolRetention.class);
    private static final String ELIGIBLE = "SELECT s.study_uid, s.series_uid FROM node_series s"
            + " WHERE s.state IN ('" + SeriesState.TRIAGED.name() + "', '" + SeriesState.NOT_TRIAGED.name() + "')"
            + " AND s.last_received < ?"
            + " AND EXISTS (SELECT 1 FROM node_instance i WHERE i.study_uid = s.study_uid"
            + " AND i.series_uid = s.series_uid AND i.spooled)"
            + " AND NOT EXISTS (SELECT 1 FROM node_result r JOIN node_delivery d ON d.result_id = r.id"
            + " WHERE r.study_uid = s.study_uid AND r.series_uid = s.series_uid AND d.state NOT IN ('"
            + DeliveryState.DELIVERED.name() + "', '" + DeliveryState.SUPERSEDED.name() + "', '"
            + DeliveryState.DISCARDED.name() + "'))";

    private final NodeDatabase database;
    private final InstanceRepository instances;
    private final InstanceIngest ingest;
    private final Path spool;
    private final Duration retention;
    private final Clock clock;

    /**
     * @param retention how long after its last instance a finished series keeps its files; zero
     *     keeps them for ever
     */
    public SpoolRetention(NodeDatabase database, InstanceIngest ingest, Path spool, Duration retention, Clock clock) {
        if (retention.isNegative()) {
            throw new IllegalArgumentException("retention must not be negative: " + retention);
        }
        this.database = database;
        this.instances = new InstanceRepository(database);
        this.ingest = ingest;
        this.spool = spool;
        this.retention = retention;
        this.clock = clock;
    }

    /** What one run removed. */
    public record Removed(int series, int instances, long bytes) {
    }

    /** Removes the files of every series past retention; a series that fails is logged and kept. */
    public Removed removeExpired() throws TriageException {
        if (retention.isZero()) {
            return new Removed(0, 0, 0);
        }
        Timestamp cutoff = Timestamp.from(clock.instant().minus(retention));
        List<SeriesKey> candidates = database.transaction(c -> eligible(c, cutoff, null));
        int series = 0;
        int instances = 0;
        long bytes = 0;
        for (SeriesKey key : candidates) {
            try {
                Removed r = remove(key, cutoff);
                series += r.series();
                instances += r.instances();
                bytes += r.bytes();
            } catch (IOException | TriageException | RuntimeException e) {
                LOG.warn("{} series {}: spool files not removed, kept for the next run: {}",
                        ErrorCode.SPOOL_PURGED.code(), key.key(), e.toString());
            }
        }
        if (series > 0) {
            LOG.info("{} spool retention ({}): removed {} file(s), {} MB, of {} finished series",
                    ErrorCode.SPOOL_PURGED.code(), retention, instances, bytes / 1_000_000, series);
        }
        return new Removed(series, instances, bytes);
    }

    private Removed remove(SeriesKey key, Timestamp cutoff) throws IOException, TriageException {
        List<Spooled> rows = instances.spooled(key);
        // Hashing reads every file: done before taking the lock, so receiving is not held up by it.
        List<String> hashes = new ArrayList<>();
        for (Spooled row : rows) {
            hashes.add(hashOrNull(row.path()));
        }
        ingest.recordLock().lock();
        try {
            return database.transaction(c -> {
                if (eligible(c, cutoff, key).isEmpty()) {
                    return new Removed(0, 0, 0);   // an instance arrived meanwhile
                }
                long bytes = 0;
                InstanceRepository.removedFromSpool(c, rows, hashes);
                // Files go before the commit: a crash in between leaves rows naming missing files,
                // which triage treats as removed and the next run marks; never a file no row names.
                for (Spooled row : rows) {
                    bytes += delete(row.path());
                }
                Path seriesFolder = spool.resolve(key.studyInstanceUid()).resolve(key.seriesInstanceUid());
                deleteIfEmpty(seriesFolder);
                deleteIfEmpty(seriesFolder.getParent());
                return new Removed(1, rows.size(), bytes);
            });
        } finally {
            ingest.recordLock().unlock();
        }
    }

    private static List<SeriesKey> eligible(Connection c, Timestamp cutoff, SeriesKey only) throws SQLException {
        String sql = only == null ? ELIGIBLE : ELIGIBLE + " AND s.study_uid = ? AND s.series_uid = ?";
        List<SeriesKey> list = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(sql)) {
            s.setTimestamp(1, cutoff);
            if (only != null) {
                s.setString(2, only.studyInstanceUid());
                s.setString(3, only.seriesInstanceUid());
            }
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    list.add(new SeriesKey(r.getString(1), r.getString(2)));
                }
            }
        }
        return list;
    }

    /** The file's SHA-256, or null when it is already gone (a run interrupted after deleting it). */
    private static String hashOrNull(Path file) throws IOException {
        try {
            return Sha256.ofFile(file);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private static long delete(Path file) {
        try {
            long size = Files.size(file);
            Files.delete(file);
            return size;
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteIfEmpty(Path folder) {
        try {
            Files.deleteIfExists(folder);
        } catch (DirectoryNotEmptyException e) {
            // other instances or series still live there
        } catch (IOException e) {
            LOG.debug("folder {} not removed: {}", folder, e.toString());
        }
    }
}

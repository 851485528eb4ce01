package org.cttriage.core.node;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
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

    private final NodeDatabase database;
    private final SeriesRepository seriesRepository;
    private final InstanceRepository instanceRepository;
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
        this.seriesRepository = new SeriesRepository(database);
        this.instanceRepository = new InstanceRepository(database);
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
        Instant cutoff = clock.instant().minus(retention);
        List<SeriesKey> candidates = seriesRepository.removableFromSpool(cutoff);
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

    private Removed remove(SeriesKey key, Instant cutoff) throws IOException, TriageException {
        List<Spooled> rows = instanceRepository.spooled(key);
        // Hashing reads every file: done before taking the lock, so receiving is not held up by it.
        List<String> hashes = new ArrayList<>();
        for (Spooled row : rows) {
            hashes.add(hashOrNull(row.path()));
        }
        ingest.recordLock().lock();
        try {
            return database.transaction(c -> {
                if (!SeriesRepository.isRemovableFromSpool(c, cutoff, key)) {
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

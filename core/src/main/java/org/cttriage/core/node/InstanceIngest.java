package org.cttriage.core.node;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.cttriage.core.dicom.DicomScanner;
import org.cttriage.core.dicom.SliceHeader;
import org.cttriage.core.dicom.net.DimseStatus;
import org.cttriage.core.dicom.net.ReceivedInstance;
import org.cttriage.core.dicom.net.StoreHandler;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.cttriage.core.io.Sha256;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes each received instance: checks it, moves it into the spool
 * ({@code spool/<study>/<series>/<sop>.dcm}, atomic rename, file and directory fsynced), records
 * it and its series in the database, and only then lets the listener answer Success. The look-up
 * of an earlier copy, the file operations and the record are one transaction. Afterwards it
 * signals the series (to the aggregator); a lost signal is recovered from the database at
 * start-up. Every refusal has its DICOM status and a log line with a TRIAGE code, never PHI.
 */
public final class InstanceIngest implements StoreHandler {
    private static final Logger LOG = LoggerFactory.getLogger(InstanceIngest.class);
    /** SOP classes the node triages; everything else follows the {@link NonCtPolicy}. */
    public static final Set<String> CT_SOP_CLASSES = DicomScanner.CT_IMAGE_SOP_CLASSES;

    private final NodeDatabase database;
    private final Path spool;
    private final NonCtPolicy nonCt;
    private final DuplicatePolicy duplicates;
    private final Clock clock;
    private final Consumer<SeriesKey> signal;

    /** An ingest whose callers take the changed series from {@link #ingest} themselves (the routes). */
    public InstanceIngest(NodeDatabase database, Path spool, NonCtPolicy nonCt, DuplicatePolicy duplicates, Clock clock) {
        this(database, spool, nonCt, duplicates, clock, series -> { });
    }
    private final DicomScanner scanner = new DicomScanner();
    /** Calling AE title recorded for an instance recovered from the spool (the real one is not kept). */
    static final String RECOVERED_CALLER = "(RECOVERED)";
    /** One writer at a time for the series/instance rows: a single node, and H2 serialises anyway. */
    private final ReentrantLock recordLock = new ReentrantLock();

    public InstanceIngest(NodeDatabase database, Path spool, NonCtPolicy nonCt, DuplicatePolicy duplicates, Clock clock,
            Consumer<SeriesKey> signal) {
        this.database = database;
        this.spool = spool;
        this.nonCt = nonCt;
        this.duplicates = duplicates;
        this.clock = clock;
        this.signal = signal;
    }

    /**
     * What became of one received instance.
     *
     * @param status the C-STORE response status
     * @param changedSeries the series whose input changed (to be assembled and triaged), or null
     */
    public record Outcome(DimseStatus status, SeriesKey changedSeries) {
        static Outcome of(DimseStatus status) {
            return new Outcome(status, null);
        }
    }

    /** As {@link #ingest}, then signals the changed series. */
    @Override
    public DimseStatus stored(ReceivedInstance instance) throws IOException, TriageException {
        Outcome outcome = ingest(instance);
        if (outcome.changedSeries() != null) {
            try {
                signal.accept(outcome.changedSeries());
            } catch (RuntimeException e) {
                // Observers never break processing: the instance is recorded, start-up recovery re-signals.
                LOG.warn("series {} signal failed (recovered at restart): {}", outcome.changedSeries().key(),
                        e.toString());
            }
        }
        return outcome.status();
    }

    /**
     * Checks, spools and records {@code instance} (the file is moved or deleted). Returns the
     * status to answer and, when the instance changed a series' input, that series.
     */
    public Outcome ingest(ReceivedInstance instance) throws IOException, TriageException {
        if (!CT_SOP_CLASSES.contains(instance.sopClassUid())) {
            Files.deleteIfExists(instance.file());
            if (nonCt == NonCtPolicy.REJECT) {
                LOG.info("{} refused SOP class {} from {} (policy REJECT)", ErrorCode.INSTANCE_REFUSED.code(),
                        instance.sopClassUid(), instance.callingAeTitle());
                return Outcome.of(DimseStatus.REFUSED_SOP_CLASS_NOT_SUPPORTED);
            }
            LOG.debug("ignored SOP class {} from {}", instance.sopClassUid(), instance.callingAeTitle());
            return Outcome.of(DimseStatus.SUCCESS);
        }
        SliceHeader header;
        try {
            List<SliceHeader> slices = scanner.readSlices(instance.file());
            header = slices.get(0);
        } catch (TriageException e) {
            return refuse(instance, statusOf(e.errorCode()), e.getMessage());
        } catch (Exception e) {
            return refuse(instance, DimseStatus.ERROR_CANNOT_UNDERSTAND, ErrorCode.UNREADABLE_FILE.code() + " " + e);
        }
        if (!instance.sopInstanceUid().equals(header.sopInstanceUid())
                || !instance.sopClassUid().equals(header.sopClassUid())) {
            return refuse(instance, DimseStatus.ERROR_DATASET_DOES_NOT_MATCH_SOP_CLASS,
                    "SOP Class/Instance UID of the data set differ from the C-STORE request");
        }
        if (!SeriesKey.isUid(header.studyInstanceUid()) || !SeriesKey.isUid(header.seriesInstanceUid())
                || !SeriesKey.isUid(header.sopInstanceUid())) {
            // Also what keeps a crafted UID from becoming a path outside the spool.
            return refuse(instance, DimseStatus.ERROR_DATASET_DOES_NOT_MATCH_SOP_CLASS,
                    "Study/Series/SOP Instance UID absent or not a valid UID");
        }
        return record(instance, new SeriesKey(header.studyInstanceUid(), header.seriesInstanceUid()));
    }

    /**
     * The C-STORE status for an instance whose header reading failed: values the SOP class does
     * not allow (absent, or outside what a CT image can have) do not match the SOP class; anything
     * that cannot be parsed or whose pixel data the header does not describe cannot be understood.
     */
    static DimseStatus statusOf(ErrorCode readFailure) {
        return switch (readFailure) {
            case MISSING_ATTRIBUTE, IMPLAUSIBLE_HEADER_VALUE -> DimseStatus.ERROR_DATASET_DOES_NOT_MATCH_SOP_CLASS;
            default -> DimseStatus.ERROR_CANNOT_UNDERSTAND;
        };
    }

    private Outcome refuse(ReceivedInstance instance, DimseStatus status, String why) throws IOException {
        Files.deleteIfExists(instance.file());
        LOG.warn("{} instance from {} answered {} ({}): {}", ErrorCode.INSTANCE_REFUSED.code(),
                instance.callingAeTitle(), status.hex(), status.meaning(), why);
        return Outcome.of(status);
    }

    /**
     * Moves the file into the spool, makes it durable and records it, all in one transaction;
     * the outcome names the series when its input changed (not for an identical duplicate).
     */
    private Outcome record(ReceivedInstance instance, SeriesKey series) throws IOException, TriageException {
        Path folder = spool.resolve(series.studyInstanceUid()).resolve(series.seriesInstanceUid());
        Path target = folder.resolve(instance.sopInstanceUid() + ".dcm");
        recordLock.lock();
        try {
            return database.transaction(c -> {
                Existing existing;
                try (PreparedStatement s = c.prepareStatement(
                        "SELECT path, revision, spooled, content_sha256 FROM node_instance WHERE sop_uid = ?")) {
                    s.setString(1, instance.sopInstanceUid());
                    try (ResultSet r = s.executeQuery()) {
                        existing = r.next() ? new Existing(Path.of(r.getString(1)), r.getInt(2), r.getBoolean(3),
                                r.getString(4)) : null;
                    }
                }
                try {
                    // Also a row still marked spooled whose file is gone: retention interrupted
                    // between deleting the files and its commit.
                    if (existing != null && (!existing.spooled() || !Files.exists(existing.path()))) {
                        return receivedAgainAfterRetention(c, instance, series, folder, target, existing);
                    }
                    if (existing != null && (duplicates == DuplicatePolicy.KEEP_FIRST
                            || Files.mismatch(existing.path(), instance.file()) == -1)) {
                        Files.deleteIfExists(instance.file());
                        LOG.info("series {}: duplicate instance, {}", series.key(), duplicates == DuplicatePolicy.KEEP_FIRST
                                ? "first copy kept" : "identical bytes ignored");
                        return unchangedInput(c, series);
                    }
                    if (existing != null) {
                        LOG.info("series {}: instance received again with different bytes, newer kept, series changed",
                                series.key());
                    }
                    if (!spoolDurably(instance.file(), folder, target, existing != null)) {
                        return Outcome.of(DimseStatus.REFUSED_OUT_OF_RESOURCES);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                write(c, instance, series, target, existing);
                return new Outcome(DimseStatus.SUCCESS, series);
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        } finally {
            recordLock.unlock();
        }
    }

    /**
     * Moves {@code part} to {@code target} and makes both its bytes and its directory entry
     * durable. A new file is renamed first and then forced, so the rename can ride on the file's
     * journal commit (≈ 0.07 ms less per instance on ext4, bin/bench/fsync_order.py); nobody
     * reads the target before the database names it.
     * A replacement is forced before it is renamed over the older copy, which must never be
     * replaced by bytes that are not on disk yet. False (file removed, logged) when the disk
     * refuses the fsync.
     */
    private boolean spoolDurably(Path part, Path folder, Path target, boolean replaces) throws IOException {
        Files.createDirectories(folder);
        try {
            if (replaces) {
                force(part);
                Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } else {
                Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                force(target);
            }
        } catch (IOException e) {
            LOG.error("{} cannot make a received instance durable: {}", ErrorCode.RECEIVE_WRITE_FAILED.code(), e.toString());
            Files.deleteIfExists(part);
            if (!replaces) {
                Files.deleteIfExists(target);
            }
            return false;
        }
        fsyncDirectory(folder);
        return true;
    }

    /** fdatasync: the content and what is needed to read it back (its size and blocks). */
    private static void force(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.force(false);
        }
    }

    private void write(Connection c, ReceivedInstance instance, SeriesKey series, Path target, Existing existing)
            throws SQLException {
        Timestamp now = Timestamp.from(clock.instant());
        int revision = existing == null ? 1 : existing.revision() + 1;
        if (existing == null) {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO node_instance (sop_uid, study_uid, "
                    + "series_uid, sop_class_uid, transfer_syntax, path, bytes, revision, calling_aet, received)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                s.setString(1, instance.sopInstanceUid());
                s.setString(2, series.studyInstanceUid());
                s.setString(3, series.seriesInstanceUid());
                s.setString(4, instance.sopClassUid());
                s.setString(5, instance.transferSyntaxUid());
                s.setString(6, target.toString());
                s.setLong(7, instance.bytes());
                s.setInt(8, revision);
                s.setString(9, instance.callingAeTitle());
                s.setTimestamp(10, now);
                s.executeUpdate();
            }
        } else {
            try (PreparedStatement s = c.prepareStatement("UPDATE node_instance SET transfer_syntax = ?, "
                    + "path = ?, bytes = ?, revision = ?, calling_aet = ?, received = ?, spooled = TRUE, content_sha256 = NULL"
                    + " WHERE sop_uid = ?")) {
                s.setString(1, instance.transferSyntaxUid());
                s.setString(2, target.toString());
                s.setLong(3, instance.bytes());
                s.setInt(4, revision);
                s.setString(5, instance.callingAeTitle());
                s.setTimestamp(6, now);
                s.setString(7, instance.sopInstanceUid());
                s.executeUpdate();
            }
        }
        int updated;
        // A counter, not COUNT(*): this runs before every C-STORE answer.
        try (PreparedStatement s = c.prepareStatement("UPDATE node_series SET state = ?, last_received = ?, "
                + "instances = instances + ?, reason = NULL WHERE study_uid = ? AND series_uid = ?")) {
            s.setString(1, SeriesState.RECEIVING.name());
            s.setTimestamp(2, now);
            s.setInt(3, existing == null ? 1 : 0);
            s.setString(4, series.studyInstanceUid());
            s.setString(5, series.seriesInstanceUid());
            updated = s.executeUpdate();
        }
        if (updated == 0) {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO node_series (study_uid, series_uid, "
                    + "state, instances, first_received, last_received) VALUES (?, ?, ?, 1, ?, ?)")) {
                s.setString(1, series.studyInstanceUid());
                s.setString(2, series.seriesInstanceUid());
                s.setString(3, SeriesState.RECEIVING.name());
                s.setTimestamp(4, now);
                s.setTimestamp(5, now);
                s.executeUpdate();
            }
        }
    }

    /**
     * An instance whose spool copy retention removed ({@link SpoolRetention}) is received again.
     * The same bytes go back into the spool without changing the series' input (no new SR);
     * other bytes replace it like any changed instance (KEEP_FIRST: ignored). A series whose
     * input then includes removed instances is not triaged from the rest (see SeriesTriage).
     */
    private Outcome receivedAgainAfterRetention(Connection c, ReceivedInstance instance, SeriesKey series, Path folder,
            Path target, Existing existing) throws IOException, SQLException {
        boolean identical = existing.sha256() != null && existing.sha256().equals(Sha256.ofFile(instance.file()));
        if (!identical && duplicates == DuplicatePolicy.KEEP_FIRST) {
            Files.deleteIfExists(instance.file());
            LOG.info("series {}: instance removed by spool retention received again with other bytes, first copy kept",
                    series.key());
            return unchangedInput(c, series);
        }
        if (!spoolDurably(instance.file(), folder, target, false)) {
            return Outcome.of(DimseStatus.REFUSED_OUT_OF_RESOURCES);
        }
        if (!identical) {
            LOG.info("series {}: instance removed by spool retention received again with other bytes, series changed",
                    series.key());
            write(c, instance, series, target, existing);
            return new Outcome(DimseStatus.SUCCESS, series);
        }
        try (PreparedStatement s = c.prepareStatement("UPDATE node_instance SET spooled = TRUE, content_sha256 = NULL,"
                + " path = ? WHERE sop_uid = ?")) {
            s.setString(1, target.toString());
            s.setString(2, instance.sopInstanceUid());
            s.executeUpdate();
        }
        LOG.info("series {}: instance removed by spool retention received again, identical; back in the spool",
                series.key());
        return unchangedInput(c, series);
    }

    /** Held while a series' instance rows and spool files change together (ingest and retention). */
    ReentrantLock recordLock() {
        return recordLock;
    }

    private record Existing(Path path, int revision, boolean spooled, String sha256) {
    }

    /**
     * Records the spool files the database does not name, and returns how many. Every file in the
     * spool was fsynced with its folder before the database write that names it, but H2 writes
     * its commits through to the operating system without an fsync: after a power loss the
     * newest acknowledged instances can be on disk while their rows are not, and a crash between
     * the rename and the commit leaves the same (never acknowledged) state. Such a file is read
     * again and recorded as received now, which puts its series back to receiving. A file that
     * cannot be read, or whose UIDs differ from its place in the spool, is left alone and logged.
     * Run at start-up, before the listener takes associations.
     */
    public int recordUnrecordedSpoolFiles() throws IOException, TriageException {
        if (!Files.isDirectory(spool)) {
            return 0;
        }
        Set<String> recorded = database.transaction(c -> {
            Set<String> uids = new java.util.HashSet<>();
            try (PreparedStatement s = c.prepareStatement("SELECT sop_uid FROM node_instance");
                 ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    uids.add(r.getString(1) + ".dcm");
                }
            }
            return uids;
        });
        List<Path> unrecorded;
        // spool/<study>/<series>/<sop>.dcm: the file name is the SOP Instance UID
        try (var files = Files.find(spool, 3, (f, attributes) -> attributes.isRegularFile()
                && f.getFileName().toString().endsWith(".dcm") && !recorded.contains(f.getFileName().toString()))) {
            unrecorded = files.sorted().toList();
        }
        int count = 0;
        for (Path file : unrecorded) {
            // Two unrecorded files may hold the same SOP Instance UID (in different series
            // folders): the first one recorded wins, as a row would.
            if (!recorded.contains(file.getFileName().toString()) && recordSpoolFile(file)) {
                recorded.add(file.getFileName().toString());
                count++;
            }
        }
        if (count > 0) {
            LOG.warn("{} recorded {} spool file(s) the database did not name (power loss or crash before the"
                    + " record was written)", ErrorCode.SPOOL_RECONCILED.code(), count);
        }
        return count;
    }

    private boolean recordSpoolFile(Path file) throws IOException, TriageException {
        SliceHeader header;
        try {
            header = scanner.readSlices(file).get(0);
        } catch (Exception e) {
            LOG.warn("{} spool file {} is unreadable and was left alone: {}", ErrorCode.SPOOL_RECONCILED.code(),
                    spool.relativize(file), e.toString());
            return false;
        }
        Path relative = spool.relativize(file);
        if (relative.getNameCount() != 3 || !relative.getName(0).toString().equals(header.studyInstanceUid())
                || !relative.getName(1).toString().equals(header.seriesInstanceUid())
                || !relative.getName(2).toString().equals(header.sopInstanceUid() + ".dcm")) {
            LOG.warn("{} spool file {} does not hold the instance its path names; left alone",
                    ErrorCode.SPOOL_RECONCILED.code(), relative);
            return false;
        }
        SeriesKey series = new SeriesKey(header.studyInstanceUid(), header.seriesInstanceUid());
        ReceivedInstance instance = new ReceivedInstance(file, header.sopClassUid(), header.sopInstanceUid(),
                header.transferSyntaxUid(), RECOVERED_CALLER, null, Files.size(file));
        recordLock.lock();
        try {
            database.transaction(c -> {
                write(c, instance, series, file, null);
                return null;
            });
            return true;
        } finally {
            recordLock.unlock();
        }
    }

    /**
     * Success without a change to the series' input; a series still receiving is signalled again,
     * which only extends its quiet period and repairs a signal lost earlier.
     */
    private static Outcome unchangedInput(Connection c, SeriesKey series) throws SQLException {
        return new Outcome(DimseStatus.SUCCESS, stillReceiving(c, series) ? series : null);
    }

    private static boolean stillReceiving(Connection c, SeriesKey series) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT state FROM node_series WHERE study_uid = ? AND "
                + "series_uid = ?")) {
            s.setString(1, series.studyInstanceUid());
            s.setString(2, series.seriesInstanceUid());
            try (ResultSet r = s.executeQuery()) {
                return r.next() && SeriesState.RECEIVING.name().equals(r.getString(1));
            }
        }
    }

    /** Makes the rename itself durable (POSIX: the directory entry lives in the directory's data). */
    static void fsyncDirectory(Path folder) {
        try (FileChannel channel = FileChannel.open(folder, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Some file systems refuse to open directories; the file itself was fsynced already.
            LOG.debug("directory fsync not supported for {}: {}", folder, e.toString());
        }
    }
}

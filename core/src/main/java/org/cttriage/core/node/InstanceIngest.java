package org.cttriage.core.node;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
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
import org.cttriage.core.node.InstanceRepository.Recorded;
import org.cttriage.core.node.InstanceRepository.Row;
import org.cttriage.core.node.NodeDatabase.Statements;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes each received instance: checks it, moves it into the spool
 * ({@code spool/<study>/<series>/<sop>.dcm}, atomic rename, file and directory fsynced), records
 * it and its series in the database, and only then lets the listener answer Success. The look-up
 * of an earlier copy, the file operations and the record are one transaction, shared by the
 * instances that arrive on other associations meanwhile (group commit: their files fdatasynced
 * and their folders fsynced together, their rows written in one commit, on one connection whose
 * statements are prepared once). Afterwards it signals the series (to the aggregator); a lost
 * signal is recovered from the database at start-up. Every refusal has its DICOM status and a
 * log line with a TRIAGE code, never PHI. {@link #close()} releases the committer's connection.
 */
public final class InstanceIngest implements StoreHandler, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(InstanceIngest.class);
    /** SOP classes the node triages; everything else follows the {@link NonCtPolicy}. */
    public static final Set<String> CT_SOP_CLASSES = DicomScanner.CT_IMAGE_SOP_CLASSES;

    private final NodeDatabase database;
    private final InstanceRepository instanceRepository;
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
    /** The most instances one group commit takes; the rest wait for the next. */
    static final int MAX_BATCH = 64;
    /** The committer's connection is checked before use when idle this long. */
    private static final Duration IDLE_CHECK = Duration.ofSeconds(30);
    private final GroupCommitter<Pending, Committed> committer = new GroupCommitter<>(this::commitBatch, MAX_BATCH);
    /** The committer's connection and statements (guarded by recordLock); null until needed or after a failure. */
    private Statements statements;
    private long statementsUsed;

    public InstanceIngest(NodeDatabase database, Path spool, NonCtPolicy nonCt, DuplicatePolicy duplicates, Clock clock,
            Consumer<SeriesKey> signal) {
        this.database = database;
        this.instanceRepository = new InstanceRepository(database);
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
     * Moves the file into the spool, makes it durable and records it; the outcome names the series
     * when its input changed (not for an identical duplicate). Instances that arrive on other
     * associations meanwhile share one group commit ({@link #commitBatch}): the answer comes only
     * once the batch's files, folders and rows are durable.
     */
    private Outcome record(ReceivedInstance instance, SeriesKey series) throws IOException, TriageException {
        Committed committed;
        try {
            committed = committer.submit(new Pending(instance, series));
        } catch (IOException | TriageException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        if (committed.failure() instanceof IOException e) {
            throw e;
        }
        if (committed.failure() instanceof TriageException e) {
            throw e;
        }
        if (committed.failure() != null) {
            throw new IllegalStateException(committed.failure());
        }
        return committed.outcome();
    }

    /** One instance waiting for a group commit. */
    private record Pending(ReceivedInstance instance, SeriesKey series) {
    }

    /** What a group commit made of one instance: its outcome, or the failure its C-STORE answers. */
    private record Committed(Outcome outcome, Exception failure) {
        static Committed of(Outcome outcome) {
            return new Committed(outcome, null);
        }
    }

    /** A new instance renamed into the spool whose fdatasync, folder fsync and row wait for the batch. */
    private record NewFile(int index, Row row, Path folder) {
    }

    /**
     * One group commit, under the record lock. The batch is cut before an instance whose SOP
     * Instance UID it already holds, so that the later copy is decided against the earlier one's
     * row; each part is one transaction.
     */
    private List<Committed> commitBatch(List<Pending> batch) {
        recordLock.lock();
        try {
            List<Committed> results = new ArrayList<>(batch.size());
            int from = 0;
            while (from < batch.size()) {
                Set<String> uids = new HashSet<>();
                int to = from;
                while (to < batch.size() && uids.add(batch.get(to).instance().sopInstanceUid())) {
                    to++;
                }
                results.addAll(commitSegment(batch.subList(from, to)));
                from = to;
            }
            return results;
        } finally {
            recordLock.unlock();
        }
    }

    /**
     * One transaction for instances with distinct SOP Instance UIDs: each is looked up and decided
     * as alone (duplicates policy, received again after retention, replacement — those rare paths
     * make their file durable at once); a new instance is renamed into the spool, and then the
     * batch's new files are fdatasynced, each touched folder fsynced once, their rows written in
     * one statement batch, and the transaction committed. Nothing is answered Success before that
     * commit. A database failure rolls the whole transaction back, removes the new files (never
     * acknowledged) and fails every instance of it.
     */
    private List<Committed> commitSegment(List<Pending> segment) {
        Committed[] results = new Committed[segment.size()];
        List<NewFile> newFiles = new ArrayList<>();
        Statements statements = null;
        try {
            statements = statements();
            Timestamp now = Timestamp.from(clock.instant());
            for (int i = 0; i < segment.size(); i++) {
                try {
                    results[i] = decide(statements, segment.get(i), i, now, newFiles);
                } catch (IOException e) {
                    results[i] = new Committed(null, e);
                }
            }
            List<Row> rows = new ArrayList<>(newFiles.size());
            Set<Path> folders = new LinkedHashSet<>();
            for (NewFile f : newFiles) {
                try {
                    force(f.row().path());
                    rows.add(f.row());
                    folders.add(f.folder());
                } catch (IOException e) {
                    LOG.error("{} cannot make a received instance durable: {}", ErrorCode.RECEIVE_WRITE_FAILED.code(),
                            e.toString());
                    deleteQuietly(f.row().path());
                    results[f.index()] = Committed.of(Outcome.of(DimseStatus.REFUSED_OUT_OF_RESOURCES));
                }
            }
            for (Path folder : folders) {
                fsyncDirectory(folder);
            }
            writeRows(statements, rows, now);
            statements.connection().commit();
            for (NewFile f : newFiles) {
                if (results[f.index()] == null) {
                    results[f.index()] = Committed.of(new Outcome(DimseStatus.SUCCESS, f.row().series()));
                }
            }
            return Arrays.asList(results);
        } catch (SQLException | RuntimeException e) {
            if (statements != null) {
                dropStatements(true);
            }
            for (NewFile f : newFiles) {
                deleteQuietly(f.row().path());
            }
            LOG.error("{} group commit of {} instance(s) failed, each answered Processing Failure: {}",
                    ErrorCode.INGEST_BATCH_FAILED.code(), segment.size(), e.toString());
            TriageException failure = new TriageException(ErrorCode.NODE_DATABASE_FAILED, "database: " + e.getMessage(),
                    e);
            List<Committed> failed = new ArrayList<>(segment.size());
            for (int i = 0; i < segment.size(); i++) {
                failed.add(new Committed(null, failure));
            }
            return failed;
        }
    }

    /**
     * Decides one instance inside the batch's transaction: the outcome, or null for a new file
     * renamed into the spool and added to {@code newFiles} (made durable and recorded by the batch).
     */
    private Committed decide(Statements c, Pending pending, int index, Timestamp now, List<NewFile> newFiles)
            throws IOException, SQLException {
        ReceivedInstance instance = pending.instance();
        SeriesKey series = pending.series();
        Path folder = spool.resolve(series.studyInstanceUid()).resolve(series.seriesInstanceUid());
        Path target = folder.resolve(instance.sopInstanceUid() + ".dcm");
        Recorded existing = InstanceRepository.find(c, instance.sopInstanceUid());
        // Also a row still marked spooled whose file is gone: retention interrupted
        // between deleting the files and its commit.
        if (existing != null && (!existing.spooled() || !Files.exists(existing.path()))) {
            return Committed.of(receivedAgainAfterRetention(c, instance, series, folder, target, existing, now));
        }
        if (existing != null && (duplicates == DuplicatePolicy.KEEP_FIRST
                || Files.mismatch(existing.path(), instance.file()) == -1)) {
            Files.deleteIfExists(instance.file());
            LOG.info("series {}: duplicate instance, {}", series.key(), duplicates == DuplicatePolicy.KEEP_FIRST
                    ? "first copy kept" : "identical bytes ignored");
            return Committed.of(unchangedInput(c, series));
        }
        if (existing != null) {
            LOG.info("series {}: instance received again with different bytes, newer kept, series changed",
                    series.key());
            if (!spoolDurably(instance.file(), folder, target, true)) {
                return Committed.of(Outcome.of(DimseStatus.REFUSED_OUT_OF_RESOURCES));
            }
            write(c, instance, series, target, existing, now);
            return Committed.of(new Outcome(DimseStatus.SUCCESS, series));
        }
        // A new file is renamed now and forced with the batch: the rename can ride on the file's
        // journal commit, and nobody reads the target before the database names it. The folder
        // test first: createDirectories on an existing folder costs a failed mkdir and an exception
        // per instance; retention, which removes folders, holds the record lock as this does.
        if (!Files.isDirectory(folder)) {
            Files.createDirectories(folder);
        }
        try {
            Files.move(instance.file(), target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.error("{} cannot make a received instance durable: {}", ErrorCode.RECEIVE_WRITE_FAILED.code(), e.toString());
            Files.deleteIfExists(instance.file());
            Files.deleteIfExists(target);
            return Committed.of(Outcome.of(DimseStatus.REFUSED_OUT_OF_RESOURCES));
        }
        newFiles.add(new NewFile(index, new Row(instance, series, target, null), folder));
        return null;
    }

    /**
     * The committer's connection and statements, kept across batches (each statement is parsed
     * once, not per instance). A connection idle for a while is checked first, so that one the
     * server closed meanwhile does not fail a batch.
     */
    private Statements statements() throws SQLException {
        if (statements != null && System.nanoTime() - statementsUsed > IDLE_CHECK.toNanos()
                && !statements.connection().isValid(5)) {
            dropStatements(false);
        }
        if (statements == null) {
            Connection c = database.dataSource().getConnection();
            try {
                c.setAutoCommit(false);
            } catch (SQLException e) {
                c.close();
                throw e;
            }
            statements = new Statements(c, true);
        }
        statementsUsed = System.nanoTime();
        return statements;
    }

    private void dropStatements(boolean rollback) {
        Statements s = statements;
        statements = null;
        if (rollback) {
            try {
                s.connection().rollback();
            } catch (SQLException e) {
                LOG.debug("rollback after a failed group commit: {}", e.toString());
            }
        }
        s.close();
    }

    /** Releases the committer's database connection (the node stops). */
    @Override
    public void close() {
        recordLock.lock();
        try {
            if (statements != null) {
                dropStatements(true);
            }
        } finally {
            recordLock.unlock();
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warn("{} cannot delete {}: {}", ErrorCode.RECEIVE_WRITE_FAILED.code(), file, e.toString());
        }
    }

    /**
     * Moves {@code part} to {@code target} and makes both its bytes and its directory entry
     * durable, at once (the paths outside the group commit: a replacement, an instance received
     * again after retention). A new file is renamed first and then forced, so the rename can ride on the file's
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

    private void write(Statements c, ReceivedInstance instance, SeriesKey series, Path target, Recorded existing,
            Timestamp now) throws SQLException {
        writeRows(c, List.of(new Row(instance, series, target, existing)), now);
    }

    /**
     * Writes instance rows (new ones as one statement batch) and updates each of their series
     * once: state RECEIVING, last_received, the counter raised by the new instances. Rows in the
     * order given; the same result as writing them one by one.
     */
    private static void writeRows(Statements c, List<Row> rows, Timestamp now) throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        // per series, in first-seen order: {instances added, 1 when its first row is new}
        Map<SeriesKey, int[]> seriesCounts = new LinkedHashMap<>();
        for (Row row : rows) {
            int[] counts = seriesCounts.computeIfAbsent(row.series(), k -> new int[] {0, row.previous() == null ? 1 : 0});
            if (row.previous() == null) {
                counts[0]++;
            }
        }
        InstanceRepository.write(c, rows, now);
        for (Map.Entry<SeriesKey, int[]> e : seriesCounts.entrySet()) {
            int added = e.getValue()[0];
            // A series not recorded yet, as rows written one by one would: the first creates the
            // series with 1, the others count when new.
            SeriesRepository.received(c, e.getKey(), added, 1 + added - e.getValue()[1], now);
        }
    }

    /**
     * An instance whose spool copy retention removed ({@link SpoolRetention}) is received again.
     * The same bytes go back into the spool without changing the series' input (no new SR);
     * other bytes replace it like any changed instance (KEEP_FIRST: ignored). A series whose
     * input then includes removed instances is not triaged from the rest (see SeriesTriage).
     */
    private Outcome receivedAgainAfterRetention(Statements c, ReceivedInstance instance, SeriesKey series, Path folder,
            Path target, Recorded existing, Timestamp now) throws IOException, SQLException {
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
            write(c, instance, series, target, existing, now);
            return new Outcome(DimseStatus.SUCCESS, series);
        }
        InstanceRepository.backInSpool(c, instance.sopInstanceUid(), target);
        LOG.info("series {}: instance removed by spool retention received again, identical; back in the spool",
                series.key());
        return unchangedInput(c, series);
    }

    /** Instances waiting for the next group commit (not the running one); for tests. */
    int waitingForCommit() {
        return committer.queued();
    }

    /** Held while a series' instance rows and spool files change together (ingest and retention). */
    ReentrantLock recordLock() {
        return recordLock;
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
        Set<String> recorded = instanceRepository.sopInstanceUids();
        List<Path> unrecorded;
        // spool/<study>/<series>/<sop>.dcm: the file name is the SOP Instance UID
        try (var files = Files.find(spool, 3, (f, attributes) -> attributes.isRegularFile()
                && f.getFileName().toString().endsWith(".dcm") && !recorded.contains(sopInstanceUidOf(f)))) {
            unrecorded = files.sorted().toList();
        }
        int count = 0;
        for (Path file : unrecorded) {
            // Two unrecorded files may hold the same SOP Instance UID (in different series
            // folders): the first one recorded wins, as a row would.
            if (!recorded.contains(sopInstanceUidOf(file)) && recordSpoolFile(file)) {
                recorded.add(sopInstanceUidOf(file));
                count++;
            }
        }
        if (count > 0) {
            LOG.warn("{} recorded {} spool file(s) the database did not name (power loss or crash before the"
                    + " record was written)", ErrorCode.SPOOL_RECONCILED.code(), count);
        }
        return count;
    }

    /** The SOP Instance UID a spool file's name holds ({@code <sop>.dcm}). */
    private static String sopInstanceUidOf(Path spoolFile) {
        String name = spoolFile.getFileName().toString();
        return name.substring(0, name.length() - ".dcm".length());
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
                try (Statements statements = new Statements(c, false)) {
                    write(statements, instance, series, file, null, Timestamp.from(clock.instant()));
                }
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
    private static Outcome unchangedInput(Statements c, SeriesKey series) throws SQLException {
        return new Outcome(DimseStatus.SUCCESS, SeriesRepository.isReceiving(c, series) ? series : null);
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

package org.cttriage.core.node;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.cttriage.core.dicom.net.ReceivedInstance;
import org.cttriage.core.error.TriageException;

/**
 * Every statement on {@code node_instance}: one row per SOP instance received, with its place in
 * the spool, its revision (raised each time other bytes replace it), and, once spool retention
 * removed its file, {@code spooled = FALSE} and the SHA-256 of the removed bytes.
 *
 * <p>Methods without a connection run in a transaction of their own. Static methods that take a
 * {@link Connection} run inside the caller's transaction, because the caller's correctness
 * depends on what else that transaction holds; those that take {@link NodeDatabase.Statements}
 * are the ingest's, which keeps its statements prepared across group commits.
 */
public final class InstanceRepository {
    /**
     * What the table holds of an instance already received.
     *
     * @param path its file in the spool
     * @param revision 1 for the first copy, raised by each replacement
     * @param spooled false once spool retention removed its file
     * @param sha256 the SHA-256 of the removed bytes (retention), else null
     */
    public record Recorded(Path path, int revision, boolean spooled, String sha256) {
    }

    /**
     * One instance of a series' input.
     *
     * @param sopInstanceUid its SOP Instance UID
     * @param revision its revision
     * @param path its file in the spool
     * @param spooled false once spool retention removed its file
     */
    public record Instance(String sopInstanceUid, int revision, Path path, boolean spooled) {
    }

    /**
     * An instance whose file is in the spool, as spool retention removes it.
     *
     * @param sopInstanceUid its SOP Instance UID
     * @param revision its revision (the removal applies to this revision only)
     * @param path its file in the spool
     */
    public record Spooled(String sopInstanceUid, int revision, Path path) {
    }

    /**
     * A row to write for a received instance: a new row (revision 1) when {@code previous} is
     * null, otherwise the replacement of {@code previous} (its revision + 1, back in the spool).
     *
     * @param instance the instance as received
     * @param series its series
     * @param path its file in the spool
     * @param previous the row it replaces, or null
     */
    public record Row(ReceivedInstance instance, SeriesKey series, Path path, Recorded previous) {
    }

    private static final String FIND = "SELECT path, revision, spooled, content_sha256 FROM node_instance"
            + " WHERE sop_uid = ?";
    private static final String INSERT = "INSERT INTO node_instance (sop_uid, study_uid, series_uid,"
            + " sop_class_uid, transfer_syntax, path, bytes, revision, calling_aet, received)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    private static final String REPLACE = "UPDATE node_instance SET transfer_syntax = ?, path = ?,"
            + " bytes = ?, revision = ?, calling_aet = ?, received = ?, spooled = TRUE, content_sha256 = NULL"
            + " WHERE sop_uid = ?";
    private static final String BACK_IN_SPOOL = "UPDATE node_instance SET spooled = TRUE, content_sha256 = NULL,"
            + " path = ? WHERE sop_uid = ?";
    private static final String SOP_UIDS = "SELECT sop_uid FROM node_instance";
    private static final String OF_SERIES = "SELECT sop_uid, revision, path, spooled FROM node_instance "
            + "WHERE study_uid = ? AND series_uid = ? ORDER BY sop_uid";
    private static final String SPOOLED_OF_STUDY = "SELECT path FROM node_instance WHERE study_uid = ? AND spooled"
            + " ORDER BY series_uid, sop_uid";
    private static final String SPOOLED_OF_SERIES = "SELECT sop_uid, revision, path FROM node_instance"
            + " WHERE study_uid = ? AND series_uid = ? AND spooled";
    private static final String REMOVED = "UPDATE node_instance SET spooled = FALSE,"
            + " content_sha256 = ? WHERE sop_uid = ? AND revision = ? AND spooled";

    private final NodeDatabase database;

    public InstanceRepository(NodeDatabase database) {
        this.database = database;
    }

    /** The row of {@code sopInstanceUid}, or null when it was never received. */
    static Recorded find(NodeDatabase.Statements c, String sopInstanceUid) throws SQLException {
        PreparedStatement s = c.prepare(FIND);
        s.setString(1, sopInstanceUid);
        try (ResultSet r = s.executeQuery()) {
            return r.next() ? new Recorded(Path.of(r.getString(1)), r.getInt(2), r.getBoolean(3), r.getString(4))
                    : null;
        }
    }

    /**
     * Writes {@code rows} in their order: a replacement at once, the new rows as one statement
     * batch after them. {@code now} is the batch's one time of receipt, shared by its statements.
     */
    static void write(NodeDatabase.Statements c, List<Row> rows, Timestamp now) throws SQLException {
        PreparedStatement insert = null;
        for (Row row : rows) {
            ReceivedInstance instance = row.instance();
            if (row.previous() == null) {
                if (insert == null) {
                    insert = c.prepare(INSERT);
                }
                insert.setString(1, instance.sopInstanceUid());
                insert.setString(2, row.series().studyInstanceUid());
                insert.setString(3, row.series().seriesInstanceUid());
                insert.setString(4, instance.sopClassUid());
                insert.setString(5, instance.transferSyntaxUid());
                insert.setString(6, row.path().toString());
                insert.setLong(7, instance.bytes());
                insert.setInt(8, 1);
                insert.setString(9, instance.callingAeTitle());
                insert.setTimestamp(10, now);
                insert.addBatch();
            } else {
                PreparedStatement s = c.prepare(REPLACE);
                s.setString(1, instance.transferSyntaxUid());
                s.setString(2, row.path().toString());
                s.setLong(3, instance.bytes());
                s.setInt(4, row.previous().revision() + 1);
                s.setString(5, instance.callingAeTitle());
                s.setTimestamp(6, now);
                s.setString(7, instance.sopInstanceUid());
                s.executeUpdate();
            }
        }
        if (insert != null) {
            insert.executeBatch();
        }
    }

    /**
     * An instance retention removed is back in the spool at {@code path} with the same bytes: its
     * revision stays (the series' input is unchanged).
     */
    static void backInSpool(NodeDatabase.Statements c, String sopInstanceUid, Path path) throws SQLException {
        PreparedStatement s = c.prepare(BACK_IN_SPOOL);
        s.setString(1, path.toString());
        s.setString(2, sopInstanceUid);
        s.executeUpdate();
    }

    /** The SOP Instance UID of every row, in a new set the caller may change. */
    public Set<String> sopInstanceUids() throws TriageException {
        return database.transaction(c -> {
            Set<String> uids = new HashSet<>();
            try (PreparedStatement s = c.prepareStatement(SOP_UIDS);
                 ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    uids.add(r.getString(1));
                }
            }
            return uids;
        });
    }

    /** The instances of {@code series}, spooled or not, ordered by SOP Instance UID. */
    public List<Instance> ofSeries(SeriesKey series) throws TriageException {
        return database.transaction(c -> {
            List<Instance> list = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement(OF_SERIES)) {
                s.setString(1, series.studyInstanceUid());
                s.setString(2, series.seriesInstanceUid());
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        list.add(new Instance(r.getString(1), r.getInt(2), Path.of(r.getString(3)), r.getBoolean(4)));
                    }
                }
            }
            return list;
        });
    }

    /** The files of the study's spooled instances, ordered by series, then SOP Instance UID. */
    public static List<Path> spooledFilesOfStudy(Connection c, String studyInstanceUid) throws SQLException {
        List<Path> files = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(SPOOLED_OF_STUDY)) {
            s.setString(1, studyInstanceUid);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    files.add(Path.of(r.getString(1)));
                }
            }
        }
        return files;
    }

    /** The instances of {@code series} whose files are in the spool. */
    public List<Spooled> spooled(SeriesKey series) throws TriageException {
        return database.transaction(c -> {
            List<Spooled> list = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement(SPOOLED_OF_SERIES)) {
                s.setString(1, series.studyInstanceUid());
                s.setString(2, series.seriesInstanceUid());
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        list.add(new Spooled(r.getString(1), r.getInt(2), Path.of(r.getString(3))));
                    }
                }
            }
            return list;
        });
    }

    /**
     * Records that the files of {@code rows} were removed from the spool, each with the SHA-256 of
     * its bytes ({@code sha256s}, same order; null for a file already gone).
     *
     * @throws SQLException also when a row is no longer that revision in the spool (an instance
     *     received meanwhile): the caller's transaction must not commit
     */
    public static void removedFromSpool(Connection c, List<Spooled> rows, List<String> sha256s) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(REMOVED)) {
            for (int i = 0; i < rows.size(); i++) {
                s.setString(1, sha256s.get(i));
                s.setString(2, rows.get(i).sopInstanceUid());
                s.setInt(3, rows.get(i).revision());
                if (s.executeUpdate() != 1) {
                    throw new SQLException("instance " + rows.get(i).sopInstanceUid() + " changed meanwhile");
                }
            }
        }
    }

    /** Every instance the node has recorded (rows outlive retention) and their stored bytes: for metrics. */
    public record Totals(long instances, long bytes) {
    }

    /** See {@link Totals}. */
    public Totals totals() throws TriageException {
        return database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM node_instance");
                 ResultSet r = s.executeQuery()) {
                r.next();
                return new Totals(r.getLong(1), r.getLong(2));
            }
        });
    }
}

package org.cttriage.core.node;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.core.error.TriageException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transactional outbox of the multi-node mode: a message to the broker is a row written in the
 * transaction of the state change it announces ({@link #add}), so that the two cannot disagree; a
 * {@link #relay} sends the rows in order and deletes them. Delivery to the broker is at least once:
 * a relay that dies after sending and before its delete commits sends the rows again, so every
 * consumer must be idempotent (triage is, by its input hash; a delivery is, by its claim and state).
 * Several relays may run (one per node): each takes its rows with {@code FOR UPDATE SKIP LOCKED}
 * on PostgreSQL, so no row is sent by two of them at the same time.
 */
public final class Outbox {
    private static final Logger LOG = LoggerFactory.getLogger(Outbox.class);

    /** One message waiting for the broker. */
    public record Message(long id, String queue, String body, Instant created) {
    }

    /** Sends one message to the broker, returning only once the broker has it (a persistent, acknowledged send). */
    @FunctionalInterface
    public interface Publisher {
        void publish(String queue, String body) throws Exception;
    }

    private final NodeDatabase database;
    private final boolean skipLocked;
    /** Whether the last relay failed: an outage is logged when it starts and when it ends, not at every try. */
    private volatile boolean failing;

    /**
     * @param skipLocked whether the database supports {@code FOR UPDATE SKIP LOCKED} (PostgreSQL); without it
     *     (H2, the single node) only one relay may run
     */
    public Outbox(NodeDatabase database, boolean skipLocked) {
        this.database = database;
        this.skipLocked = skipLocked;
    }

    /** Queues {@code body} for {@code queue} inside the caller's transaction. */
    public static void add(Connection c, String queue, String body, Instant now) throws SQLException {
        if (queue.isEmpty() || queue.length() > 64 || body.length() > 1024) {
            throw new IllegalArgumentException("outbox queue 1..64 characters, message at most 1024");
        }
        try (PreparedStatement s = c.prepareStatement("INSERT INTO node_outbox (queue, message, created) VALUES (?, ?, ?)")) {
            s.setString(1, queue);
            s.setString(2, body);
            s.setTimestamp(3, Timestamp.from(now));
            s.executeUpdate();
        }
    }

    /** How many messages wait and since when the oldest does (empty: none). */
    public record Backlog(int messages, java.util.Optional<Instant> oldest) {
    }

    /** The messages waiting for the broker (metrics: a backlog that grows means the broker is unreachable). */
    public Backlog backlog() throws TriageException {
        return database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT COUNT(*), MIN(created) FROM node_outbox");
                 ResultSet r = s.executeQuery()) {
                r.next();
                return new Backlog(r.getInt(1), java.util.Optional.ofNullable(r.getTimestamp(2)).map(Timestamp::toInstant));
            }
        });
    }

    /** Messages not yet sent, oldest first (for status and tests). */
    public List<Message> waiting(int limit) throws TriageException {
        return database.transaction(c -> read(c, limit, false));
    }

    /**
     * Sends up to {@code limit} waiting messages, oldest first, and deletes each one sent, in one
     * transaction that holds their rows. A failed send stops the batch: the rows sent before it are
     * deleted, it and the rest stay for the next relay.
     *
     * @return how many were sent
     */
    public int relay(Publisher publisher, int limit) throws TriageException {
        return database.transaction(c -> {
            List<Message> batch = read(c, limit, true);
            List<Long> sent = new ArrayList<>();
            try {
                for (Message m : batch) {
                    publisher.publish(m.queue(), m.body());
                    sent.add(m.id());
                }
                if (failing) {
                    failing = false;
                    LOG.info("outbox: the broker takes messages again");
                }
            } catch (Exception e) {
                if (!failing) {
                    failing = true;
                    LOG.warn("{} outbox: sending to the broker failed after {} of {} messages; they wait in the outbox"
                            + " and are sent when it is back: {}", ErrorCode.BROKER_UNAVAILABLE.code(), sent.size(),
                            batch.size(), e.toString());
                } else {
                    LOG.debug("outbox: the broker is still unavailable: {}", e.toString());
                }
            }
            try (PreparedStatement s = c.prepareStatement("DELETE FROM node_outbox WHERE id = ?")) {
                for (long id : sent) {
                    s.setLong(1, id);
                    s.addBatch();
                }
                if (!sent.isEmpty()) {
                    s.executeBatch();
                }
            }
            return sent.size();
        });
    }

    private List<Message> read(Connection c, int limit, boolean lock) throws SQLException {
        String sql = "SELECT id, queue, message, created FROM node_outbox ORDER BY id FETCH FIRST " + Math.max(1, limit)
                + " ROWS ONLY" + (lock ? skipLocked ? " FOR UPDATE SKIP LOCKED" : " FOR UPDATE" : "");
        List<Message> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(sql); ResultSet r = s.executeQuery()) {
            while (r.next()) {
                out.add(new Message(r.getLong(1), r.getString(2), r.getString(3), r.getTimestamp(4).toInstant()));
            }
        }
        return out;
    }
}

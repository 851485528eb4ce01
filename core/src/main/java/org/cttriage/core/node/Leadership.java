package org.cttriage.core.node;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.cttriage.core.error.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which node of a cluster runs the singleton duties (study-complete detection, the pending sweeps,
 * spool retention, overdue checks): the one holding a PostgreSQL session-level advisory lock. Every
 * node tries to take it every {@code every}; the holder checks each time that its session is still
 * alive. The lock belongs to a database session, so a leader that dies, or whose connection breaks,
 * loses it as soon as PostgreSQL notices the session ended (at once for a killed process: the
 * kernel closes its socket), and another node takes it at its next try: a dead leader is replaced
 * within {@code every} plus the time PostgreSQL takes to notice. A leader that cannot reach the
 * database steps down at once (its duties would fail anyway), so two leaders never act at the same
 * time for longer than one check.
 */
public final class Leadership implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Leadership.class);
    /** The advisory lock's key: "ct-triage" in ASCII, so it does not collide with another application's. */
    public static final long LOCK_KEY = 0x63742d747269L;

    private final DataSource dataSource;
    private final String node;
    private final Consumer<Boolean> onChange;
    private final ScheduledExecutorService timer;
    private Connection session;
    private volatile boolean leader;

    /**
     * Starts trying at once.
     *
     * @param node this node's name, for the log
     * @param onChange told {@code true} when this node becomes the leader and {@code false} when it stops being
     *     it (on the leadership thread; keep it short)
     */
    public Leadership(DataSource dataSource, String node, Duration every, Consumer<Boolean> onChange) {
        this.dataSource = dataSource;
        this.node = node;
        this.onChange = onChange;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "leadership");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::check, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Whether this node holds the lock now. */
    public boolean isLeader() {
        return leader;
    }

    private synchronized void check() {
        try {
            if (leader) {
                try (PreparedStatement s = session.prepareStatement("SELECT 1")) {
                    s.setQueryTimeout(5);
                    s.executeQuery().close();
                }
                return;
            }
            if (session == null || session.isClosed()) {
                session = dataSource.getConnection();
                session.setAutoCommit(true);
            }
            try (PreparedStatement s = session.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
                s.setLong(1, LOCK_KEY);
                try (ResultSet r = s.executeQuery()) {
                    if (r.next() && r.getBoolean(1)) {
                        change(true);
                    }
                }
            }
        } catch (SQLException | RuntimeException e) {
            if (leader) {
                LOG.warn("{} node {} steps down as leader: its database session failed ({})",
                        ErrorCode.NODE_DATABASE_FAILED.code(), node, e.getMessage());
                change(false);
            } else {
                LOG.debug("leadership try failed: {}", e.toString());
            }
            closeSession();
        }
    }

    private void change(boolean now) {
        leader = now;
        LOG.info("node {} {} the leader (singleton duties)", node, now ? "is now" : "is no longer");
        try {
            onChange.accept(now);
        } catch (RuntimeException e) {
            LOG.error("leadership change handler failed: {}", e.toString(), e);
        }
    }

    private void closeSession() {
        if (session != null) {
            try {
                session.close(); // ends the session: PostgreSQL releases the lock, if it still held it
            } catch (SQLException e) {
                LOG.debug("closing the leadership session: {}", e.toString());
            }
            session = null;
        }
    }

    /** Gives the lock up (closing its session) and stops trying. */
    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            if (leader) {
                change(false);
            }
            closeSession();
        }
    }
}

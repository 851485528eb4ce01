package org.cttriage.core.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.cttriage.testdata.junit.Eventually;
import org.cttriage.testdata.junit.PostgresServer;
import org.cttriage.testdata.junit.RequiresTools;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The singleton duties' leader on a real PostgreSQL: exactly one of several nodes leads; when it stops, or its
 * database session is killed under it, another takes over within a few tries and the old one knows it lost.
 */
@Tag("interop")
@RequiresTools(PostgresServer.BIN + "/pg_ctl")
class LeadershipTest {
    private static final Duration EVERY = Duration.ofMillis(200);
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path postgresDir;

    @Test
    void exactlyOneLeadsAndAnotherTakesOverWhenItStopsOrItsSessionDies() throws Exception {
        try (PostgresDatabases postgres = new PostgresDatabases(postgresDir)) {
            leadsAlone(postgres.create());
        }
    }

    private void leadsAlone(NodeDatabase database) throws Exception {
        List<String> changes = new CopyOnWriteArrayList<>();
        Leadership a = new Leadership(database.dataSource(), "a", EVERY, l -> changes.add("a " + l));
        Leadership b = new Leadership(database.dataSource(), "b", EVERY, l -> changes.add("b " + l));
        Leadership c = new Leadership(database.dataSource(), "c", EVERY, l -> changes.add("c " + l));
        try {
            List<Leadership> all = List.of(a, b, c);
            Eventually.await(WAIT, "a leader", () -> all.stream().filter(Leadership::isLeader).count(), n -> n == 1);
            Thread.sleep(EVERY.toMillis() * 5);
            assertThat(all.stream().filter(Leadership::isLeader).count()).as("still exactly one").isEqualTo(1);
            Leadership first = all.stream().filter(Leadership::isLeader).findFirst().orElseThrow();

            // The leader's database session is killed (a broken connection, a failed-over database).
            try (Connection admin = database.dataSource().getConnection();
                 PreparedStatement s = admin.prepareStatement("SELECT pg_terminate_backend(pid) FROM pg_locks"
                         + " WHERE locktype = 'advisory' AND classid::bigint = ? AND objid::bigint = ? AND granted")) {
                s.setLong(1, Leadership.LOCK_KEY >>> 32);
                s.setLong(2, Leadership.LOCK_KEY & 0xFFFFFFFFL);
                s.executeQuery().close();
            }
            Eventually.await(WAIT, "the old leader steps down", first::isLeader, l -> !l);
            Eventually.await(WAIT, "one leader again", () -> all.stream().filter(Leadership::isLeader).count(),
                    n -> n == 1);

            // The leader stops (a node shut down or killed: its session ends either way).
            Leadership second = all.stream().filter(Leadership::isLeader).findFirst().orElseThrow();
            second.close();
            Eventually.await(WAIT, "a third leader", () -> all.stream().filter(l -> l != second)
                    .filter(Leadership::isLeader).count(), n -> n == 1);
            assertThat(second.isLeader()).isFalse();
            assertThat(changes).filteredOn(x -> x.endsWith("true")).hasSizeGreaterThanOrEqualTo(3);
        } finally {
            a.close();
            b.close();
            c.close();
        }
    }
}

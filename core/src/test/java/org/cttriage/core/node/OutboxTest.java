package org.cttriage.core.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.cttriage.core.error.TriageException;
import org.cttriage.testdata.junit.PostgresServer;
import org.cttriage.testdata.junit.RequiresTools;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transactional outbox: a message exists exactly when the transaction that wrote it committed; the relay
 * sends in order, deletes what it sent, keeps what it could not; two relays on PostgreSQL never send the same row.
 */
@Tag("interop")
@RequiresTools(PostgresServer.BIN + "/pg_ctl")
class OutboxTest {
    private static final Instant NOW = Instant.parse("2026-12-04T09:00:00Z");
    private static final AtomicInteger DATABASES = new AtomicInteger();
    @TempDir
    static Path postgresDir;
    private static PostgresDatabases postgres;

    @TempDir
    Path dir;

    @AfterAll
    static void stopPostgres() throws Exception {
        if (postgres != null) {
            postgres.close();
        }
    }

    private NodeDatabase h2() throws Exception {
        return TestDatabases.migratedH2(dir.resolve("outbox" + DATABASES.incrementAndGet()));
    }

    @Test
    void aMessageExistsExactlyWhenItsTransactionCommitted() throws Exception {
        NodeDatabase database = h2();
        database.transaction(c -> {
            Outbox.add(c, "ct-triage.triage", "study 1.2.3", NOW);
            return null;
        });
        assertThatThrownBy(() -> database.transaction(c -> {
            Outbox.add(c, "ct-triage.triage", "study 1.2.4", NOW);
            throw new java.sql.SQLException("the state change failed");
        })).isInstanceOf(TriageException.class);
        assertThat(new Outbox(database, false).waiting(10)).extracting(Outbox.Message::body).containsExactly("study 1.2.3");
        assertThatThrownBy(() -> database.transaction(c -> {
            Outbox.add(c, "", "x", NOW);
            return null;
        })).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theRelaySendsInOrderDeletesWhatWasSentAndKeepsTheRestWhenTheBrokerFails() throws Exception {
        NodeDatabase database = h2();
        database.transaction(c -> {
            for (int i = 1; i <= 5; i++) {
                Outbox.add(c, i % 2 == 0 ? "ct-triage.delivery" : "ct-triage.triage", "m" + i, NOW);
            }
            return null;
        });
        Outbox outbox = new Outbox(database, false);
        List<String> broker = new ArrayList<>();
        // The broker takes two messages, then goes away.
        int sent = outbox.relay((queue, body) -> {
            if (broker.size() == 2) {
                throw new java.io.IOException("connection refused");
            }
            broker.add(queue + ":" + body);
        }, 10);
        assertThat(sent).isEqualTo(2);
        assertThat(broker).containsExactly("ct-triage.triage:m1", "ct-triage.delivery:m2");
        assertThat(outbox.waiting(10)).extracting(Outbox.Message::body).containsExactly("m3", "m4", "m5");
        // Back: the rest, in order, and nothing twice.
        assertThat(outbox.relay((queue, body) -> broker.add(queue + ":" + body), 2)).isEqualTo(2);
        assertThat(outbox.relay((queue, body) -> broker.add(queue + ":" + body), 2)).isEqualTo(1);
        assertThat(outbox.relay((queue, body) -> broker.add(queue + ":" + body), 2)).isZero();
        assertThat(broker).containsExactly("ct-triage.triage:m1", "ct-triage.delivery:m2", "ct-triage.triage:m3",
                "ct-triage.delivery:m4", "ct-triage.triage:m5");
    }

    @Test
    void twoRelaysOnPostgresqlNeverSendTheSameRow() throws Exception {
        postgres = new PostgresDatabases(postgresDir);
        NodeDatabase database = postgres.create();
        int messages = 200;
        database.transaction(c -> {
            for (int i = 0; i < messages; i++) {
                Outbox.add(c, "ct-triage.triage", "m" + i, NOW);
            }
            return null;
        });
        List<String> received = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch bothIn = new CountDownLatch(2);
        ExecutorService relays = Executors.newFixedThreadPool(2);
        try {
            List<Future<Integer>> counts = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                Outbox outbox = new Outbox(database, true);
                counts.add(relays.submit(() -> {
                    int total = 0;
                    boolean first = true;
                    int n;
                    do {
                        boolean wait = first;
                        first = false;
                        n = outbox.relay((queue, body) -> {
                            if (wait) { // hold the first batch's rows until the other relay is in too
                                bothIn.countDown();
                                bothIn.await(10, TimeUnit.SECONDS);
                            }
                            received.add(body);
                        }, 10);
                        total += n;
                    } while (n > 0);
                    return total;
                }));
            }
            int a = counts.get(0).get(60, TimeUnit.SECONDS);
            int b = counts.get(1).get(60, TimeUnit.SECONDS);
            assertThat(a + b).isEqualTo(messages);
            assertThat(a).as("both relays worked at once").isPositive();
            assertThat(b).isPositive();
        } finally {
            relays.shutdownNow();
        }
        assertThat(received).hasSize(messages).doesNotHaveDuplicates();
        assertThat(new Outbox(database, true).waiting(10)).isEmpty();
    }
}

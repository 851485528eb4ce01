package org.cttriage.core.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.cttriage.core.error.ErrorCode;
import org.cttriage.testdata.junit.Eventually;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The delivery model without Camel: {@link DeliveryScheduler} and {@link DeliveryLedger} over the node's H2
 * schema, with exporters scripted per destination and time on a manual clock. Checks the state machine
 * (delivered, retried after the back-off or the destination's Retry-After, dead when rejected or out of
 * attempts, retried or discarded by an operator, superseded), that a failing destination never holds up another
 * one, and that claims keep a delivery from being attempted twice.
 */
class DeliverySchedulerTest {
    private static final RetryPolicy POLICY = new RetryPolicy(3, Duration.ofSeconds(2), 2.0, Duration.ofSeconds(30));

    @TempDir
    Path dir;

    private final ManualClock clock = new ManualClock(Instant.parse("2026-12-03T10:00:00Z"));
    private NodeDatabase database;
    private DeliveryLedger ledger;
    private DeliveryScheduler scheduler;

    @BeforeEach
    void setUp() throws Exception {
        database = TestDatabases.migratedH2(dir);
        ledger = new DeliveryLedger(database, clock);
    }

    @AfterEach
    void tearDown() {
        if (scheduler != null) {
            scheduler.close();
        }
    }

    @Test
    void aDeliveredAttemptEndsTheDelivery() throws Exception {
        Scripted pacs = new Scripted(() -> new Exporter.Attempt.Delivered("stored"));
        start(lane("pacs", pacs));
        long id = result("1.2.3", "pacs").get(0);

        dispatchAndWait(pacs, 1);

        DeliveryLedger.Delivery d = ledger.find(id);
        assertThat(d.state()).isEqualTo(DeliveryState.DELIVERED);
        assertThat(d.attempts()).isEqualTo(1);
        assertThat(d.nextAttempt()).isNull();
        assertThat(claimed(id)).isNull();
    }

    @Test
    void aRetryIsDueAfterTheBackOffAndAnOutOfAttemptsDeliveryIsDead() throws Exception {
        Scripted pacs = new Scripted(() -> new Exporter.Attempt.Retry("TRIAGE-0610 connection refused", null));
        start(lane("pacs", pacs));
        long id = result("1.2.3", "pacs").get(0);

        dispatchAndWait(pacs, 1);
        assertThat(ledger.find(id).state()).isEqualTo(DeliveryState.PENDING);
        assertThat(ledger.find(id).nextAttempt()).isEqualTo(clock.instant().plusSeconds(2));
        assertThat(ledger.due(clock.instant(), 10)).as("not due before its back-off").isEmpty();

        clock.advance(Duration.ofSeconds(2));
        dispatchAndWait(pacs, 2);
        assertThat(ledger.find(id).nextAttempt()).as("the back-off doubles").isEqualTo(clock.instant().plusSeconds(4));

        clock.advance(Duration.ofSeconds(4));
        dispatchAndWait(pacs, 3);
        DeliveryLedger.Delivery dead = ledger.find(id);
        assertThat(dead.state()).isEqualTo(DeliveryState.DEAD);
        assertThat(dead.attempts()).isEqualTo(3);
        assertThat(dead.lastError()).isEqualTo("TRIAGE-0610 connection refused");
        assertThat(ledger.due(clock.instant().plusSeconds(3600), 10)).isEmpty();
    }

    @Test
    void theDestinationsRetryAfterReplacesTheBackOffCappedByThePolicy() throws Exception {
        List<Duration> afters = new ArrayList<>(List.of(Duration.ofSeconds(7), Duration.ofHours(1)));
        Scripted fhir = new Scripted(() -> new Exporter.Attempt.Retry("TRIAGE-0501 HTTP 503", afters.remove(0)));
        start(lane("fhir", fhir));
        long id = result("1.2.3", "fhir").get(0);

        dispatchAndWait(fhir, 1);
        assertThat(ledger.find(id).nextAttempt()).isEqualTo(clock.instant().plusSeconds(7));
        clock.advance(Duration.ofSeconds(7));
        dispatchAndWait(fhir, 2);
        assertThat(ledger.find(id).nextAttempt()).as("capped by the policy's longest wait")
                .isEqualTo(clock.instant().plusSeconds(30));
    }

    @Test
    void aRejectionIsDeadAtOnceAndAnOperatorCanRetryOrDiscardIt() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        Scripted fhir = new Scripted(() -> calls.incrementAndGet() == 1
                ? new Exporter.Attempt.Rejected("TRIAGE-0502 the FHIR server refused the bundle: HTTP 422")
                : new Exporter.Attempt.Delivered("ok"));
        start(lane("fhir", fhir));
        List<Long> ids = result("1.2.3", "fhir");
        long other = result("1.2.4", "fhir").get(0);

        dispatchAndWait(fhir, 2);
        assertThat(ledger.find(ids.get(0)).state()).isEqualTo(DeliveryState.DEAD);
        assertThat(ledger.find(ids.get(0)).attempts()).isEqualTo(1);
        assertThat(ledger.inState(DeliveryState.DEAD)).extracting(DeliveryLedger.Delivery::id)
                .containsExactly(ids.get(0));

        assertThat(ledger.retry(ids.get(0))).isTrue();
        // The scheduler may attempt the retried delivery at once (it is due), so its count is read after
        // the attempt: a retry starts the count again (1, not 2).
        dispatchAndWait(fhir, 3);
        assertThat(ledger.find(ids.get(0)).state()).isEqualTo(DeliveryState.DELIVERED);
        assertThat(ledger.find(ids.get(0)).attempts()).as("a retry starts the attempt count again").isEqualTo(1);

        assertThat(ledger.retry(other)).as("not dead: nothing to retry").isFalse();
        assertThat(ledger.discard(ids.get(0))).as("delivered: nothing to discard").isFalse();
    }

    @Test
    void aDiscardedDeadLetterIsNeverSent() throws Exception {
        Scripted pacs = new Scripted(() -> new Exporter.Attempt.Rejected("TRIAGE-0610 gone"));
        start(lane("pacs", pacs));
        long id = result("1.2.3", "pacs").get(0);
        dispatchAndWait(pacs, 1);

        assertThat(ledger.discard(id)).isTrue();

        assertThat(ledger.find(id).state()).isEqualTo(DeliveryState.DISCARDED);
        assertThat(ledger.retry(id)).isFalse();
        assertThat(scheduler.dispatchDue()).isZero();
    }

    @Test
    void oneDestinationsOutageDoesNotDelayAnother() throws Exception {
        CountDownLatch fhirHangs = new CountDownLatch(1);
        Scripted fhir = new Scripted(() -> {
            try {
                // A server that neither answers nor refuses: the attempt lasts until its timeout.
                fhirHangs.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new Exporter.Attempt.Retry("TRIAGE-0501 no answer: Read timed out", null);
        });
        Scripted pacs = new Scripted(() -> new Exporter.Attempt.Delivered("stored"));
        start(lane("fhir", fhir), lane("pacs", pacs));
        List<Long> first = result("1.2.3", "fhir", "pacs");
        List<Long> second = result("1.2.4", "fhir", "pacs");
        try {
            scheduler.dispatchDue();
            pacs.awaitCalls(2);
            // The exporter has answered; the lane records the answer just after.
            for (long id : List.of(first.get(1), second.get(1))) {
                Eventually.await(Duration.ofSeconds(10), "delivery " + id + " recorded", () -> ledger.find(id).state(),
                        s -> s == DeliveryState.DELIVERED);
            }
            assertThat(ledger.find(first.get(0)).state()).isEqualTo(DeliveryState.PENDING);
        } finally {
            fhirHangs.countDown();
        }
        fhir.awaitCalls(2);
    }

    @Test
    void aDeliveryWhoseResultWasSupersededBeforeItsTurnIsNotSent() throws Exception {
        Scripted pacs = new Scripted(() -> new Exporter.Attempt.Delivered("stored"));
        start(lane("pacs", pacs));
        long old = result("1.2.3", "pacs").get(0);
        long newer = result("1.2.3", "pacs").get(0);
        supersede(old, newer);

        dispatchAndWait(pacs, 1);
        awaitState(old, DeliveryState.SUPERSEDED);

        assertThat(pacs.sent).containsExactly(newer);
        assertThat(ledger.find(newer).state()).isEqualTo(DeliveryState.DELIVERED);
    }

    @Test
    void aClaimedDeliveryIsNotDueUntilItsClaimIsReleasedOrRunsOut() throws Exception {
        long id = result("1.2.3", "pacs").get(0);
        assertThat(ledger.claim(id, clock.instant().plus(DeliveryLedger.CLAIM))).isTrue();
        assertThat(ledger.claim(id, clock.instant().plus(DeliveryLedger.CLAIM))).as("taken").isFalse();
        assertThat(ledger.due(clock.instant(), 10)).isEmpty();

        assertThat(ledger.due(clock.instant().plus(DeliveryLedger.CLAIM), 10)).as("a claim runs out by itself")
                .extracting(DeliveryLedger.Delivery::id).containsExactly(id);
        assertThat(ledger.releaseClaims()).isEqualTo(1);
        assertThat(ledger.due(clock.instant(), 10)).extracting(DeliveryLedger.Delivery::id).containsExactly(id);
    }

    @Test
    void aDeliveryFromTheBrokersQueueIsAttemptedOnceAndOnlyWhenItIsThisNodesToAttemptNow() throws Exception {
        Scripted pacs = new Scripted(() -> new Exporter.Attempt.Delivered("stored"));
        start(lane("pacs", pacs));
        long id = result("1.2.3", "pacs").get(0);
        long claimedElsewhere = result("1.2.4", "pacs").get(0);
        assertThat(ledger.claim(claimedElsewhere, clock.instant().plus(DeliveryLedger.CLAIM))).isTrue();

        assertThat(scheduler.dispatch(id)).isTrue();
        pacs.awaitCalls(1);
        awaitState(id, DeliveryState.DELIVERED);
        assertThat(scheduler.dispatch(id)).as("a redelivered message: already done").isFalse();
        assertThat(scheduler.dispatch(claimedElsewhere)).as("another worker's claim").isFalse();
        assertThat(scheduler.dispatch(987654)).as("no such delivery").isFalse();
        assertThat(pacs.sent).containsExactly(id);
    }

    @Test
    void anExporterThatThrowsIsRetriedAndADeliveryToAnUnknownDestinationIsDead() throws Exception {
        Scripted pacs = new Scripted(() -> {
            throw new IllegalStateException("boom");
        });
        start(lane("pacs", pacs));
        long thrown = result("1.2.3", "pacs").get(0);
        long orphan = result("1.2.4", "old-pacs").get(0);

        dispatchAndWait(pacs, 1);

        assertThat(ledger.find(thrown).state()).isEqualTo(DeliveryState.PENDING);
        assertThat(ledger.find(thrown).lastError()).contains("boom");
        assertThat(ledger.find(orphan).state()).isEqualTo(DeliveryState.DEAD);
        assertThat(ledger.find(orphan).lastError()).startsWith(ErrorCode.CONFIGURATION_INVALID.code())
                .contains("old-pacs");
    }

    @Test
    void theWaitGrowsByTheMultiplierUpToTheMaximum() {
        assertThat(POLICY.backoff(1, null)).isEqualTo(Duration.ofSeconds(2));
        assertThat(POLICY.backoff(2, null)).isEqualTo(Duration.ofSeconds(4));
        assertThat(POLICY.backoff(5, null)).isEqualTo(Duration.ofSeconds(30));
        assertThat(POLICY.backoff(1, Duration.ofSeconds(-5))).isEqualTo(Duration.ZERO);
    }

    private void start(DeliveryScheduler.Lane... lanes) {
        scheduler = new DeliveryScheduler(ledger, List.of(lanes), clock);
    }

    private static DeliveryScheduler.Lane lane(String name, Exporter exporter) {
        return new DeliveryScheduler.Lane(name, exporter, POLICY);
    }

    /** Dispatches, then waits until the exporter has made {@code calls} attempts in all and the ledger has them. */
    private void dispatchAndWait(Scripted exporter, int calls) throws Exception {
        scheduler.dispatchDue();
        exporter.awaitCalls(calls);
        awaitUnclaimed();
    }

    private void awaitUnclaimed() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (database.transaction(c -> {
                try (Statement s = c.createStatement();
                        ResultSet r = s.executeQuery("SELECT COUNT(*) FROM node_delivery WHERE claimed_until IS NOT NULL")) {
                    r.next();
                    return r.getInt(1) == 0;
                }
            })) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("a delivery stayed claimed: " + database.transaction(c -> {
            StringBuilder b = new StringBuilder();
            try (Statement s = c.createStatement();
                    ResultSet r = s.executeQuery("SELECT id, state, attempts, next_attempt, claimed_until FROM node_delivery")) {
                while (r.next()) {
                    b.append(r.getLong(1)).append(' ').append(r.getString(2)).append(' ').append(r.getInt(3)).append(' ')
                            .append(r.getTimestamp(4)).append(' ').append(r.getTimestamp(5)).append("; ");
                }
            }
            return b.toString();
        }));
    }

    private void awaitState(long id, DeliveryState state) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (ledger.find(id).state() != state) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("delivery " + id + " never became " + state);
            }
            Thread.sleep(10);
        }
    }

    private Timestamp claimed(long id) throws Exception {
        return database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT claimed_until FROM node_delivery WHERE id = ?")) {
                s.setLong(1, id);
                try (ResultSet r = s.executeQuery()) {
                    r.next();
                    return r.getTimestamp(1);
                }
            }
        });
    }

    private final AtomicInteger results = new AtomicInteger();

    /** A result of study {@code study} owed to {@code destinations}, recorded as SeriesTriage records one. */
    private List<Long> result(String study, String... destinations) throws Exception {
        int n = results.incrementAndGet();
        return database.transaction(c -> {
            long id;
            try (PreparedStatement s = c.prepareStatement("INSERT INTO node_result (study_uid, series_uid, input_hash, "
                    + "sr_sop_uid, sr_path, result_json, priority, created) VALUES (?, ?, ?, ?, ?, '{}', 'routine', ?)",
                    Statement.RETURN_GENERATED_KEYS)) {
                s.setString(1, study);
                s.setString(2, study + ".1");
                s.setString(3, "hash-" + n);
                s.setString(4, "2.25." + n);
                s.setString(5, dir.resolve(n + ".dcm").toString());
                s.setTimestamp(6, Timestamp.from(clock.instant()));
                s.executeUpdate();
                try (ResultSet keys = s.getGeneratedKeys()) {
                    keys.next();
                    id = keys.getLong(1);
                }
            }
            return DeliveryLedger.owe(c, id, List.of(destinations), clock.instant());
        });
    }

    private void supersede(long oldDelivery, long newDelivery) throws Exception {
        long oldResult = ledger.find(oldDelivery).resultId();
        long newResult = ledger.find(newDelivery).resultId();
        database.transaction(c -> {
            try (PreparedStatement s = c.prepareStatement("UPDATE node_result SET superseded_by = ? WHERE id = ?")) {
                s.setLong(1, newResult);
                s.setLong(2, oldResult);
                return s.executeUpdate();
            }
        });
    }

    /** An exporter answering from a script, recording the deliveries it was given. */
    private static final class Scripted implements Exporter {
        final List<Long> sent = Collections.synchronizedList(new ArrayList<>());
        private final Supplier<Attempt> answer;
        private final AtomicInteger calls = new AtomicInteger();

        Scripted(Supplier<Attempt> answer) {
            this.answer = answer;
        }

        @Override
        public Attempt attempt(DeliveryLedger.Delivery delivery) {
            sent.add(delivery.id());
            try {
                return answer.get();
            } finally {
                synchronized (calls) {
                    calls.incrementAndGet();
                    calls.notifyAll();
                }
            }
        }

        void awaitCalls(int n) throws InterruptedException {
            long deadline = System.currentTimeMillis() + 30_000;
            synchronized (calls) {
                while (calls.get() < n) {
                    long left = deadline - System.currentTimeMillis();
                    if (left <= 0) {
                        throw new AssertionError("exporter called " + calls.get() + " times, expected " + n);
                    }
                    calls.wait(left);
                }
            }
        }
    }

    /** A clock the test moves. */
    static final class ManualClock extends Clock {
        private volatile Instant now;

        ManualClock(Instant start) {
            this.now = start;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}

package org.cttriage.core.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.cttriage.core.node.DeliveryLedger.Summary;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link DeliveryLedger#ofResults}, the operators' view of a study's deliveries, on the node's H2
 * schema; the ledger's state machine is {@link DeliverySchedulerTest}'s.
 */
class DeliveryLedgerTest {
    private static final Instant T0 = Instant.parse("2026-11-02T08:00:00Z");

    @TempDir
    Path dir;

    private NodeDatabase database;
    private DeliveryLedger ledger;

    @BeforeEach
    void setUp() throws Exception {
        database = TestDatabases.migratedH2(dir);
        ledger = new DeliveryLedger(database, Clock.fixed(T0, ZoneOffset.UTC));
    }

    @Test
    void eachResultsDeliveriesAreListedOldestFirst() throws Exception {
        long owed = result("h1");
        long none = result("h2");
        List<Long> deliveries = database.transaction(c -> DeliveryLedger.owe(c, owed, List.of("PACS", "FHIR"), T0));
        ledger.dead(deliveries.get(1), "TRIAGE-0000 refused");

        Map<Long, List<Summary>> found = database.transaction(c -> DeliveryLedger.ofResults(c, List.of(none, owed)));

        assertThat(found).containsOnlyKeys(none, owed);
        assertThat(found.keySet()).containsExactly(none, owed);
        assertThat(found.get(none)).isEmpty();
        assertThat(found.get(owed)).containsExactly(
                new Summary(deliveries.get(0), "PACS", DeliveryState.PENDING.name(), 0, null),
                new Summary(deliveries.get(1), "FHIR", DeliveryState.DEAD.name(), 0, "TRIAGE-0000 refused"));
    }

    private long result(String hash) throws Exception {
        return database.transaction(c -> ResultRepository.insert(c, new ResultRepository.NewResult(
                new SeriesKey("1.2.3", "1.2.3.1"), hash, "2.25." + hash.length(), dir.resolve(hash + ".dcm"), "{}",
                "routine", T0, null)));
    }
}

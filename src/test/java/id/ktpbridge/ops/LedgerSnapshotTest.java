package id.ktpbridge.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.NewInput;
import id.ktpbridge.ledger.SchemaMigrator;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.result.DeliveryStore;
import id.ktpbridge.testkit.ManualClock;
import org.apache.camel.impl.DefaultCamelContext;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.Test;

class LedgerSnapshotTest {

    @Test
    void openInputsAreCountedAtEachReadingAndEndedOnesOnlyAsOftenAsConfigured() throws Exception {
        JdbcConnectionPool ds = migratedDatabase();
        try (DefaultCamelContext context = new DefaultCamelContext()) {
            Ledger ledger = new Ledger(ds);
            ManualClock clock = new ManualClock(System.currentTimeMillis());
            LedgerSnapshot snapshot = new LedgerSnapshot(context, ledger, new DeliveryStore(ds),
                    Duration.ofMillis(10), Duration.ofSeconds(5), clock);
            insert(ledger, SubmissionState.DELIVERED);
            snapshot.refresh();
            assertEquals(Map.of("DELIVERED", 1), snapshot.values().states());

            insert(ledger, SubmissionState.DELIVERED);
            insert(ledger, SubmissionState.CONFIRMED);
            snapshot.refresh();
            assertEquals(Map.of("DELIVERED", 1, "CONFIRMED", 1), snapshot.values().states(),
                    "the open input at once, the ended one at the next count of ended rows");
            assertEquals(1, snapshot.values().open());

            clock.advance(Duration.ofMillis(4_999));
            snapshot.refresh();
            assertEquals(Map.of("DELIVERED", 1, "CONFIRMED", 1), snapshot.values().states(),
                    "ended rows are not counted again before ended-refresh has passed");

            clock.advance(Duration.ofMillis(1));
            snapshot.refresh();
            assertEquals(Map.of("DELIVERED", 2, "CONFIRMED", 1), snapshot.values().states());
        } finally {
            ds.dispose();
        }
    }

    @Test
    void aSlowReadingThatAnswersKeepsTheLedgerHealthy() throws Exception {
        JdbcConnectionPool ds = migratedDatabase();
        try (DefaultCamelContext context = new DefaultCamelContext()) {
            ManualClock clock = new ManualClock(System.currentTimeMillis());
            // each reading takes 15 s (a large ledger under load), within the 20 s the health allows
            Ledger slow = new Ledger(ds) {
                @Override
                public long[] pollBacklog(long now, boolean callbacksOnly, long firstLookAfter) {
                    clock.advance(Duration.ofSeconds(15));
                    return super.pollBacklog(now, callbacksOnly, firstLookAfter);
                }
            };
            LedgerSnapshot snapshot = new LedgerSnapshot(context, slow, new DeliveryStore(ds), Duration.ofSeconds(5),
                    Duration.ofMinutes(1), clock);
            snapshot.refresh();
            // the next reading begins 5 s after this one ended, and is under way now
            clock.advance(Duration.ofSeconds(6));
            assertNull(snapshot.problem(), "it answered 6 s ago");
            clock.advance(Duration.ofSeconds(15));
            assertTrue(snapshot.problem().startsWith("ledger database has not answered for 21 s"), snapshot.problem());
        } finally {
            ds.dispose();
        }
    }

    private static JdbcConnectionPool migratedDatabase() {
        JdbcConnectionPool ds = JdbcConnectionPool.create("jdbc:h2:mem:snapshot-" + UUID.randomUUID()
                + ";DB_CLOSE_DELAY=-1", "sa", "");
        SchemaMigrator.migrate(ds);
        return ds;
    }

    private static void insert(Ledger ledger, SubmissionState state) {
        String id = UUID.randomUUID().toString();
        ledger.insert(new NewInput(id, "file", "file:/x/" + id, id + ".png", "ab", 1L, "image/png", "P", "u", "T",
                UUID.randomUUID().toString(), UUID.randomUUID().toString(), null), state);
    }
}

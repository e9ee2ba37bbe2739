package id.ktpbridge.result;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import id.ktpbridge.ledger.SchemaMigrator;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DeliveryStoreTest {

    private JdbcConnectionPool ds;
    private DeliveryStore store;

    @BeforeEach
    void setUp() {
        ds = JdbcConnectionPool.create("jdbc:h2:mem:deliveries-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "");
        SchemaMigrator.migrate(ds);
        store = new DeliveryStore(ds);
    }

    @AfterEach
    void tearDown() throws Exception {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("SHUTDOWN");
        }
        ds.dispose();
    }

    @Test
    void aResultIsQueuedOncePerTarget() {
        assertEquals(List.of("file", "http"), store.enqueue("ledger-1", List.of("file", "http"), 60_000));
        assertEquals(List.of(), store.enqueue("ledger-1", List.of("file", "http"), 60_000),
                "queued again (a re-published result): the existing rows stay as they are");
        assertEquals(2, store.pendingCount());
    }

    @Test
    void deliveriesLeasedByAKilledRunAreDueAgainOnceReleased() {
        long now = System.currentTimeMillis();
        store.enqueue("ledger-1", List.of("file"), 120_000);
        assertTrue(store.takeDue(now, FILE, 60_000).isEmpty(), "leased to the run that queued it");

        assertEquals(1, store.releaseLeases(now));

        assertEquals(Optional.of(new DeliveryStore.Due("ledger-1", "file", 0)), store.takeDue(now, FILE, 60_000));
        store.delivered("ledger-1", "file");
        assertEquals(0, store.pendingCount());
        assertEquals(0, store.releaseLeases(now), "a delivered row is not touched");
    }

    @Test
    void dueRowsAreLeasedOneAtATimeMostOverdueFirst() {
        long now = System.currentTimeMillis();
        for (String id : List.of("ledger-1", "ledger-2", "ledger-3")) {
            store.enqueue(id, List.of("file"), 0);
            store.release(id, "file", now - ("ledger-2".equals(id) ? 5_000 : 1_000));
        }
        assertEquals("ledger-2", store.takeDue(now, FILE, 60_000).orElseThrow().ledgerId());
        // the two others stay due: a slow attempt of the first cannot run their leases down
        assertEquals(2, List.of(store.takeDue(now, FILE, 60_000), store.takeDue(now, FILE, 60_000)).stream()
                .filter(Optional::isPresent).count());
        assertTrue(store.takeDue(now, FILE, 60_000).isEmpty(), "all three are leased now");
    }

    @Test
    void aLateRefusalDoesNotUndoADelivery() {
        store.enqueue("ledger-1", List.of("http"), 0);
        store.delivered("ledger-1", "http");
        store.refused("ledger-1", "http", "HTTP 400");
        assertEquals(DeliveryStore.DELIVERED, store.state("ledger-1", "http"));
    }

    @Test
    void aLeaseIsRenewedOnlyByItsHolderWhileItHoldsIt() {
        long queuedAt = System.currentTimeMillis();
        store.enqueue("ledger-1", List.of("file"), 1_000);
        // an upper bound of the queuing lease, taken after the queuing as the outbox does
        long heldUntil = System.currentTimeMillis() + 1_000;
        assertTrue(store.renewLease("ledger-1", "file", heldUntil, queuedAt + 500, 1_000), "still held: renewed");

        // the holder stalls past its renewed lease; the retry schedule takes the row
        long takenAt = queuedAt + 500 + 1_000 + 1;
        assertTrue(store.takeDue(takenAt, FILE, 60_000).isPresent());

        assertFalse(store.renewLease("ledger-1", "file", queuedAt + 500 + 1_000, takenAt + 10, 1_000),
                "the first holder's lease ended; the row is another's now and must not be attempted twice");
        assertTrue(store.takeDue(takenAt + 30_000, FILE, 60_000).isEmpty(), "the taker's lease is unchanged");
    }

    @Test
    void rowsOfATargetNoLongerConfiguredAreNotTakenNorCounted() {
        store.enqueue("ledger-1", List.of("file", "s3"), 0);
        long now = System.currentTimeMillis() + 1;
        assertEquals(1, store.pendingCount(FILE));
        assertEquals(Map.of("s3", 1), store.pendingOutside(FILE));
        assertEquals("file", store.takeDue(now, FILE, 60_000).orElseThrow().target());
        assertTrue(store.takeDue(now, FILE, 60_000).isEmpty(), "the s3 row is left alone");
    }

    @Test
    void refusalsAreCountedFromAGivenTime() {
        long before = System.currentTimeMillis();
        store.enqueue("ledger-1", List.of("http"), 0);
        store.refused("ledger-1", "http", "HTTP 422");
        assertEquals(1, store.refusedSince(before));
        assertEquals(0, store.refusedSince(System.currentTimeMillis() + 1_000));
    }

    @Test
    void aTargetsDueRowsAreFoundThroughAnIndexThatStartsWithTheTarget() throws Exception {
        // another target's backlog: read through the index on (state, next_attempt_at), a pass
        // would walk all of it to find its own rows
        for (int i = 0; i < 50; i++) {
            store.enqueue("ledger-" + i, List.of("http"), 0);
        }
        store.enqueue("ledger-file", List.of("file"), 0);
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("ANALYZE"); // the statistics H2 gathers by itself once a table has had 2000 rows changed
        }
        try (Connection c = ds.getConnection();
             java.sql.PreparedStatement ps = c.prepareStatement("EXPLAIN " + DeliveryStore.dueQuery(1))) {
            ps.setString(1, DeliveryStore.PENDING);
            ps.setLong(2, System.currentTimeMillis());
            ps.setString(3, "file");
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                String plan = rs.getString(1);
                assertTrue(plan.contains("IX_KTP_DELIVERY_TARGET_DUE"), plan);
            }
        }
        assertEquals("ledger-file", store.takeDue(System.currentTimeMillis() + 1, FILE, 60_000).orElseThrow().ledgerId());
    }

    private static final List<String> FILE = List.of("file");
}

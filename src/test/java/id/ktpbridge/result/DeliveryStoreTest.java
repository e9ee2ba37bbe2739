package id.ktpbridge.result;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
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
        assertTrue(store.takeDue(now, 10, 60_000).isEmpty(), "leased to the run that queued it");

        assertEquals(1, store.releaseLeases(now));

        List<DeliveryStore.Due> due = store.takeDue(now, 10, 60_000);
        assertEquals(List.of(new DeliveryStore.Due("ledger-1", "file", 0)), due);
        store.delivered("ledger-1", "file");
        assertEquals(0, store.pendingCount());
        assertEquals(0, store.releaseLeases(now), "a delivered row is not touched");
    }
}

package id.ktpbridge.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.UUID;

import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.Test;

class LeasesTest {

    @Test
    void oneHolderAtATimeUntilTheLeaseRunsOut() throws Exception {
        JdbcConnectionPool ds = JdbcConnectionPool.create("jdbc:h2:mem:leases-" + UUID.randomUUID()
                + ";DB_CLOSE_DELAY=-1", "sa", "");
        try {
            SchemaMigrator.migrate(ds);
            Leases a = new Leases(ds, "node-a");
            Leases b = new Leases(ds, "node-b");
            // times to live long enough for a slow machine's first statements, short enough to wait out
            assertTrue(a.tryHold("poll-tick", 1_500));
            assertFalse(b.tryHold("poll-tick", 1_500), "held by a");
            assertTrue(a.tryHold("poll-tick", 1_500), "the holder renews");
            assertTrue(b.tryHold("other", 1_500), "names are independent");
            Thread.sleep(1_600);
            assertTrue(b.tryHold("poll-tick", 1_500), "a's lease ran out");
            assertFalse(a.tryHold("poll-tick", 1_500));
        } finally {
            ds.dispose();
        }
    }

    @Test
    void claimsExpireUnlessConfirmed() throws Exception {
        JdbcConnectionPool ds = JdbcConnectionPool.create("jdbc:h2:mem:claims-" + UUID.randomUUID()
                + ";DB_CLOSE_DELAY=-1", "sa", "");
        try {
            SchemaMigrator.migrate(ds);
            LedgerIdempotentRepository node1 = new LedgerIdempotentRepository(ds, "file", 1_500, "node1");
            LedgerIdempotentRepository node2 = new LedgerIdempotentRepository(ds, "file", 1_500, "node2");
            assertTrue(node1.add("/in/a.png"));
            assertTrue(node1.add("/in/b.png"));
            assertFalse(node2.add("/in/a.png"), "claimed by node1");
            assertFalse(node2.remove("/in/a.png"), "only the owner drops a claim");
            assertFalse(node2.add("/in/a.png"), "still claimed by node1");
            node1.confirm("/in/b.png");
            Thread.sleep(1_600);
            assertTrue(node2.add("/in/a.png"), "node1's unconfirmed claim expired");
            assertFalse(node2.add("/in/b.png"), "a confirmed key is remembered for good");
            assertTrue(node2.contains("/in/b.png"));
            assertTrue(node1.releaseClaims() >= 1, "unconfirmed claims can be released at once");
            assertTrue(node1.contains("/in/b.png"));

            // an input under way longer than the time to live: its live holder renews the claim
            assertTrue(node1.add("/in/slow.png"));
            for (int i = 0; i < 4; i++) {
                Thread.sleep(750);
                assertEquals(1, node1.renewClaims());
            }
            assertFalse(node2.add("/in/slow.png"), "renewed: still node1's after twice the time to live");
            Thread.sleep(1_600);
            assertTrue(node2.add("/in/slow.png"), "no longer renewed (node1 died): taken over");
        } finally {
            ds.dispose();
        }
    }
}

package id.ktpbridge.ledger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.PostgresServer;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Instances without cluster mode keep to themselves on a PostgreSQL ledger, and no two live instances share an id. */
class InstanceLockTest {

    private static PostgresServer pg;
    private static int databases;
    private static int instances;

    @TempDir
    Path dataDir;

    @BeforeAll
    static void startPostgres() throws Exception {
        pg = PostgresServer.start();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        pg.close();
    }

    private static String newDatabase() throws Exception {
        return pg.createDatabase("ktp_lock_" + (++databases));
    }

    @Test
    void theExclusiveAndTheSharedSideKeepEachOtherOut() throws Exception {
        String url = newDatabase();
        try (InstanceLock single = InstanceLock.take(url, "postgres", "", "test-" + (++instances), false)) {
            assertTrue(message(() -> InstanceLock.take(url, "postgres", "", "test-" + (++instances), false))
                    .startsWith("Another instance is using this ledger database"));
            assertTrue(message(() -> InstanceLock.take(url, "postgres", "", "test-" + (++instances), true))
                    .startsWith("An instance without cluster mode is using this ledger database"));
        }
        try (InstanceLock first = InstanceLock.take(url, "postgres", "", "test-" + (++instances), true);
             InstanceLock second = InstanceLock.take(url, "postgres", "", "test-" + (++instances), true)) {
            assertTrue(first.stillHeld());
            assertTrue(second.stillHeld());
            assertTrue(message(() -> InstanceLock.take(url, "postgres", "", "test-" + (++instances), false))
                    .startsWith("Another instance is using this ledger database"));
        }
        // every holder gone: the exclusive side is free again
        InstanceLock.take(url, "postgres", "", "test-" + (++instances), false).close();
    }

    @Test
    void aLockLetGoIsFreeForTheNextTakerAtOnce() throws Exception {
        String url = newDatabase();
        InstanceLock stopping = InstanceLock.take(url, "postgres", "", "test-" + (++instances), false);
        // a session with much to clean up ends a while after its client has gone, and until then
        // the server keeps its locks: the instance started right after this one must not wait for it
        try (Statement st = stopping.session().createStatement()) {
            // one lock each, well inside the server's lock table (64 per connection by default)
            st.execute("DO $$ BEGIN FOR i IN 1..2000 LOOP"
                    + " EXECUTE format('CREATE TEMP TABLE scratch_%s (id int)', i);"
                    + " END LOOP; END $$");
        }
        stopping.close();
        InstanceLock.take(url, "postgres", "", "test-" + (++instances), false).close();
    }

    @Test
    void deploymentsInOtherSchemasOfOneDatabaseDoNotMeet() throws Exception {
        String url = newDatabase();
        try (Connection c = DriverManager.getConnection(url, "postgres", "")) {
            c.createStatement().execute("CREATE SCHEMA team_a");
            c.createStatement().execute("CREATE SCHEMA team_b");
        }
        try (InstanceLock a = InstanceLock.take(url + "?currentSchema=team_a", "postgres", "", "test-" + (++instances), false);
             InstanceLock b = InstanceLock.take(url + "?currentSchema=team_b", "postgres", "", "test-" + (++instances), false)) {
            assertTrue(a.stillHeld());
            assertTrue(b.stillHeld());
        }
    }

    @Test
    void aRefusalNamesTheHolderAndNoPassword() throws Exception {
        String url = newDatabase();
        try (InstanceLock single = InstanceLock.take(url, "postgres", "", "host-7-1a2b3c4d", false)) {
            String refused = message(() -> InstanceLock.take(url + "?password=hunter2", "postgres", "", "x", false));
            assertTrue(refused.contains("held by ktp-scan-bridge host-7-1a2b3c4d"), refused);
            assertFalse(refused.contains("hunter2"), refused);
        }
    }

    @Test
    void itsOwnEarlierSessionThatTheServerStillKeepsIsEndedAndTheLockTakenAgain() throws Exception {
        String url = newDatabase();
        try (InstanceLock lock = InstanceLock.take(url, "postgres", "", "test-own", false);
             Connection lost = lock.detachSession()) {
            assertThrows(java.sql.SQLException.class, lock::stillHeld, "its old session held it: ended, not lost");
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(lock::stillHeld);
            assertTrue(lost.isClosed() || !lost.isValid(2), "the old session was ended");
        }
    }

    @Test
    void aLockLostWithItsSessionIsTakenAgainUnlessAnotherInstanceHasItNow() throws Exception {
        String url = newDatabase();
        try (InstanceLock lock = InstanceLock.take(url, "postgres", "", "test-" + (++instances), false)) {
            assertEquals(1, endLockSessions(url));
            assertTrue(lock.stillHeld(), "nobody else holds it: taken again");
            assertEquals(1, endLockSessions(url), "held on a new session");

            try (InstanceLock other = InstanceLock.take(url, "postgres", "", "test-" + (++instances), false)) {
                assertFalse(lock.stillHeld(), "another instance took it while this one had no session");
                assertFalse(lock.stillHeld());
                assertTrue(other.stillHeld());
            }
        }
    }

    @Test
    void aSecondInstanceWithoutClusterModeIsRefusedAndOneThatLosesItsLockStops() throws Exception {
        String url = newDatabase();
        Map<String, String> props = Map.of("ktp.db.url", url, "ktp.db.user", "postgres",
                "ktp.db.instance-lock-check", "1000");
        try (BridgeApp first = BridgeApp.start(dataDir.resolve("a"), props)) {
            Results.drop(first.inbox(), "u9201.png", SampleImages.card("a", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(first.results()) == 1);

            String refused = BridgeApp.startupError(dataDir.resolve("b"), props);
            assertTrue(refused.contains("Another instance is using this ledger database"), refused);
            assertTrue(refused.contains("ktp.cluster.enabled=true"), refused);
            String refusedCluster = BridgeApp.startupError(dataDir.resolve("c"), Map.of("ktp.db.url", url,
                    "ktp.db.user", "postgres", "ktp.cluster.enabled", "true"));
            assertTrue(refusedCluster.contains("An instance without cluster mode is using this ledger database"),
                    refusedCluster);
            // the first one kept working
            Results.drop(first.inbox(), "u9202.png", SampleImages.card("b", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(first.results()) == 2);

            // its lock's session ends and another instance takes the lock before it can: it stops
            // (should its check come first and take the lock again, its session is ended again)
            InstanceLock other = null;
            for (int tries = 0; other == null && tries < 20; tries++) {
                assertEquals(1, endLockSessions(url));
                try {
                    other = InstanceLock.take(url, "postgres", "", "test-other", false);
                } catch (IllegalStateException retakenFirst) {
                    // next round
                }
            }
            try (InstanceLock held = other) {
                assertTrue(held != null && held.stillHeld());
                assertEquals(1, (int) first.exit().get(30, java.util.concurrent.TimeUnit.SECONDS));
            }
        }
        // and with nobody left, an instance starts again on the same ledger
        try (BridgeApp again = BridgeApp.start(dataDir.resolve("a"), props)) {
            assertEquals(2, again.ledger().createdSince(0).size());
        }
    }

    @Test
    void anIdHeldByALiveInstanceIsRefusedAndFreeOnceThatInstanceIsGone() throws Exception {
        String url = newDatabase();
        try (InstanceLock first = InstanceLock.take(url, "postgres", "", "twin", true)) {
            String refused = message(() -> InstanceLock.take(url, "postgres", "", "twin", true));
            assertTrue(refused.startsWith("Another running instance has this instance's id 'twin'"), refused);
            assertTrue(refused.contains("ktp.cluster.instance-id (KTP_CLUSTER_INSTANCE_ID)"), refused);
            assertTrue(refused.contains("held by ktp-scan-bridge twin from "), refused);
            // another id takes its shared lock beside it, and the refused one left none behind
            try (InstanceLock other = InstanceLock.take(url, "postgres", "", "twin-2", true)) {
                assertTrue(first.stillHeld());
                assertTrue(other.stillHeld());
            }
            // in another schema the id is another deployment's
            try (Connection c = DriverManager.getConnection(url, "postgres", "")) {
                c.createStatement().execute("CREATE SCHEMA team_b");
            }
            InstanceLock.take(url + "?currentSchema=team_b", "postgres", "", "twin", true).close();
        }
        // stopped: the same id starts again at once
        InstanceLock again = InstanceLock.take(url, "postgres", "", "twin", true);
        // killed: its connection cut without a goodbye, the server ends its session and the id is free
        again.detachSession().abort(Runnable::run);
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                .until(() -> {
                    InstanceLock.take(url, "postgres", "", "twin", true).close();
                    return true;
                });
    }

    @Test
    void itsOwnEarlierSessionHoldingItsIdIsEndedAndTheIdTakenAgain() throws Exception {
        String url = newDatabase();
        try (InstanceLock lock = InstanceLock.take(url, "postgres", "", "test-own-id", true);
             Connection lost = lock.detachSession()) {
            // the shared lock is taken again beside the old session, the id is not: not another instance
            assertThrows(java.sql.SQLException.class, lock::stillHeld, "its old session held the id: ended");
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(lock::stillHeld);
            assertTrue(lost.isClosed() || !lost.isValid(2), "the old session was ended");
        }
    }

    @Test
    void anIdTakenByAnotherInstanceWhileTheSessionWasLostStopsThisOne() throws Exception {
        String url = newDatabase();
        try (InstanceLock lock = InstanceLock.take(url, "postgres", "", "twin", true)) {
            assertEquals(1, endLockSessions(url));
            assertTrue(lock.stillHeld(), "nobody else has the id: taken again");
            assertEquals(1, endLockSessions(url));
            try (InstanceLock other = InstanceLock.take(url, "postgres", "", "twin", true)) {
                assertFalse(lock.stillHeld(), "another instance took the id while this one had no session");
                assertTrue(lock.refusal().startsWith("Another running instance has this instance's id"),
                        lock.refusal());
                assertTrue(other.stillHeld());
            }
        }
    }

    @Test
    void aSecondInstanceUnderTheSameIdIsRefusedUntilTheFirstHasStopped() throws Exception {
        String url = newDatabase();
        Map<String, String> props = Map.of("ktp.db.url", url, "ktp.db.user", "postgres",
                "ktp.cluster.enabled", "true", "ktp.cluster.instance-id", "pod-config-map",
                "ktp.db.instance-lock-check", "200");
        try (BridgeApp first = BridgeApp.start(dataDir.resolve("a"), props)) {
            String refused = BridgeApp.startupError(dataDir.resolve("b"), props);
            assertTrue(refused.contains("Another running instance has this instance's id 'pod-config-map'"), refused);
            assertTrue(refused.contains("ktp.cluster.instance-id (KTP_CLUSTER_INSTANCE_ID)"), refused);
            // its own pool's sessions, busy with an input, are not taken for another holder of the id
            Results.drop(first.inbox(), "u9211.png", SampleImages.card("a", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(first.results()) == 1);
            Thread.sleep(1_000);
            assertFalse(first.exit().isDone(), "the first one still runs");
        }
        try (BridgeApp again = BridgeApp.start(dataDir.resolve("b"), props)) {
            assertEquals(1, again.ledger().createdSince(0).size());
        }
    }

    @Test
    void theLockCanBeTurnedOff() throws Exception {
        String url = newDatabase();
        Map<String, String> props = Map.of("ktp.db.url", url, "ktp.db.user", "postgres",
                "ktp.db.instance-lock", "false");
        try (InstanceLock other = InstanceLock.take(url, "postgres", "", "test-" + (++instances), false);
             BridgeApp app = BridgeApp.start(dataDir, props)) {
            assertTrue(other.stillHeld());
        }
    }

    /** Ends the sessions holding the bundle's advisory lock, as a database restart would; returns how many. */
    private static int endLockSessions(String url) throws Exception {
        try (Connection c = DriverManager.getConnection(url, "postgres", "");
             Statement st = c.createStatement();
             // waits up to 5 s for each session to end
             ResultSet rs = st.executeQuery("SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_locks"
                     + " WHERE locktype = 'advisory' AND classid = " + InstanceLock.KEY_CLASS + " AND granted"
                     + " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static String message(org.junit.jupiter.api.function.Executable start) {
        return assertThrows(IllegalStateException.class, start).getMessage();
    }
}

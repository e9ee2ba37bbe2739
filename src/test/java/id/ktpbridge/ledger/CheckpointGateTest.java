package id.ktpbridge.ledger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gate between H2 checkpoints and statements: no starved pool, no flush waiting for itself, no way around it. */
class CheckpointGateTest {

    @TempDir
    Path dir;

    private DataSources.Pool pool;

    @BeforeEach
    void start() throws Exception {
        // two connections, as a busy pool: every one of them held by a worker
        pool = DataSources.create("jdbc:h2:file:" + dir.resolve("db"), "sa", "", 2, "gate-test");
        try (Connection c = pool.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE t (id INT PRIMARY KEY, v INT)");
        }
    }

    @AfterEach
    void stop() throws Exception {
        pool.closer().close();
    }

    @Test
    void aFlushWaitsForAConnectionBeforeItHoldsStatementsBack() throws Exception {
        DurableFlush flush = DurableFlush.of(pool.dataSource());
        HikariPoolMXBean hikari = pool.dataSource().unwrap(HikariDataSource.class).getHikariPoolMXBean();
        CountDownLatch bothHoldOne = new CountDownLatch(2);
        CountDownLatch flushWaiting = new CountDownLatch(1);
        ExecutorService workers = Executors.newFixedThreadPool(3);
        try {
            Future<?>[] done = new Future<?>[2];
            for (int w = 0; w < 2; w++) {
                int id = w;
                done[w] = workers.submit(() -> {
                    try (Connection c = pool.dataSource().getConnection()) {
                        update(c, "INSERT INTO t VALUES (" + id + ", 0)");
                        bothHoldOne.countDown();
                        // between two statements, holding the pool's connection, until the flush waits for one
                        assertTrue(flushWaiting.await(30, TimeUnit.SECONDS), "the flush never waited");
                        update(c, "UPDATE t SET v = 1 WHERE id = " + id);
                    }
                    return null;
                });
            }
            assertTrue(bothHoldOne.await(30, TimeUnit.SECONDS), "the workers did not get the pool's connections");
            flush.written(flush.beginWrite());
            Future<?> flushed = workers.submit(flush::flush);
            // the pool is empty, so the flush must be waiting for a connection
            await().atMost(Duration.ofSeconds(30)).until(() -> hikari.getThreadsAwaitingConnection() == 1);
            flushWaiting.countDown();
            // had the flush held statements back before it had a connection, both workers would wait
            // at the gate with the pool's two connections, and the flush would fail when the pool gives
            // up on it (10 s): it must end without an error, and the workers too
            flushed.get(60, TimeUnit.SECONDS);
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
            assertEquals(1, flush.checkpoints());
            try (Connection c = pool.dataSource().getConnection(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM t WHERE v = 1")) {
                assertTrue(rs.next());
                assertEquals(2, rs.getInt(1), "both workers' second statements ran");
            }
        } finally {
            workers.shutdownNow();
        }
    }

    @Test
    void aFlushFromInsideATransactionIsRefusedAtOnce() throws Exception {
        DurableFlush flush = DurableFlush.of(pool.dataSource());
        long began = flush.beginWrite();
        try (Connection c = pool.dataSource().getConnection()) {
            c.setAutoCommit(false);
            update(c, "INSERT INTO t VALUES (1, 0)");
            flush.written(began);
            // on this thread: the one holding the transaction open
            assertThrows(IllegalStateException.class, flush::flush, "it would wait for itself");
            c.commit();
        }
        flush.flush();
        assertEquals(1, flush.checkpoints(), "after the commit it flushes");
    }

    @Test
    void statementsHandTheGatedConnectionBack() throws Exception {
        try (Connection c = pool.dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT 1")) {
            assertSame(c, ps.getConnection(), "not the connection behind the gate");
            assertTrue(c.equals(c) && ps.equals(ps));
            try (Connection other = pool.dataSource().getConnection()) {
                assertNotEquals(c, other);
            }
        }
    }

    private static void update(Connection c, String sql) throws Exception {
        try (Statement st = c.createStatement()) {
            st.executeUpdate(sql);
        }
    }
}

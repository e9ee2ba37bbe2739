package id.ktpbridge.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stop that runs out of time interrupts the threads still working, some of them inside the
 * ledger's file reads and writes. That must cost no committed write and break no later statement
 * (see {@link H2FileUrls}).
 */
class InterruptedLedgerIoTest {

    private static final int INTERRUPTS = 200;
    private static final int WRITES = 1000;

    @TempDir
    Path dir;

    @Test
    void interruptsInTheMiddleOfLedgerIoLoseNoCommittedWrite() throws Exception {
        // a small page cache, so that reads of older rows go to the file
        String url = "jdbc:h2:file:" + dir.resolve("ledger").toString().replace('\\', '/') + ";CACHE_SIZE=64";
        DataSources.Pool pool = DataSources.create(url, "sa", "", 4, "interrupt-test");
        DurableFlush flush = DurableFlush.of(pool.dataSource());
        try (Connection c = pool.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE t (n INT PRIMARY KEY, pad VARCHAR(1000))");
        }
        AtomicInteger committed = new AtomicInteger();
        AtomicInteger interrupts = new AtomicInteger();
        AtomicInteger rounds = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicBoolean running = new AtomicBoolean(true);
        String pad = "p".repeat(600);

        Thread writer = new Thread(() -> {
            try (Connection c = pool.dataSource().getConnection();
                 PreparedStatement insert = c.prepareStatement("INSERT INTO t VALUES (?, ?)");
                 PreparedStatement read = c.prepareStatement("SELECT pad FROM t WHERE n = ?")) {
                for (int n = 0; running.get(); n++) {
                    if (Thread.interrupted()) {
                        interrupts.incrementAndGet();
                    }
                    rounds.incrementAndGet();
                    insert.setInt(1, n);
                    insert.setString(2, pad);
                    long began = flush.beginWrite();
                    insert.executeUpdate();
                    committed.set(n + 1);
                    flush.written(began);
                    read.setInt(1, ThreadLocalRandom.current().nextInt(n + 1));
                    try (ResultSet rs = read.executeQuery()) {
                        assertTrue(rs.next());
                    }
                }
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "interrupted-writer");
        Thread flusher = new Thread(() -> {
            while (running.get() && failure.get() == null) {
                try {
                    flush.flush();
                } catch (RuntimeException e) {
                    failure.compareAndSet(null, e);
                }
            }
        }, "flusher");
        writer.start();
        flusher.start();
        // a fixed number of interrupts, each at a random point of the writer's statements and the next
        // only once the writer has seen the last, so that none merges into another
        int lost = 0;
        for (int i = 0; i < INTERRUPTS && failure.get() == null && writer.isAlive(); i++) {
            LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(5_000_000));
            writer.interrupt();
            // read after the interrupt: the writer has looked at its flag again once this count is round + 2
            int round = rounds.get();
            while (interrupts.get() <= i - lost && rounds.get() < round + 2 && failure.get() == null
                    && writer.isAlive()) {
                LockSupport.parkNanos(50_000);
            }
            if (interrupts.get() <= i - lost) {
                lost++;
            }
        }
        running.set(false);
        writer.join(10_000);
        flusher.join(10_000);
        pool.closer().close();

        assertNull(failure.get(), () -> "a statement failed after an interrupt: " + failure.get());
        assertEquals(INTERRUPTS, interrupts.get(), "interrupts still pending after the statements they hit (" + lost + " lost)");
        DataSources.Pool reopened = DataSources.create(url, "sa", "", 1, "interrupt-test-reopened");
        try (Connection c = reopened.dataSource().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM t")) {
            rs.next();
            assertEquals(committed.get(), rs.getInt(1), "every committed row is in the file after the close");
        } finally {
            reopened.closer().close();
        }
    }

    @Test
    void aThreadWhoseInterruptFlagIsUpWritesWithoutFailureAndKeepsTheFlag() throws Exception {
        String url = "jdbc:h2:file:" + dir.resolve("ledger").toString().replace('\\', '/');
        DataSources.Pool pool = DataSources.create(url, "sa", "", 4, "flag-test");
        try (Connection c = pool.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE t (n INT PRIMARY KEY, pad VARCHAR(1000))");
        }
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicReference<Throwable> otherFailed = new AtomicReference<>();
        // two other sessions writing the same table, with checkpoints: the interrupted writer meets
        // H2's map locks held by them
        Thread[] others = new Thread[2];
        CountDownLatch othersWriting = new CountDownLatch(others.length);
        for (int o = 0; o < others.length; o++) {
            int first = -1 - o;
            others[o] = new Thread(() -> {
                try (Connection c = DriverManager.getConnection(H2FileUrls.forLedger(url), "sa", "");
                     PreparedStatement insert = c.prepareStatement("INSERT INTO t VALUES (?, 'o')");
                     Statement checkpoint = c.createStatement()) {
                    for (int n = first; running.get(); n -= others.length) {
                        insert.setInt(1, n);
                        insert.executeUpdate();
                        othersWriting.countDown();
                        checkpoint.execute("CHECKPOINT SYNC");
                    }
                } catch (Throwable e) {
                    otherFailed.set(e);
                }
            }, "other-session-" + o);
            others[o].start();
        }
        try (Connection c = pool.dataSource().getConnection();
             PreparedStatement insert = c.prepareStatement("INSERT INTO t VALUES (?, ?)")) {
            assertTrue(othersWriting.await(60, TimeUnit.SECONDS), "the other sessions write");
            for (int n = 0; n < WRITES; n++) {
                Thread.currentThread().interrupt();
                insert.setInt(1, n);
                insert.setString(2, "p".repeat(200));
                assertEquals(1, insert.executeUpdate());
                assertTrue(Thread.interrupted(), "the flag is up again after the write");
            }
        } finally {
            Thread.interrupted();
            running.set(false);
            for (Thread other : others) {
                other.join(10_000);
            }
            pool.closer().close();
        }
        assertNull(otherFailed.get(), () -> "another session failed: " + otherFailed.get());
        DataSources.Pool reopened = DataSources.create(url, "sa", "", 1, "flag-test-reopened");
        try (Connection c = reopened.dataSource().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM t WHERE n >= 0")) {
            rs.next();
            assertEquals(WRITES, rs.getInt(1), "every interrupted write is in the file");
        } finally {
            reopened.closer().close();
        }
    }
}

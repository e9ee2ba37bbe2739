package id.ktpbridge.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;

import javax.sql.DataSource;

import org.h2.api.ErrorCode;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DurableFlushTest {

    @TempDir
    Path dir;

    @Test
    void aFlushWithNothingNewWritesNothing() throws Exception {
        DataSources.Pool pool = DataSources.create("jdbc:h2:file:" + dir.resolve("db"), "sa", "", 4, "flush-test");
        try {
            DurableFlush flush = DurableFlush.of(pool.dataSource());
            flush.flush();
            assertEquals(0, flush.checkpoints(), "no write yet, nothing to flush");

            long began = flush.beginWrite();
            write(pool.dataSource(), 1);
            flush.written(began);
            flush.flush();
            flush.flush();
            assertEquals(1, flush.checkpoints(), "the second flush found its write already covered");
        } finally {
            pool.closer().close();
        }
    }

    @Test
    void oneCheckpointCoversTheWritesOfEveryThread() throws Exception {
        DataSources.Pool pool = DataSources.create("jdbc:h2:file:" + dir.resolve("db"), "sa", "", 16, "flush-test");
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            DurableFlush flush = DurableFlush.of(pool.dataSource());
            for (int n = 0; n < 8; n++) {
                long began = flush.beginWrite();
                write(pool.dataSource(), n);
                flush.written(began);
            }
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                done.add(threads.submit(() -> {
                    start.await();
                    flush.flush();
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get();
            }
            assertEquals(1, flush.checkpoints(), "the first flush covered all eight writes; the others waited for it");
        } finally {
            threads.shutdownNow();
            pool.closer().close();
        }
    }

    @Test
    void aWriteCountedOnlyAfterH2ClosedTheDatabaseIsLostToItsFlush() throws Exception {
        try (ClosingDatabase db = new ClosingDatabase(dir)) {
            Ledger ledger = new Ledger(db.gate);
            ledger.insert(LedgerTest.input("kept", "kept.png"), SubmissionState.RECEIVED);
            ledger.flush();

            // the insert's commit returns, then H2 closes the database (another thread meets it
            // closed first) before the insert is counted: counted after the closure, it is not in
            // the span of writes the closure lost, yet the closed database may have dropped it
            db.closeAfterNextWrite.set(true);
            ledger.insert(LedgerTest.input("lost", "lost.png"), SubmissionState.RECEIVED);
            assertFalse(db.closeAfterNextWrite.get(), "closed after the insert");
            LedgerException lost = assertThrows(LedgerException.class, ledger::flush,
                    "a checkpoint of the database opened anew does not hold the insert");
            assertTrue(lost.isStoreFailure() && lost.isTransient(), lost.getMessage());
            assertThrows(LedgerException.class, ledger::flush, "still lost when asked again");

            // a write made since is flushed as usual
            ledger.insert(LedgerTest.input("after", "after.png"), SubmissionState.RECEIVED);
            ledger.flush();
        }
    }

    @Test
    void aResultFoundStoredByItsRetryIsFlushedAfresh() throws Exception {
        try (ClosingDatabase db = new ClosingDatabase(dir)) {
            Ledger ledger = new Ledger(db.gate);
            ledger.insert(LedgerTest.input("res", "res.png"), SubmissionState.FAILED);
            ledger.flush();
            // the result's write is taken as lost for a closure around it, though it was made
            db.closeAfterNextWrite.set(true);
            assertTrue(ledger.recordResult("res", "FAILED", null, "TEST", 1L, "{}", c -> { }));
            assertThrows(LedgerException.class, ledger::flush);

            // its retry finds it stored and writes nothing: its flush is judged afresh, not failed for good
            assertFalse(ledger.recordResult("res", "FAILED", null, "TEST", 1L, "{}", c -> { }));
            ledger.flush();
        }
    }

    @Test
    void aWriteMadeElsewhereCountedOnlyAfterH2ClosedTheDatabaseIsLostToo() throws Exception {
        try (ClosingDatabase db = new ClosingDatabase(dir)) {
            // a results database of its own on H2, and the ledger's own database (the default)
            for (WriteFlush each : List.of(DurableFlush.afterEachWrite(db.gate),
                    new Ledger(db.gate).writesMadeElsewhere())) {
                long began = each.beginWrite();
                write(db.gate, 1);
                db.closure();
                LedgerException lost = assertThrows(LedgerException.class, () -> each.written(began));
                assertTrue(lost.isStoreFailure() && lost.isTransient(), lost.getMessage());

                long again = each.beginWrite();
                write(db.gate, 1);
                each.written(again);
            }
        }
    }

    @Test
    void aClosureWhileTheFlushWaitsForItsCheckpointLeavesTheWriteLost() throws Exception {
        try (ClosingDatabase db = new ClosingDatabase(dir)) {
            Ledger ledger = new Ledger(db.gate);
            ledger.insert(LedgerTest.input("lost", "lost.png"), SubmissionState.RECEIVED);
            // H2 closes the database once the flush found the insert not lost yet, and its checkpoint
            // then runs on the database the pool opened anew
            db.closeAtNextConnection.set(true);
            LedgerException lost = assertThrows(LedgerException.class, ledger::flush);
            assertFalse(db.closeAtNextConnection.get(), "closed at the checkpoint's connection");
            assertTrue(lost.isStoreFailure() && lost.isTransient(), lost.getMessage());
        }
    }

    private static void write(DataSource ds, int n) throws Exception {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS t (n INT PRIMARY KEY)");
            st.execute("MERGE INTO t KEY (n) VALUES (" + n + ")");
        }
    }

    /**
     * An H2 database behind a checkpoint gate, as the ledger's pool has it, whose closures the
     * test makes (as {@link ClosedDatabaseEviction} sees them) where it arms them: right after
     * the next update's commit, or at the next connection taken (a flush's checkpoint's). The
     * database itself stays open: what is checked is what the flush says of the writes.
     */
    private static final class ClosingDatabase implements AutoCloseable {

        final AtomicBoolean closeAfterNextWrite = new AtomicBoolean();
        final AtomicBoolean closeAtNextConnection = new AtomicBoolean();
        final CheckpointGate gate;
        private final ClosedDatabaseEviction eviction = new ClosedDatabaseEviction();
        private final Connection keptOpen;

        ClosingDatabase(Path dir) throws Exception {
            JdbcDataSource h2 = new JdbcDataSource();
            h2.setURL("jdbc:h2:file:" + dir.resolve("db"));
            h2.setUser("sa");
            keptOpen = h2.getConnection();
            DataSource hooked = proxy(DataSource.class, h2, (method, result) -> {
                if (!"getConnection".equals(method.getName())) {
                    return result;
                }
                if (closeAtNextConnection.getAndSet(false)) {
                    closure();
                }
                return proxy(Connection.class, result, (m, r) -> "prepareStatement".equals(m.getName())
                        ? proxy(PreparedStatement.class, r, (statementMethod, rows) -> {
                            if ("executeUpdate".equals(statementMethod.getName())
                                    && closeAfterNextWrite.getAndSet(false)) {
                                closure();
                            }
                            return rows;
                        })
                        : r);
            });
            SchemaMigrator.migrate(hooked);
            gate = new CheckpointGate(hooked, eviction);
        }

        /** H2 closed the database under the pool, as a statement that met it closed tells. */
        void closure() {
            eviction.adjudicate(new SQLException("Database is already closed", "90098", ErrorCode.DATABASE_IS_CLOSED));
        }

        @Override
        public void close() throws SQLException {
            keptOpen.close();
        }

        /** {@code target} as {@code type}, each call's result passed through {@code after}. */
        private static <T> T proxy(Class<T> type, Object target, BiFunction<Method, Object, Object> after) {
            return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (p, method, args) -> {
                Object result;
                try {
                    result = method.invoke(target, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
                return after.apply(method, result);
            }));
        }
    }
}

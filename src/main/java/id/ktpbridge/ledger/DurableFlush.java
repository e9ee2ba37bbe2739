package id.ktpbridge.ledger;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

import javax.sql.DataSource;

/**
 * Group commit for the embedded H2 ledger. H2 writes its commits to the file in the background
 * (every WRITE_DELAY ms); writing each commit at once (WRITE_DELAY=0) costs a file write per
 * statement, most of the bundle's CPU. Instead the ledger asks for a flush only where it matters
 * (before a step at OneKYC or a delivery that must not be repeated) and one {@code CHECKPOINT SYNC}
 * (write and fsync) covers every commit made before it, whichever thread made it: callers that
 * queued behind a flush that already covered their writes return without writing again. The
 * fsync makes those steps survive a power cut too, not only a killed process. The checkpoint
 * waits for statements in progress to end and holds new ones back meanwhile ({@link CheckpointGate}).
 * Once H2 has closed the database under the pool after a failed write, a caller whose write was
 * not flushed by then gets a {@linkplain LedgerException#isStoreFailure store failure}, not a
 * checkpoint of the database the pool opens anew, which no longer holds that write.
 */
public final class DurableFlush {

    private final DataSource dataSource;
    private final boolean needed;
    private final AtomicLong written = new AtomicLong();
    private final ReentrantLock lock = new ReentrantLock();
    private volatile long flushed;
    private final AtomicLong checkpoints = new AtomicLong();
    /** Writes made before H2 closed the database under the pool and not flushed by then: lost. */
    private volatile Lost lost = new Lost(0, 0);
    /** The number of the thread's last write (a caller flushes for writes of its own thread). */
    private final ThreadLocal<long[]> lastWrite = ThreadLocal.withInitial(() -> new long[1]);

    /** The writes numbered after {@code after} up to {@code upTo}. */
    private record Lost(long after, long upTo) {

        boolean holds(long write) {
            return write > after && write <= upTo;
        }
    }

    private DurableFlush(DataSource dataSource, boolean needed) {
        this.dataSource = dataSource;
        this.needed = needed;
        if (needed && dataSource instanceof CheckpointGate gate) {
            gate.onClosure(this::closed);
        }
    }

    /**
     * H2 closed the database (see {@link ClosedDatabaseEviction}), before the pool can open it
     * again: every write counted since the last flush is gone, and a flush of the database opened
     * anew would not bring it back. Spans of several closures are joined.
     */
    private synchronized void closed() {
        Lost was = lost;
        long from = flushed;
        lost = new Lost(was.upTo() > was.after() ? Math.min(was.after(), from) : from, written.get());
    }

    /** H2 keeps recent commits in memory; other databases (PostgreSQL) make each commit durable themselves. */
    static DurableFlush of(DataSource dataSource) {
        try (Connection c = dataSource.getConnection()) {
            return new DurableFlush(dataSource, "H2".equalsIgnoreCase(c.getMetaData().getDatabaseProductName()));
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    /**
     * For writes other than the ledger's (the JDBC target's rows, in a database of their own or the
     * ledger's): what to run after each committed write so that it is on disk when the caller goes
     * on, as the caller then records it as done in the ledger. A write H2 dropped when it closed the
     * database is a {@linkplain LedgerException#isStoreFailure store failure} here too, on a pool
     * of the bundle's ({@link DataSources}). Does nothing for a database that is durable at each commit.
     */
    public static Runnable afterEachWrite(DataSource dataSource) {
        DurableFlush f = of(dataSource);
        return () -> {
            f.written();
            f.flush();
        };
    }

    /** Called after each committed write. */
    void written() {
        lastWrite.get()[0] = written.incrementAndGet();
    }

    /** How many times the database was actually written (for tests: flushes share them). */
    long checkpoints() {
        return checkpoints.get();
    }

    private static void checkpoint(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CHECKPOINT SYNC");
        }
    }

    void flush() {
        if (!needed) {
            return;
        }
        if (dataSource instanceof CheckpointGate gate) {
            // before anything else: a flush from inside a transaction would wait for itself
            gate.requireNoOpenTransaction();
        }
        long mine = written.get();
        requireNotLost();
        if (flushed >= mine) {
            return;
        }
        lock.lock();
        try {
            if (flushed >= mine) {
                return;
            }
            long covered = written.get();
            try {
                if (dataSource instanceof CheckpointGate gate) {
                    gate.checkpoint(DurableFlush::checkpoint);
                } else {
                    try (Connection c = dataSource.getConnection()) {
                        checkpoint(c);
                    }
                }
            } catch (SQLException e) {
                throw new LedgerException(e);
            }
            checkpoints.incrementAndGet();
            flushed = covered;
        } finally {
            lock.unlock();
        }
    }

    /** The caller's last write was lost with a database H2 closed: a flush now would cover it up. */
    private void requireNotLost() {
        if (lost.holds(lastWrite.get()[0])) {
            throw lostWrite();
        }
    }

    private static LedgerException lostWrite() {
        return LedgerException.storeFailure("H2 closed the ledger's database after a failed write to its file before"
                + " this write was flushed: it may be lost");
    }
}

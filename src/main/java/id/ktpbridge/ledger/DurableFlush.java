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
 */
public final class DurableFlush {

    private final DataSource dataSource;
    private final boolean needed;
    private final AtomicLong written = new AtomicLong();
    private final ReentrantLock lock = new ReentrantLock();
    private volatile long flushed;
    private final AtomicLong checkpoints = new AtomicLong();

    private DurableFlush(DataSource dataSource, boolean needed) {
        this.dataSource = dataSource;
        this.needed = needed;
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
     * For a database other than the ledger's (an H2 results database of its own): what to run
     * after each committed write so that it is on disk when the caller goes on, as the caller then
     * records it as done in the ledger. Does nothing for a database that is durable at each commit.
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
        written.incrementAndGet();
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
}

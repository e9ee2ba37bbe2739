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
 * checkpoint of the database the pool opens anew, which no longer holds that write. A write is
 * counted after its commit, so one whose commit returned just before the closure can be counted
 * after it, out of the span of writes the closure lost: each write therefore reads the count of
 * closures before it starts ({@link #beginWrite}), and one that saw a closure by its counting is
 * taken as lost (wrongly at worst for one made on the database opened anew: its step is tried again).
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
    /** How many times H2 closed the database under the pool. */
    private volatile long closures;
    /** The thread's last write (a caller flushes for writes of its own thread). */
    private final ThreadLocal<LastWrite> lastWrite = ThreadLocal.withInitial(LastWrite::new);

    /** The writes numbered after {@code after} up to {@code upTo}. */
    private record Lost(long after, long upTo) {

        boolean holds(long write) {
            return write > after && write <= upTo;
        }
    }

    /** Its number, and whether H2 closed the database between its start and its counting. */
    private static final class LastWrite {
        long number;
        boolean closedMeanwhile;
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
     * anew would not bring it back. Spans of several closures are joined. The count of closures
     * goes up before the span is read: a write counted after that read sees it ({@link #written}).
     */
    private synchronized void closed() {
        closures++;
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
    public static WriteFlush afterEachWrite(DataSource dataSource) {
        return of(dataSource).eachWrite();
    }

    /** Each write made elsewhere on this database: counted with this group's writes and flushed at once. */
    WriteFlush eachWrite() {
        return new WriteFlush() {
            @Override
            public long beginWrite() {
                return DurableFlush.this.beginWrite();
            }

            @Override
            public void written(long began) {
                DurableFlush.this.written(began);
                flush();
            }
        };
    }

    /** Called before each write's statement or transaction starts (before it takes a connection). */
    long beginWrite() {
        return closures;
    }

    /** Called after each committed write, with what {@link #beginWrite} returned before it. */
    void written(long began) {
        LastWrite last = lastWrite.get();
        last.number = written.incrementAndGet();
        // read after the count: a closure whose span (read after its own count) missed this write shows here
        last.closedMeanwhile = closures != began;
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
        if (flushed < mine) {
            checkpointCovering(mine);
        }
        // again: H2 may have closed the database while this flush waited, and the checkpoint that
        // covered the write (this one or another thread's) been of the database opened anew
        requireNotLost();
    }

    private void checkpointCovering(long mine) {
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
        LastWrite last = lastWrite.get();
        if (last.closedMeanwhile || lost.holds(last.number)) {
            throw lostWrite();
        }
    }

    private static LedgerException lostWrite() {
        return LedgerException.storeFailure("H2 closed the ledger's database after a failed write to its file before"
                + " this write was flushed: it may be lost");
    }
}

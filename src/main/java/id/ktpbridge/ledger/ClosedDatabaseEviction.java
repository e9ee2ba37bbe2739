package id.ktpbridge.ledger;

import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import com.zaxxer.hikari.SQLExceptionOverride;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drops every connection of an embedded H2 pool once H2 has closed the database under them
 * ({@link H2StoreFailures#closed}: its file could not be written, a full disk say). HikariCP does
 * not take 90098 for a broken connection and H2's {@code isValid} still answers true, so the pool
 * kept the dead sessions and every ledger statement failed until a restart, however much space
 * was freed. New connections open the file again once no session of the closed database is left
 * (until then H2 refuses them as a file in use, and the pool tries again).
 *
 * <p>Not on the failed write itself: H2 does not close the database for every one, and while it
 * stays open it still holds the commits it could not write and writes them once it can; a
 * database whose last session is dropped closes, and those commits are gone.
 */
final class ClosedDatabaseEviction implements SQLExceptionOverride {

    private static final Logger LOG = LoggerFactory.getLogger(ClosedDatabaseEviction.class);
    private static final long WARN_EVERY_MILLIS = 60_000;

    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong warnedAt = new AtomicLong(Long.MIN_VALUE / 2);
    private volatile HikariDataSource pool;

    /** The pool whose connections go (set once it is built, before any statement). */
    void pool(HikariDataSource pool) {
        this.pool = pool;
    }

    /**
     * Runs {@code listener} each time a statement finds the database closed, before any new
     * connection can open it again: the writes made so far and not yet flushed are lost.
     */
    void onClosure(Runnable listener) {
        listeners.add(listener);
    }

    @java.lang.Override
    public SQLExceptionOverride.Override adjudicate(SQLException e) {
        if (!H2StoreFailures.closed(e)) {
            return SQLExceptionOverride.Override.CONTINUE_EVICT;
        }
        listeners.forEach(Runnable::run);
        HikariDataSource p = pool;
        HikariPoolMXBean connections = p == null ? null : p.getHikariPoolMXBean();
        if (connections != null) {
            // the idle ones at once, those in use as they are handed back
            connections.softEvictConnections();
        }
        long now = System.currentTimeMillis();
        long last = warnedAt.get();
        if (now - last >= WARN_EVERY_MILLIS && warnedAt.compareAndSet(last, now)) {
            LOG.warn("H2 closed the database of pool {} after a failed write to its file (a full disk, an I/O error):"
                    + " the commits it had not written yet are lost. Its connections are dropped and the file is"
                    + " opened again for the next statements", p == null ? "?" : p.getPoolName());
        }
        return SQLExceptionOverride.Override.MUST_EVICT;
    }
}

package id.ktpbridge.target;

import java.sql.SQLException;
import java.util.List;
import java.util.function.Supplier;

import javax.sql.DataSource;

import id.ktpbridge.ingest.FailureReport;
import id.ktpbridge.ledger.DataSources;
import id.ktpbridge.ledger.DurableFlush;
import id.ktpbridge.ledger.SchemaMigrator;
import id.ktpbridge.ledger.WriteFlush;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JDBC target's database, made ready for a write: its pool opened and its results table
 * brought up to date ({@code db/results}). A database of its own is opened at the first use that
 * reaches it, not before: one that cannot be reached when the bundle starts (down for maintenance)
 * only holds up the deliveries to it, which the outbox retries as it does for any target that is
 * down, and the first of them that reaches it migrates the table. {@link #checkAtStart} still
 * stops the start for what the database refuses as a setting (credentials, a database that does
 * not exist, an account that may not create or read the tables).
 */
public final class ResultsDatabase implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ResultsDatabase.class);

    private static final String HISTORY = "ktp_results_schema_version";
    private static final List<String> SCRIPTS = List.of("V1__results.sql");

    private final String setting;
    private final Supplier<DataSources.Pool> opener;
    /** The ledger's flush for the ledger's own database, else null (a flush of its own is made at the open). */
    private final WriteFlush ledgerFlush;
    private DataSources.Pool pool;
    private boolean closed;
    private volatile DataSource dataSource;
    private volatile WriteFlush durable = WriteFlush.NONE;
    private volatile boolean migrated;

    private ResultsDatabase(String setting, Supplier<DataSources.Pool> opener, WriteFlush ledgerFlush) {
        this.setting = setting;
        this.opener = opener;
        this.ledgerFlush = ledgerFlush;
    }

    /**
     * A database of its own ({@code ktp.results.jdbc.url}), opened by {@code opener} at its first
     * use. An H2 one is flushed to disk after each write: it writes commits in the background, and
     * the delivery is recorded as done in the ledger right after.
     */
    public static ResultsDatabase own(Supplier<DataSources.Pool> opener) {
        return new ResultsDatabase("ktp.results.jdbc.url", opener, null);
    }

    /**
     * The ledger's own database, open already. An H2 one is flushed after each write as well, in the
     * ledger's own flush group ({@code flushAfterWrite}, see {@code Ledger.writesMadeElsewhere}):
     * a kill loses the row only with the delivery's record made after it, which is then sent again;
     * but once H2 has closed the database after a failed write to its file, the pool opens the file
     * anew, and the record made there outlives a row the closed database dropped.
     */
    public static ResultsDatabase ledgers(DataSource ledger, WriteFlush flushAfterWrite) {
        return new ResultsDatabase("ktp.db.url", () -> new DataSources.Pool(ledger, () -> { }), flushAfterWrite);
    }

    /** A database whose results table the caller has brought up to date ({@link #migrate}). */
    public static ResultsDatabase migrated(DataSource dataSource, WriteFlush durable) {
        ResultsDatabase db = new ResultsDatabase("ktp.db.url", () -> new DataSources.Pool(dataSource, () -> { }), durable);
        db.dataSource = dataSource;
        db.durable = durable;
        db.migrated = true;
        return db;
    }

    /** Brings the results table of {@code dataSource} up to date. */
    public static void migrate(DataSource dataSource) {
        SchemaMigrator.migrate(dataSource, HISTORY, "db/results", SCRIPTS);
    }

    /**
     * At start: opens the database and brings its table up to date. One that cannot be reached (no
     * answer, a refused connection, a server shutting down) is a WARN and the start goes on; an
     * answer that says a setting is wrong stops it, naming the setting. An address that no driver
     * takes ({@code jdbc:postgres:...}) stops it too, as the pool cannot be built.
     */
    public void checkAtStart() {
        try {
            ready();
        } catch (SQLException e) {
            if (isSettingsError(e.getSQLState())) {
                throw new IllegalStateException("The JDBC result target's database (" + setting + ") refused the"
                        + " bundle, SQL state " + e.getSQLState() + ": " + FailureReport.safeMessage(e.getCause())
                        + ". Check " + setting + " and its user and password, and the account's rights on the results"
                        + " tables (README, JDBC target)", e);
            }
            LOG.warn("The JDBC result target's database ({}) cannot be used now (SQL state {}: {}); the bundle"
                    + " starts, and results for jdbc wait in the outbox until it answers", setting, e.getSQLState(),
                    FailureReport.safeMessage(e.getCause()));
        }
    }

    /**
     * Wrong credentials or an account the server does not know (28xxx), a database that does not
     * exist (3D000), a right missing or a table the history names missing (42xxx), an H2 account
     * that may not flush (90040): each would meet every attempt, and only a person can put it right.
     */
    static boolean isSettingsError(String sqlState) {
        return sqlState != null && (sqlState.startsWith("28") || sqlState.equals("3D000") || sqlState.startsWith("42")
                || sqlState.equals(ADMIN_RIGHTS_REQUIRED));
    }

    /** The database, open and with its table up to date; an SQLException (retried) while it cannot be. */
    DataSource ready() throws SQLException {
        if (migrated) {
            return dataSource;
        }
        synchronized (this) {
            if (closed) {
                throw new SQLException("The results database is closed (the bundle is stopping)", "08003");
            }
            if (dataSource == null) {
                open();
            }
            if (!migrated) {
                try {
                    migrate(dataSource);
                } catch (IllegalStateException e) {
                    throw asSql("The results table could not be brought up to date", e);
                }
                migrated = true;
            }
            return dataSource;
        }
    }

    /** Read before each write's connection is taken, once the database is {@link #ready}: for {@link #written}. */
    long beginWrite() {
        return durable.beginWrite();
    }

    /** Run after each committed write, before the delivery is recorded as done. */
    void written(long began) {
        durable.written(began);
    }

    private void open() throws SQLException {
        DataSources.Pool opened;
        try {
            opened = opener.get();
        } catch (RuntimeException e) {
            // the pool's first connection failed: the driver's error, with its SQL state, is the cause
            if (sqlCause(e) == null) {
                throw e;
            }
            throw asSql("The results database cannot be opened", e);
        }
        if (ledgerFlush != null) {
            // the ledger's flushes need the same rights, and go through its checkpoint gate
            durable = ledgerFlush;
            pool = opened;
            dataSource = opened.dataSource();
            return;
        }
        try {
            durable = DurableFlush.afterEachWrite(opened.dataSource());
            requireFlushAllowed(opened.dataSource());
        } catch (RuntimeException e) {
            closeQuietly(opened);
            throw asSql("The results database cannot be opened", e);
        } catch (SQLException e) {
            closeQuietly(opened);
            throw e;
        }
        pool = opened;
        dataSource = opened.dataSource();
    }

    /**
     * An H2 results database is flushed to disk after each write ({@code CHECKPOINT SYNC}), which
     * H2 allows an admin account only: an account kept to its table's rights would have every
     * delivery's flush refused, and the delivery tried again for ever. Said at the open instead.
     */
    private static void requireFlushAllowed(DataSource ds) throws SQLException {
        try (java.sql.Connection c = ds.getConnection()) {
            if (!"H2".equalsIgnoreCase(c.getMetaData().getDatabaseProductName())) {
                return;
            }
            try (java.sql.Statement st = c.createStatement()) {
                st.execute("CHECKPOINT SYNC");
            } catch (SQLException e) {
                if (ADMIN_RIGHTS_REQUIRED.equals(e.getSQLState())) {
                    throw new SQLException("The results database's account may not flush it (SQL state "
                            + ADMIN_RIGHTS_REQUIRED + ")", ADMIN_RIGHTS_REQUIRED, new SQLException("H2 lets only an admin"
                            + " account flush the database to disk after each write (CHECKPOINT SYNC), as the target"
                            + " does before a delivery counts: give the account admin rights, or use PostgreSQL",
                            ADMIN_RIGHTS_REQUIRED));
                }
                throw e;
            }
        }
    }

    /** H2's SQL state for a statement only an admin account may run. */
    static final String ADMIN_RIGHTS_REQUIRED = "90040";

    private static SQLException asSql(String what, RuntimeException e) {
        SQLException cause = sqlCause(e);
        if (cause == null) {
            throw e;
        }
        return new SQLException(what + " (SQL state " + cause.getSQLState() + ")", cause.getSQLState(), cause);
    }

    private static SQLException sqlCause(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof SQLException sql) {
                return sql;
            }
        }
        return null;
    }

    private static void closeQuietly(DataSources.Pool p) {
        try {
            p.closer().close();
        } catch (Exception e) {
            LOG.debug("Closing the results pool failed", e);
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (pool != null) {
            closeQuietly(pool);
            pool = null;
        }
    }
}

package id.ktpbridge.ledger;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

import javax.sql.DataSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies numbered SQL scripts once each, in order, recording them in a history table. Plain SQL
 * that runs on H2 and PostgreSQL alike, or a script's PostgreSQL form beside it where their syntax
 * differs. The ledger's scripts live in {@code db/migration}; other
 * schemas (the results table of the JDBC target) have their own folder and history table.
 */
public final class SchemaMigrator {

    private static final Logger LOG = LoggerFactory.getLogger(SchemaMigrator.class);

    /** Every ledger migration, oldest first. A new schema change is a new entry, never an edit. */
    static final List<String> SCRIPTS = List.of("V1__ledger.sql", "V2__outbox_and_idempotency.sql", "V3__resume.sql",
            "V4__claims_and_leases.sql", "V5__content_claims_and_release.sql", "V6__deferral_window.sql",
            "V7__ended_index.sql", "V8__inputs_in_hand.sql", "V9__delivery_due_by_target.sql",
            "V10__callback_error.sql", "V11__claim_ledger_id.sql", "V12__claim_token.sql",
            "V13__confirm_sent.sql", "V14__lookup_indexes.sql");

    private SchemaMigrator() {
    }

    /** Brings the ledger schema up to date. */
    public static void migrate(DataSource dataSource) {
        migrate(dataSource, "ktp_schema_version", "db/migration", SCRIPTS);
    }

    public static void migrate(DataSource dataSource, String historyTable, String folder, List<String> scripts) {
        try (Connection c = dataSource.getConnection()) {
            if (current(c, historyTable, scripts)) {
                // no DDL, not even CREATE TABLE IF NOT EXISTS: PostgreSQL checks the right to create
                // in the schema before it looks whether the table is there, and an account kept to
                // reading and writing its tables (README, JDBC target) has none
                return;
            }
            if (isPostgres(c)) {
                migratePostgres(c, historyTable, folder, scripts);
            } else {
                migrateLocked(c, historyTable, folder, scripts);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Schema migration (" + folder + ") failed: " + e.getMessage(), e);
        }
    }

    /**
     * Instances of a cluster start together: one migrates, the others wait for its commit and find
     * it done. All pending scripts run in one transaction under a transaction-level advisory lock,
     * which a pooler that hands each transaction another server session (PgBouncer in transaction
     * mode) keeps too; a session-level lock taken on one session and released on another would stay
     * held. No socket timeout meanwhile: a script on a large ledger, or the wait for another
     * instance's, may take minutes (the pool restores the timeout when the connection goes back).
     */
    private static void migratePostgres(Connection c, String historyTable, String folder, List<String> scripts)
            throws SQLException {
        c.setNetworkTimeout(Runnable::run, 0);
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            try (Statement s = c.createStatement()) {
                s.execute("SELECT pg_advisory_xact_lock(" + historyTable.hashCode() + ")");
            }
            migrateLocked(c, historyTable, folder, scripts);
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    private static void migrateLocked(Connection c, String historyTable, String folder, List<String> scripts)
            throws SQLException {
        if (!exists(c, historyTable)) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS " + historyTable + " ("
                        + "version INT NOT NULL PRIMARY KEY, script VARCHAR(200) NOT NULL, applied_at BIGINT NOT NULL)");
            }
        }
        int applied = currentVersion(c, historyTable);
        for (int i = applied; i < scripts.size(); i++) {
            apply(c, historyTable, folder, i + 1, scripts.get(i));
        }
    }

    /** Whether the history table is there and names every script (or more: a later version's). */
    private static boolean current(Connection c, String historyTable, List<String> scripts) throws SQLException {
        return exists(c, historyTable) && currentVersion(c, historyTable) >= scripts.size();
    }

    private static boolean isPostgres(Connection c) throws SQLException {
        return c.getMetaData().getDatabaseProductName().toLowerCase(java.util.Locale.ROOT).contains("postgres");
    }

    /**
     * Whether the statements' unqualified {@code table} names a table: on PostgreSQL looked up along
     * the search path as those statements do ({@code to_regclass}), elsewhere (H2) in the
     * connection's schema. A look-up only, which needs no right to create anything.
     */
    static boolean exists(Connection c, String table) throws SQLException {
        if (isPostgres(c)) {
            try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
                ps.setString(1, table);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getBoolean(1);
                }
            }
        }
        DatabaseMetaData meta = c.getMetaData();
        String name = meta.storesUpperCaseIdentifiers() ? table.toUpperCase(java.util.Locale.ROOT)
                : meta.storesLowerCaseIdentifiers() ? table.toLowerCase(java.util.Locale.ROOT) : table;
        // a pattern: its '_' would match any character
        String escape = meta.getSearchStringEscape();
        String pattern = escape == null || escape.isEmpty() ? name
                : name.replace(escape, escape + escape).replace("_", escape + "_").replace("%", escape + "%");
        try (ResultSet rs = meta.getTables(c.getCatalog(), c.getSchema(), pattern, null)) {
            return rs.next();
        }
    }

    private static int currentVersion(Connection c, String historyTable) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COALESCE(MAX(version), 0) FROM " + historyTable)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** One script and its history row, in one transaction (the caller's, when it has one open). */
    private static void apply(Connection c, String historyTable, String folder, int version, String script)
            throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        if (!autoCommit) {
            runScript(c, historyTable, folder, version, script);
            return;
        }
        c.setAutoCommit(false);
        try {
            runScript(c, historyTable, folder, version, script);
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static void runScript(Connection c, String historyTable, String folder, int version, String script)
            throws SQLException {
        try (Statement s = c.createStatement()) {
            // comments go first, so a ';' inside one never splits a statement
            for (String statement : stripComments(read(scriptFor(c, folder, script))).split(";")) {
                if (!statement.isBlank()) {
                    s.execute(statement.strip());
                }
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO " + historyTable + " (version, script, applied_at) VALUES (?, ?, ?)")) {
                ps.setInt(1, version);
                ps.setString(2, script);
                ps.setLong(3, System.currentTimeMillis());
                ps.executeUpdate();
            }
        }
        LOG.info("Schema {} migrated to version {} ({})", folder, version, script);
    }

    /**
     * The script's path: its PostgreSQL form ({@code <folder>/postgresql/<script>}) on PostgreSQL
     * when it has one (where the two databases' syntax differs), else the one both run.
     */
    private static String scriptFor(Connection c, String folder, String script) throws SQLException {
        String postgres = folder + "/postgresql/" + script;
        return isPostgres(c) && SchemaMigrator.class.getResource("/" + postgres) != null ? postgres
                : folder + "/" + script;
    }

    private static String stripComments(String sql) {
        StringBuilder out = new StringBuilder();
        for (String line : sql.split("\n")) {
            if (!line.strip().startsWith("--")) {
                out.append(line).append('\n');
            }
        }
        return out.toString().strip();
    }

    private static String read(String script) {
        try (InputStream in = SchemaMigrator.class.getResourceAsStream("/" + script)) {
            if (in == null) {
                throw new IllegalStateException("Migration script missing from the classpath: " + script);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

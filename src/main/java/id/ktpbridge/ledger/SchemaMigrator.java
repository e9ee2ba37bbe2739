package id.ktpbridge.ledger;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
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
 * that runs on H2 and PostgreSQL alike. The ledger's scripts live in {@code db/migration}; other
 * schemas (the results table of the JDBC target) have their own folder and history table.
 */
public final class SchemaMigrator {

    private static final Logger LOG = LoggerFactory.getLogger(SchemaMigrator.class);

    /** Every ledger migration, oldest first. A new schema change is a new entry, never an edit. */
    static final List<String> SCRIPTS = List.of("V1__ledger.sql", "V2__outbox_and_idempotency.sql", "V3__resume.sql",
            "V4__claims_and_leases.sql", "V5__content_claims_and_release.sql", "V6__deferral_window.sql",
            "V7__ended_index.sql");

    private SchemaMigrator() {
    }

    /** Brings the ledger schema up to date. */
    public static void migrate(DataSource dataSource) {
        migrate(dataSource, "ktp_schema_version", "db/migration", SCRIPTS);
    }

    public static void migrate(DataSource dataSource, String historyTable, String folder, List<String> scripts) {
        try (Connection c = dataSource.getConnection()) {
            // instances of a cluster start together: one migrates, the others wait and find it done
            boolean postgres = c.getMetaData().getDatabaseProductName().toLowerCase(java.util.Locale.ROOT)
                    .contains("postgres");
            if (postgres) {
                try (Statement s = c.createStatement()) {
                    s.execute("SELECT pg_advisory_lock(" + historyTable.hashCode() + ")");
                }
            }
            try {
                migrateLocked(c, historyTable, folder, scripts);
            } finally {
                if (postgres) {
                    try (Statement s = c.createStatement()) {
                        s.execute("SELECT pg_advisory_unlock(" + historyTable.hashCode() + ")");
                    }
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Schema migration (" + folder + ") failed: " + e.getMessage(), e);
        }
    }

    private static void migrateLocked(Connection c, String historyTable, String folder, List<String> scripts)
            throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + historyTable + " ("
                    + "version INT NOT NULL PRIMARY KEY, script VARCHAR(200) NOT NULL, applied_at BIGINT NOT NULL)");
        }
        int applied = currentVersion(c, historyTable);
        for (int i = applied; i < scripts.size(); i++) {
            apply(c, historyTable, folder, i + 1, scripts.get(i));
        }
    }

    private static int currentVersion(Connection c, String historyTable) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COALESCE(MAX(version), 0) FROM " + historyTable)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static void apply(Connection c, String historyTable, String folder, int version, String script)
            throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            // comments go first, so a ';' inside one never splits a statement
            for (String statement : stripComments(read(folder + "/" + script)).split(";")) {
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
            c.commit();
            LOG.info("Schema {} migrated to version {} ({})", folder, version, script);
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
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

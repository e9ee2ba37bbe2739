package id.ktpbridge.target;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.ledger.WriteFlush;
import id.ktpbridge.result.PermanentDeliveryFailure;
import id.ktpbridge.result.ResultPublisher;
import org.apache.camel.Exchange;
import org.postgresql.util.PSQLException;

/**
 * The JDBC target: one row per submission in {@code ktp_result}, upserted by submission id, so a
 * redelivered result replaces its row instead of adding one. Plain UPDATE-then-INSERT keeps it
 * portable across H2 and PostgreSQL; a concurrent insert of the same key falls back to UPDATE.
 */
public class JdbcResultTarget {

    private static final String UPDATE = "UPDATE ktp_result SET ledger_id = ?, partner_user_id = ?,"
            + " partner_user_id_type = ?, status = ?, result = ?, reason_code = ?, source_type = ?, source_file = ?,"
            + " source_sha256 = ?, received_via = ?, submitted_at = ?, completed_at = ?, document = ?, updated_at = ?"
            + " WHERE submission_id = ?";
    private static final String INSERT = "INSERT INTO ktp_result (ledger_id, partner_user_id, partner_user_id_type,"
            + " status, result, reason_code, source_type, source_file, source_sha256, received_via, submitted_at,"
            + " completed_at, document, updated_at, submission_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

    /** Of {@code ktp.results.jdbc.statement-timeout}, for a target built without one. */
    public static final Duration DEFAULT_STATEMENT_TIMEOUT = Duration.ofSeconds(30);

    private final ResultsDatabase database;
    private final ObjectMapper json;
    private final Duration statementTimeout;

    public JdbcResultTarget(DataSource dataSource, ObjectMapper json) {
        this(dataSource, json, WriteFlush.NONE, DEFAULT_STATEMENT_TIMEOUT);
    }

    /**
     * Over a database whose results table is up to date already.
     *
     * @param durable          around each write, done before the delivery is recorded as done in the ledger:
     *                         a results database of its own on H2 writes its commits in the background, so a
     *                         kill right after would lose a row the ledger no longer sends again
     * @param statementTimeout how long one statement may take (zero: no limit), see {@link #limitWaits}
     */
    public JdbcResultTarget(DataSource dataSource, ObjectMapper json, WriteFlush durable, Duration statementTimeout) {
        this(ResultsDatabase.migrated(dataSource, durable), json, statementTimeout);
    }

    /**
     * @param database opened and migrated at the first write that reaches it: until then each write
     *                 fails as a database that is down does, and is retried
     */
    public JdbcResultTarget(ResultsDatabase database, ObjectMapper json, Duration statementTimeout) {
        this.database = database;
        this.json = json;
        this.statementTimeout = statementTimeout;
    }

    /** Camel bean method for {@code direct:deliver-jdbc}. */
    public void write(Exchange exchange) throws SQLException {
        String document = exchange.getMessage().getBody(String.class);
        String key = exchange.getMessage().getHeader(ResultPublisher.RESULT_NAME, String.class);
        JsonNode doc;
        try {
            doc = json.readTree(document);
        } catch (IOException e) {
            throw new PermanentDeliveryFailure("the result document is not JSON");
        }
        // a database not reached yet fails here, before anything is read as the table's answer
        DataSource ready = database.ready();
        long began = database.beginWrite();
        // the reset runs before the connection goes back to the pool; its failure does not hide the write's
        try (Connection c = ready.getConnection(); SqlCloseable reset = () -> clearSessionTimeout(c)) {
            limitWaits(c);
            if (execute(c, UPDATE, doc, document, key) == 0) {
                try {
                    execute(c, INSERT, doc, document, key);
                } catch (SQLException e) {
                    // a constraint violation may be another delivery of this result inserting its row
                    // since our UPDATE; if so, the row is there now. If not, the INSERT broke another
                    // constraint of the table, refused below
                    if (!isConstraintViolation(e) || execute(c, UPDATE, doc, document, key) == 0) {
                        throw e;
                    }
                }
            }
        } catch (SQLException e) {
            if (isConstraintViolation(e)) {
                // not the submission_id key (an UPDATE never breaks it, the race with an INSERT is
                // handled above) but a constraint of the table: the partner's UNIQUE on
                // partner_user_id, a CHECK, NOT NULL, a foreign key. It refuses this document at every
                // try until someone changes the table or its rows, so refused, not retried: retries
                // would keep it PENDING for ever and the target marked failing; REFUSED is counted,
                // keeps its reason in ktp_delivery and can be queued again once the table is put right
                throw new PermanentDeliveryFailure("the row breaks " + constraintName(e) + " of the results table"
                        + " (SQL state " + e.getSQLState() + "), not its submission_id key: the table refuses this"
                        + " result as it stands");
            }
            throw e;
        }
        database.written(began);
    }

    /**
     * Bounds the waits of this connection's statements: a statement still running (a row locked
     * by another session, a slow server) is cancelled after the statement timeout; a server that
     * stops answering at all, which a cancel cannot reach, is cut off at the socket after twice
     * that (PostgreSQL; H2 ignores it), instead of the pool's ktp.db.socket-timeout.
     */
    private void limitWaits(Connection c) throws SQLException {
        if (statementTimeout.isZero()) {
            return; // no statement limit: the socket keeps the pool's own (ktp.db.socket-timeout)
        }
        // Hikari restores a pooled connection's network timeout when it is given back
        c.setNetworkTimeout(Runnable::run, (int) Math.min(Integer.MAX_VALUE, 2 * statementTimeout.toMillis()));
    }

    /**
     * H2 keeps JDBC's per-statement query timeout as a setting of the whole session ({@code SET
     * QUERY_TIMEOUT}), and the pool does not reset it: without this, a connection of the ledger's
     * own pool (the default results database) would go on cancelling the ledger's statements after
     * the statement timeout. PostgreSQL's is the statement's own, left as it is.
     */
    private static void clearSessionTimeout(Connection c) throws SQLException {
        if ("H2".equals(c.getMetaData().getDatabaseProductName())) {
            try (Statement s = c.createStatement()) {
                s.setQueryTimeout(0);
            }
        }
    }

    /** A resource whose close throws only SQLException. */
    @FunctionalInterface
    private interface SqlCloseable extends AutoCloseable {
        @Override
        void close() throws SQLException;
    }

    private static boolean isConstraintViolation(SQLException e) {
        return e.getSQLState() != null && e.getSQLState().startsWith("23");
    }

    /** PostgreSQL names the constraint apart from the values it quotes; H2 only within them. */
    private static String constraintName(SQLException e) {
        String name = e instanceof PSQLException pg && pg.getServerErrorMessage() != null
                ? pg.getServerErrorMessage().getConstraint() : null;
        return name == null ? "a constraint" : "constraint " + name;
    }

    private int execute(Connection c, String sql, JsonNode doc, String document, String key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            // whole seconds, as JDBC takes them: a part of one counts as one, zero means no limit
            ps.setQueryTimeout((int) Math.min(Integer.MAX_VALUE, (statementTimeout.toMillis() + 999) / 1000));
            int i = 1;
            // each value cut to its column (V1__results.sql): OneKYC's result and reason codes are
            // its own, and a value too long would be refused at every retry
            ps.setString(i++, text(doc, "ledgerId", 36));
            ps.setString(i++, text(doc, "partnerUserId", 256));
            ps.setString(i++, text(doc, "partnerUserIdType", 128));
            ps.setString(i++, text(doc, "status", 16));
            ps.setString(i++, text(doc, "result", 16));
            ps.setString(i++, text(doc, "reasonCode", 64));
            ps.setString(i++, text(doc, "sourceType", 16));
            ps.setString(i++, text(doc, "sourceFile", 1024));
            ps.setString(i++, text(doc, "sourceSha256", 64));
            ps.setString(i++, text(doc, "receivedVia", 16));
            ps.setString(i++, text(doc, "submittedAt", 40));
            ps.setString(i++, text(doc, "completedAt", 40));
            ps.setString(i++, document);
            ps.setLong(i++, System.currentTimeMillis());
            ps.setString(i, key);
            try {
                return ps.executeUpdate();
            } catch (SQLException e) {
                if (e.getSQLState() != null && e.getSQLState().startsWith("22")) {
                    // a value the table cannot hold (a document over its column, say): every retry would be
                    // refused the same way, so it is refused for good, without the driver's text (it quotes
                    // values). Only here: a 22xxx from setting up the timeouts above (pgjdbc's 22023 for a
                    // negative one) says nothing about the row, and is retried
                    throw new PermanentDeliveryFailure("the results table refused a value (SQL state "
                            + e.getSQLState() + ")");
                }
                throw e;
            }
        }
    }

    /** The field as text, without NUL characters (PostgreSQL refuses them in text) and cut to {@code max}. */
    private static String text(JsonNode doc, String field, int max) {
        JsonNode v = doc.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        String text = v.asText().replace("\u0000", "");
        return text.length() <= max ? text : text.substring(0, max);
    }
}

package id.ktpbridge.target;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import id.ktpbridge.ledger.DataSources;
import id.ktpbridge.ledger.DurableFlush;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerException;
import id.ktpbridge.ledger.NewInput;
import id.ktpbridge.ledger.SchemaMigrator;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.ledger.WriteFlush;
import id.ktpbridge.result.DeliveryStore;
import id.ktpbridge.result.Outbox;
import id.ktpbridge.result.PermanentDeliveryFailure;
import id.ktpbridge.result.ResultPublisher;
import id.ktpbridge.testkit.FullDisk;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.PostgresServer;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The JDBC target with values its table cannot hold as they come, constraints of a partner's
 * table, a database that keeps a statement waiting, and the ledger's H2 closed under its row; on
 * H2 and PostgreSQL.
 */
class JdbcResultTargetTest {

    /** A NIK, in the document and the file name: no log line or ledger error may carry it. */
    private static final String NIK = "3174050505050005";

    private static PostgresServer postgres;

    private final ObjectMapper json = new ObjectMapper();
    private final JdbcConnectionPool ds = JdbcConnectionPool.create("jdbc:h2:mem:results-" + UUID.randomUUID()
            + ";DB_CLOSE_DELAY=-1", "sa", "");
    private final JdbcResultTarget target = new JdbcResultTarget(migrated(ds), json);
    private final List<AutoCloseable> closeAfter = new ArrayList<>();

    @BeforeAll
    static void startPostgres() throws Exception {
        postgres = PostgresServer.start();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        postgres.close();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeAfter.size() - 1; i >= 0; i--) {
            closeAfter.get(i).close();
        }
        ds.dispose();
    }

    @Test
    void longCodesFromOneKycAreCutToTheirColumnsInsteadOfBeingRefusedForEver() throws Exception {
        ObjectNode doc = document();
        doc.put("result", "A_RESULT_LONGER_THAN_SIXTEEN");
        doc.put("reasonCode", "R".repeat(100));
        doc.put("partnerUserIdType", "TYPE\u0000WITH_NUL");
        target.write(exchange(doc.toString(), "sub-1"));
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT result, reason_code, partner_user_id_type FROM ktp_result WHERE submission_id = 'sub-1'");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            assertEquals("A_RESULT_LONGER_", rs.getString(1));
            assertEquals("R".repeat(64), rs.getString(2));
            assertEquals("TYPEWITH_NUL", rs.getString(3));
        }
    }

    @Test
    void aDocumentTheTableCannotHoldIsRefusedForGoodWithoutQuotingIt() {
        ObjectNode doc = document();
        doc.put("padding", "3174" + "x".repeat(1_000_000));
        PermanentDeliveryFailure e = assertThrows(PermanentDeliveryFailure.class,
                () -> target.write(exchange(doc.toString(), "sub-2")));
        assertFalse(e.getMessage().contains("3174"), e.getMessage());
    }

    @Test
    void aRowInAResultsDatabaseOfItsOwnIsOnDiskWhenTheWriteReturns(@TempDir Path dir) throws Exception {
        DataSources.Pool pool = DataSources.create("jdbc:h2:" + dir.resolve("results"), "sa", "", 2, "results-test");
        try {
            SchemaMigrator.migrate(pool.dataSource(), "ktp_results_schema_version", "db/results",
                    List.of("V1__results.sql"));
            JdbcResultTarget own = new JdbcResultTarget(pool.dataSource(), json,
                    DurableFlush.afterEachWrite(pool.dataSource()), JdbcResultTarget.DEFAULT_STATEMENT_TIMEOUT);
            own.write(exchange(document().toString(), "sub-3"));
            // the file as a kill would leave it now: H2 still open, its background writer not waited for
            Path copy = Files.createDirectory(dir.resolve("copy")).resolve("results.mv.db");
            Files.copy(dir.resolve("results.mv.db"), copy);
            try (Connection c = DriverManager.getConnection("jdbc:h2:" + dir.resolve("copy/results"), "sa", "");
                 ResultSet rs = c.createStatement().executeQuery(
                         "SELECT COUNT(*) FROM ktp_result WHERE submission_id = 'sub-3'")) {
                rs.next();
                assertEquals(1, rs.getInt(1));
            }
        } finally {
            pool.closer().close();
        }
    }

    @Test
    void aRowAnotherConstraintRefusesIsRefusedInsteadOfTakenForDelivered() throws Exception {
        // the partner's table allows one row per user: a second submission of the same user breaks it
        execute(ds, "ALTER TABLE ktp_result ADD CONSTRAINT one_row_per_user UNIQUE (partner_user_id)");
        target.write(exchange(personal().toString(), "sub-a"));
        PermanentDeliveryFailure e = assertThrows(PermanentDeliveryFailure.class,
                () -> target.write(exchange(personal().toString(), "sub-b")));
        assertTrue(e.getMessage().contains("23505") && e.getMessage().contains("not its submission_id key"),
                e.getMessage());
        assertFalse(e.getMessage().contains(NIK), e.getMessage());
        assertEquals(0, count(ds, "sub-b"));
    }

    @Test
    void onPostgresqlTheRefusalNamesTheConstraintButNoValueOfTheRow() throws Exception {
        DataSource results = postgresResults("refused");
        // PostgreSQL's error quotes the whole row: "Failing row contains (..., <document>, ...)"
        execute(results, "ALTER TABLE ktp_result ADD CONSTRAINT known_result CHECK (result IN ('PASS', 'FAIL'))");
        ObjectNode doc = personal();
        doc.put("result", "REVIEW");
        try (LogCapture log = new LogCapture(); Delivery delivery = new Delivery(new JdbcResultTarget(results, json))) {
            String id = delivery.deliver("sub-c", doc);
            assertEquals(DeliveryStore.REFUSED, delivery.state(id));
            String error = delivery.lastError(id);
            assertTrue(error.contains("known_result") && error.contains("23514"), error);
            assertFalse(error.contains(NIK), error);
            assertTrue(log.text().contains("known_result"), log.text());
            assertFalse(log.text().contains(NIK), log.text());
            assertEquals(0, count(results, "sub-c"));
        }
    }

    @Test
    void aDatabaseErrorIsLoggedWithoutTheRowItQuotes() throws Exception {
        JdbcConnectionPool locking = JdbcConnectionPool.create("jdbc:h2:mem:results-" + UUID.randomUUID()
                + ";DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=300", "sa", "");
        closeAfter.add(locking::dispose);
        JdbcResultTarget lockingTarget = new JdbcResultTarget(migrated(locking), json);
        try (LogCapture log = new LogCapture(); Delivery delivery = new Delivery(lockingTarget);
             Connection partner = locking.getConnection()) {
            assertEquals(DeliveryStore.DELIVERED, delivery.state(delivery.deliver("sub-d", personal())));
            // H2 gives up waiting for the row with an error whose cause quotes the row, document and all
            lockRow(partner, "sub-d");
            String id = delivery.deliver("sub-d", personal());
            assertEquals(DeliveryStore.PENDING, delivery.state(id), "retried: the lock is let go at some point");
            String error = delivery.lastError(id);
            assertTrue(error.contains("HYT00"), error);
            assertFalse(error.contains(NIK), error);
            assertTrue(log.text().contains("HYT00"), log.text());
            assertFalse(log.text().contains(NIK), log.text());
        }
    }

    @Test
    void aRowLockedElsewhereHoldsTheWriteUpOnlyForTheStatementTimeout() throws Exception {
        // 3 s: the cancel it sends then must be answered before the socket gives up at twice that,
        // which a loaded machine may not do within a second
        JdbcResultTarget impatient = new JdbcResultTarget(postgresResults("locked"), json, WriteFlush.NONE,
                Duration.ofSeconds(3));
        impatient.write(exchange(personal().toString(), "sub-e"));
        try (Connection partner = DriverManager.getConnection(postgres.jdbcUrl("locked"), "postgres", "")) {
            lockRow(partner, "sub-e");
            // PostgreSQL waits for a row lock for as long as it is held (no lock_timeout by default)
            SQLException e = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertThrows(SQLException.class,
                    () -> impatient.write(exchange(personal().toString(), "sub-e"))));
            assertEquals("57014", e.getSQLState(), "cancelled, to be retried");
        }
    }

    @Test
    void aDatabaseThatStopsAnsweringIsCutOffAtTheSocket() throws Exception {
        DataSource results = postgresResults("stalled");
        JdbcResultTarget impatient = new JdbcResultTarget(results, json, WriteFlush.NONE, Duration.ofSeconds(1));
        impatient.write(exchange(personal().toString(), "sub-f"));
        // the pool's one connection is served by this server process; stopped, it answers neither
        // the statement nor the cancel the statement timeout sends
        String backend;
        try (Connection c = DriverManager.getConnection(postgres.jdbcUrl("stalled"), "postgres", "");
             ResultSet rs = c.createStatement().executeQuery("SELECT pid FROM pg_stat_activity"
                     + " WHERE application_name = 'stalled' AND pid <> pg_backend_pid()")) {
            assertTrue(rs.next());
            backend = rs.getString(1);
            assertFalse(rs.next());
        }
        signal("STOP", backend);
        try {
            SQLException e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(SQLException.class,
                    () -> impatient.write(exchange(personal().toString(), "sub-f"))));
            assertEquals("08006", e.getSQLState(), "the connection given up, to be retried");
        } finally {
            signal("CONT", backend);
        }
    }

    @Test
    void aTimeoutTheDriverRefusesIsRetriedInsteadOfRefusingTheResult() throws Exception {
        // pgjdbc refuses a negative timeout with SQL state 22023, the class of a value the table cannot
        // hold; but no row was sent, and the result must not be REFUSED for it
        JdbcResultTarget negative = new JdbcResultTarget(postgresResults("negative"), json, WriteFlush.NONE,
                Duration.ofSeconds(-1));
        try (Delivery delivery = new Delivery(negative)) {
            String id = delivery.deliver("sub-g", personal());
            assertEquals(DeliveryStore.PENDING, delivery.state(id));
            String error = delivery.lastError(id);
            assertTrue(error.contains("22023") && !error.contains("refused a value"), error);
        }
    }

    @Test
    void theLedgersConnectionsKeepNoQueryTimeoutOfTheTarget() throws Exception {
        // the default results database: the ledger's own H2 pool, here of one connection, so the
        // ledger gets the very connection the target used. H2 holds a statement's query timeout
        // for the whole session, and the pool does not reset it
        DataSources.Pool ledger = DataSources.create("jdbc:h2:mem:ledger-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1",
                "sa", "", 1, "ledger-test");
        closeAfter.add(ledger.closer());
        SchemaMigrator.migrate(ledger.dataSource(), "ktp_results_schema_version", "db/results",
                List.of("V1__results.sql"));
        JdbcResultTarget shared = new JdbcResultTarget(ledger.dataSource(), json, WriteFlush.NONE,
                Duration.ofSeconds(1));
        shared.write(exchange(personal().toString(), "sub-h"));
        assertEquals("0", queryTimeout(ledger.dataSource()), "ledger statements would be cancelled after 1 s");
        // also after a write the table refuses
        ObjectNode tooLong = document();
        tooLong.put("padding", "x".repeat(1_000_000));
        assertThrows(PermanentDeliveryFailure.class, () -> shared.write(exchange(tooLong.toString(), "sub-i")));
        assertEquals("0", queryTimeout(ledger.dataSource()), "ledger statements would be cancelled after 1 s");
    }

    @Test
    void theRowsWriteIsBegunForItsFlushBeforeTheRowIsWritten() throws Exception {
        // what the flush reads before the write tells a closure of H2's database between the row's
        // commit and its flush (DurableFlush); read after the row, it would miss a row the closure dropped
        List<String> calls = new ArrayList<>();
        WriteFlush recording = new WriteFlush() {
            @Override
            public long beginWrite() {
                calls.add("begun, " + rows() + " row");
                return 7;
            }

            @Override
            public void written(long began) {
                calls.add("written " + began + ", " + rows() + " row");
            }

            private int rows() {
                try {
                    return count(ds, "sub-k");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }
        };
        new JdbcResultTarget(ds, json, recording, JdbcResultTarget.DEFAULT_STATEMENT_TIMEOUT)
                .write(exchange(document().toString(), "sub-k"));
        assertEquals(List.of("begun, 0 row", "written 7, 1 row"), calls);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aRowTheLedgersDatabaseLostWhenH2ClosedItIsNotRecordedAsDelivered(boolean poolOfItsOwn, @TempDir Path dir)
            throws Exception {
        // the default results database: the ledger's own embedded H2, its pool as the bridge opens it;
        // or the ledger's file named as ktp.results.jdbc.url, opened by a pool of its own
        String url = "jdbc:h2:" + FullDisk.prefix() + "async:" + dir.resolve("ledger").toString().replace('\\', '/')
                + ";DB_CLOSE_ON_EXIT=FALSE;QUERY_CACHE_SIZE=32;RETENTION_TIME=1000";
        DataSources.Pool pool = DataSources.create(url, "sa", "", 4, "ledger-closure");
        closeAfter.add(pool.closer());
        closeAfter.add(FullDisk::free);
        DataSource ledgerDb = pool.dataSource();
        SchemaMigrator.migrate(ledgerDb);
        ResultsDatabase.migrate(ledgerDb);
        Ledger ledger = new Ledger(ledgerDb);
        ResultsDatabase results = poolOfItsOwn
                ? ResultsDatabase.own(() -> DataSources.createTryingOnce(url, "sa", "", 2, "results-closure",
                        Duration.ZERO))
                : ResultsDatabase.ledgers(ledgerDb, ledger.writesMadeElsewhere());
        closeAfter.add(results);
        JdbcResultTarget shared = new JdbcResultTarget(results, json, JdbcResultTarget.DEFAULT_STATEMENT_TIMEOUT);
        // right after the row's write, H2 fails to write the file (a full disk) and closes the database;
        // another thread meets it closed first, and the pool opens the file anew once it can be written,
        // before the outbox records the delivery
        Processor closedUnderThePool = exchange -> {
            FullDisk.fill();
            CompletableFuture.runAsync(() -> {
                ledger.insert(input(), SubmissionState.RECEIVED);
                await().atMost(Duration.ofSeconds(10)).until(() -> {
                    try {
                        ledger.flush();
                        ledger.findById("none");
                        return false;
                    } catch (LedgerException closed) {
                        return closed.getMessage().contains("90098");
                    }
                });
            }).get();
            FullDisk.free();
        };
        try (Delivery delivery = new Delivery(shared, ledgerDb, closedUnderThePool)) {
            String id = delivery.deliver("sub-j", personal());
            // the row was on disk before the database closed, so the record made in the one opened anew holds
            assertEquals(DeliveryStore.DELIVERED, delivery.state(id));
            assertEquals(1, count(ledgerDb, "sub-j"), "recorded as delivered, its row must be in the file");
        }
    }

    /** H2's query timeout (ms) of the session a connection of {@code ds} has. */
    private static String queryTimeout(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); ResultSet rs = c.createStatement().executeQuery(
                "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = 'QUERY_TIMEOUT'")) {
            assertTrue(rs.next());
            return rs.getString(1);
        }
    }

    private ObjectNode document() {
        ObjectNode doc = json.createObjectNode();
        doc.put("ledgerId", UUID.randomUUID().toString());
        doc.put("status", "COMPLETED");
        doc.put("sourceType", "file");
        return doc;
    }

    /** A result as OneKYC's would be: the NIK in the partner user id, the file name and the document. */
    private ObjectNode personal() {
        ObjectNode doc = document();
        doc.put("partnerUserId", "user-" + NIK);
        doc.put("sourceFile", NIK + ".jpg");
        doc.put("result", "PASS");
        doc.putObject("details").put("nik", NIK).put("name", "BUDI SANTOSO");
        return doc;
    }

    /**
     * A migrated results database of its own on the PostgreSQL server, in a pool of one connection
     * whose server process is named {@code name} in pg_stat_activity.
     */
    private DataSource postgresResults(String name) throws SQLException {
        DataSources.Pool pool = DataSources.create(postgres.createDatabase(name) + "?ApplicationName=" + name,
                "postgres", "", 1, "results-" + name);
        closeAfter.add(pool.closer());
        SchemaMigrator.migrate(pool.dataSource(), "ktp_results_schema_version", "db/results",
                List.of("V1__results.sql"));
        return pool.dataSource();
    }

    /** Locks the row as another application's open transaction would. */
    private static void lockRow(Connection partner, String submissionId) throws SQLException {
        partner.setAutoCommit(false);
        try (PreparedStatement ps = partner.prepareStatement(
                "UPDATE ktp_result SET status = status WHERE submission_id = ?")) {
            ps.setString(1, submissionId);
            assertEquals(1, ps.executeUpdate());
        }
    }

    private static void execute(DataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.createStatement().execute(sql);
        }
    }

    private static int count(DataSource ds, String submissionId) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT COUNT(*) FROM ktp_result WHERE submission_id = ?")) {
            ps.setString(1, submissionId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /** Stops or resumes a server process (this class started the server). */
    private static void signal(String signal, String pid) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + signal, pid).inheritIO().start().waitFor());
    }

    /** A new input, for a ledger write of its own. */
    private static NewInput input() {
        String id = UUID.randomUUID().toString();
        return new NewInput(id, "FILE", "/in/" + id + ".jpg", id + ".jpg", "ab".repeat(32), 10L, "image/jpeg",
                "partner-a", "user-" + id, "PARTNER_USER_ID", UUID.randomUUID().toString(),
                UUID.randomUUID().toString(), "{}");
    }

    /** The outbox delivering to a JDBC target as the bridge does, with a ledger of its own unless given one. */
    private static final class Delivery implements AutoCloseable {

        private final JdbcConnectionPool ownLedgerDb;
        private final DataSource ledgerDb;
        private final Ledger ledger;
        private final DefaultCamelContext camel = new DefaultCamelContext();
        private final Outbox outbox;

        Delivery(JdbcResultTarget target) throws Exception {
            this(target, null, exchange -> { });
        }

        /** @param afterWrite run once the target's write returned, before the outbox records the outcome */
        Delivery(JdbcResultTarget target, DataSource migratedLedger, Processor afterWrite) throws Exception {
            ownLedgerDb = migratedLedger != null ? null : JdbcConnectionPool.create("jdbc:h2:mem:ledger-"
                    + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "");
            ledgerDb = migratedLedger != null ? migratedLedger : ownLedgerDb;
            if (ownLedgerDb != null) {
                SchemaMigrator.migrate(ownLedgerDb);
            }
            ledger = new Ledger(ledgerDb);
            camel.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    // as routes/deliver-results.yaml: the failure goes back to the outbox, which logs it
                    errorHandler(noErrorHandler());
                    from(Outbox.DELIVER_ENDPOINT).bean(target, "write").process(afterWrite);
                }
            });
            camel.start();
            outbox = new Outbox(new DeliveryStore(ledgerDb), ledger, camel.createProducerTemplate(), List.of("jdbc"),
                    Duration.ofMinutes(1), Duration.ofMinutes(1), 10, Duration.ofMinutes(5));
        }

        /** Stores the result of a new input and attempts it, as the publisher does; returns its ledger id. */
        String deliver(String submissionId, ObjectNode doc) {
            String id = UUID.randomUUID().toString();
            ledger.insert(new NewInput(id, "FILE", "/in/" + NIK + ".jpg", NIK + ".jpg", "ab".repeat(32), 10L,
                    "image/jpeg", "partner-a", "user-" + NIK, "PARTNER_USER_ID", UUID.randomUUID().toString(),
                    UUID.randomUUID().toString(), "{}"), SubmissionState.COLLECTING);
            doc.put("ledgerId", id);
            List<String> queued = new ArrayList<>();
            long[] queuedAt = {0};
            assertTrue(ledger.recordResult(id, "COMPLETED", "PASS", null, 1L, doc.toString(),
                    c -> {
                        queued.addAll(outbox.enqueue(c, id));
                        queuedAt[0] = System.currentTimeMillis();
                    }));
            ledger.flush(); // as the publisher does before any target sees it
            outbox.deliverNow(id, submissionId, "COMPLETED", doc.toString(), queued, queuedAt[0]);
            return id;
        }

        String state(String ledgerId) {
            return outbox.store().state(ledgerId, "jdbc");
        }

        String lastError(String ledgerId) throws SQLException {
            try (Connection c = ledgerDb.getConnection(); PreparedStatement ps = c.prepareStatement(
                    "SELECT last_error FROM ktp_delivery WHERE ledger_id = ? AND target = 'jdbc'")) {
                ps.setString(1, ledgerId);
                try (ResultSet rs = ps.executeQuery()) {
                    assertTrue(rs.next());
                    return rs.getString(1);
                }
            }
        }

        @Override
        public void close() throws Exception {
            camel.stop();
            if (ownLedgerDb == null) {
                return;
            }
            try (Connection c = ownLedgerDb.getConnection()) {
                c.createStatement().execute("SHUTDOWN");
            }
            ownLedgerDb.dispose();
        }
    }

    private static Exchange exchange(String body, String name) {
        Exchange e = new DefaultExchange(new DefaultCamelContext());
        e.getMessage().setBody(body);
        e.getMessage().setHeader(ResultPublisher.RESULT_NAME, name);
        return e;
    }

    private static JdbcConnectionPool migrated(JdbcConnectionPool ds) {
        SchemaMigrator.migrate(ds, "ktp_results_schema_version", "db/results", List.of("V1__results.sql"));
        return ds;
    }
}

package id.ktpbridge.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import javax.sql.DataSource;

import id.ktpbridge.result.DeliveryStore;
import id.ktpbridge.testkit.PostgresServer;
import id.ktpbridge.testkit.QueryPlans;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The look-ups run for every new input, and at every sweep, retention pass and batch check, read an
 * index on H2 and PostgreSQL alike, not the whole table: a partner keeping weeks of results holds a
 * million rows, nearly all ended and let go of. Checked on the plans the databases give for the
 * statements the code runs, over a ledger shaped so (most rows ended, released and delivered).
 */
class LedgerLookupPlansTest {

    private static final String TAIL_INDEX = "ix_ktp_submission_source_ref_tail";
    private static final int ROWS = 3000;
    private static final int OPEN = 20;

    private static PostgresServer pg;

    @BeforeAll
    static void startPostgres() throws Exception {
        pg = PostgresServer.start();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        pg.close();
    }

    @Test
    void lookUpsReadAnIndexOnH2() throws Exception {
        JdbcConnectionPool ds = JdbcConnectionPool.create("jdbc:h2:mem:plans-" + UUID.randomUUID()
                + ";DB_CLOSE_DELAY=-1", "sa", "");
        try {
            lookUpsReadAnIndex(ds);
        } finally {
            ds.dispose();
        }
    }

    @Test
    void lookUpsReadAnIndexOnPostgresql() throws Exception {
        DataSources.Pool pool = DataSources.create(pg.createDatabase("plans"), "postgres", "", 2, "plans-test");
        try {
            lookUpsReadAnIndex(pool.dataSource());
        } finally {
            pool.closer().close();
        }
    }

    @Test
    void aLongNonLatinSourceReferenceIsRecordedAndFoundOnPostgresql() throws Exception {
        DataSources.Pool pool = DataSources.create(pg.createDatabase("long_refs"), "postgres", "", 2, "long-refs-test");
        try {
            longNonLatinReferencesAreRecordedAndFound(pool.dataSource());
        } finally {
            pool.closer().close();
        }
    }

    @Test
    void aLongNonLatinSourceReferenceIsRecordedAndFoundOnH2() {
        JdbcConnectionPool ds = JdbcConnectionPool.create("jdbc:h2:mem:long-refs-" + UUID.randomUUID()
                + ";DB_CLOSE_DELAY=-1", "sa", "");
        try {
            longNonLatinReferencesAreRecordedAndFound(ds);
        } finally {
            ds.dispose();
        }
    }

    @Test
    void rowsWrittenBeforeSchema14OrByAnEarlierVersionAreFoundOnH2() throws Exception {
        JdbcConnectionPool ds = JdbcConnectionPool.create("jdbc:h2:mem:before14-" + UUID.randomUUID()
                + ";DB_CLOSE_DELAY=-1", "sa", "");
        try {
            rowsWrittenBeforeSchema14AreFound(ds);
        } finally {
            ds.dispose();
        }
    }

    @Test
    void rowsWrittenBeforeSchema14OrByAnEarlierVersionAreFoundOnPostgresql() throws Exception {
        DataSources.Pool pool = DataSources.create(pg.createDatabase("before14"), "postgres", "", 2, "before14-test");
        try {
            rowsWrittenBeforeSchema14AreFound(pool.dataSource());
        } finally {
            pool.closer().close();
        }
    }

    /**
     * Rows of a ledger at schema 13, and one an instance of that version writes once schema 14 is
     * there (a rolling update, a rollback): the look-ups by reference find them all.
     */
    private static void rowsWrittenBeforeSchema14AreFound(DataSource ds) throws SQLException {
        SchemaMigrator.migrate(ds, "ktp_schema_version", "db/migration", SchemaMigrator.SCRIPTS.subList(0, 13));
        long t = System.currentTimeMillis() - 60_000;
        String waiting = insertAsSchema13(ds, "file:/in/a.jpg", "aa", "RECEIVED", t, false);
        String rejectedUnread = insertAsSchema13(ds, "file:/in/a.jpg", null, "REJECTED", t + 1, false);
        // an input waiting at b, whose newer bytes were taken, ended and let go of: it was replaced
        String replaced = insertAsSchema13(ds, "file:/in/b.jpg", "bb", "PRESIGNED", t + 2, false);
        insertAsSchema13(ds, "file:/in/b.jpg", "b2", "DELIVERED", t + 3, true);

        SchemaMigrator.migrate(ds);
        String byEarlierVersion = insertAsSchema13(ds, "file:/in/c.jpg", "cc", "UPLOADED", t + 4, false);

        Ledger ledger = new Ledger(ds);
        assertEquals(List.of(waiting), ledger.findUnreleasedReadAt("file:/in/a.jpg").stream()
                .map(LedgerRecord::id).toList());
        assertEquals(rejectedUnread, ledger.findUnreleasedUnread("file:/in/a.jpg", 1234L).orElseThrow().id());
        assertEquals(List.of(byEarlierVersion), ledger.findUnconfirmedAt("file:/in/c.jpg").stream()
                .map(LedgerRecord::id).toList());
        assertEquals(List.of(replaced), ledger.findReplacedUntouchedSince(t + 10).stream()
                .map(LedgerRecord::id).toList());
    }

    /** A row as an instance at schema 13 writes it: the columns it knows, no source_ref_tail. */
    private static String insertAsSchema13(DataSource ds, String ref, String hash, String state, long at,
                                           boolean released) throws SQLException {
        String id = UUID.randomUUID().toString();
        try (Connection c = ds.getConnection(); var ps = c.prepareStatement("INSERT INTO ktp_submission (id,"
                + " source_type, source_ref, source_file, source_sha256, source_size, content_type, onboarding_partner,"
                + " partner_user_id, partner_user_id_type, partner_session_id, sdk_session_id, confirm_metadata, state,"
                + " created_at, updated_at, source_released_at) VALUES (?, 'file', ?, 'a.jpg', ?, 1234, 'image/jpeg',"
                + " 'partner-a', 'user-1', 'PARTNER_USER_ID', ?, ?, NULL, ?, ?, ?, ?)")) {
            ps.setString(1, id);
            ps.setString(2, ref);
            ps.setString(3, hash == null ? null : hash.repeat(32));
            ps.setString(4, UUID.randomUUID().toString());
            ps.setString(5, UUID.randomUUID().toString());
            ps.setString(6, state);
            ps.setLong(7, at);
            ps.setLong(8, at);
            if (released) {
                ps.setLong(9, at);
            } else {
                ps.setNull(9, java.sql.Types.BIGINT);
            }
            ps.executeUpdate();
        }
        return id;
    }

    private static void lookUpsReadAnIndex(DataSource ds) throws SQLException {
        SchemaMigrator.migrate(ds);
        long now = fill(ds);
        QueryPlans plans = new QueryPlans(ds);
        Ledger ledger = new Ledger(plans.dataSource());
        String ref = ref(ROWS - 1);

        // per input: the row an input met again belongs to, and the inputs its new bytes replace
        ledger.findUnreleasedReadAt(ref);
        assertRead(plans.take(), TAIL_INDEX);
        ledger.findUnreleasedUnread(ref, 1234L);
        assertRead(plans.take(), TAIL_INDEX);
        ledger.findUnconfirmedAt(ref);
        assertRead(plans.take(), TAIL_INDEX);

        // every sweep: the inputs whose file was replaced, and those ended without their result
        ledger.findReplacedUntouchedSince(now + 1);
        assertRead(plans.take(), TAIL_INDEX);
        ledger.findFailedWithoutResult("SOURCE_REPLACED", now + 1);
        assertRead(plans.take(), "ix_ktp_submission_delivered");
        // a batch run's end
        ledger.endedWithoutResult();
        assertRead(plans.take(), "ix_ktp_submission_delivered");
        DeliveryStore deliveries = new DeliveryStore(plans.dataSource());
        deliveries.pendingCount(List.of("file", "http"));
        assertRead(plans.take(), "ix_ktp_delivery_due");
        // at start: deliveries left to a target no longer configured
        deliveries.pendingOutside(List.of("file"));
        assertRead(plans.take(), "ix_ktp_delivery_due");

        // every retention pass, with nothing old enough to go
        LedgerRetention retention = new LedgerRetention(plans.dataSource(), Duration.ofDays(90),
                new Leases(ds, "node-a"), Duration.ofHours(1));
        assertEquals(0, retention.purgeEndedBefore(now - ROWS - 1));
        assertRead(plans.take(), "ix_ktp_submission_created");
        assertEquals(0, retention.forgetKeysBefore(now - ROWS - 1, now - ROWS - 1));
        assertRead(plans.take(), "ix_ktp_processed_input_confirmed");
    }

    /** Every statement the call ran read {@code index}, and no table row by row. */
    private static void assertRead(List<QueryPlans.Plan> plans, String index) {
        assertFalse(plans.isEmpty(), "no statement ran");
        for (QueryPlans.Plan plan : plans) {
            assertTrue(plan.reads(index) && !plan.scansATable(), "not read through " + index + ":\n" + plan);
        }
    }

    /**
     * {@value #ROWS} inputs over the last {@value #ROWS} ms, three at each reference; all but the
     * last {@value #OPEN} ended (most delivered, a few rejected or failed), their results delivered
     * to two targets and let go of by their source, as in a ledger kept for weeks. Returns the moment
     * the last was taken.
     */
    private static long fill(DataSource ds) throws SQLException {
        Ledger ledger = new Ledger(ds);
        for (int i = 0; i < ROWS; i++) {
            String id = UUID.randomUUID().toString();
            ledger.insert(new NewInput(id, "file", ref(i), "scan.jpg", "%064d".formatted(i), 1234L, "image/jpeg",
                    "partner-a", "user-" + i, "PARTNER_USER_ID", UUID.randomUUID().toString(),
                    UUID.randomUUID().toString(), null), SubmissionState.RECEIVED);
        }
        long now = System.currentTimeMillis();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            // the ith input taken at now - ROWS + i (its hash is i), each at a moment of its own
            s.executeUpdate("UPDATE ktp_submission SET created_at = " + (now - ROWS)
                    + " + CAST(RIGHT(source_sha256, 8) AS INT), updated_at = " + (now - ROWS));
            s.executeUpdate("UPDATE ktp_submission SET state = 'DELIVERED', result_status = 'COMPLETED',"
                    + " result = 'PASS', completed_at = created_at, delivered_at = created_at,"
                    + " source_released_at = created_at, updated_at = created_at WHERE created_at < " + (now - OPEN));
            // a few in a hundred rejected or failed
            s.executeUpdate("UPDATE ktp_submission SET state = 'REJECTED', result_status = 'REJECTED' WHERE"
                    + " delivered_at IS NOT NULL AND MOD(CAST(RIGHT(source_sha256, 8) AS INT), 100) BETWEEN 92 AND 96");
            s.executeUpdate("UPDATE ktp_submission SET state = 'FAILED', result_status = 'FAILED' WHERE"
                    + " delivered_at IS NOT NULL AND MOD(CAST(RIGHT(source_sha256, 8) AS INT), 100) >= 97");
            for (String target : List.of("file", "http")) {
                s.executeUpdate("INSERT INTO ktp_delivery (ledger_id, target, state, attempts, next_attempt_at,"
                        + " delivered_at, updated_at) SELECT id, '" + target + "', 'DELIVERED', 1, created_at,"
                        + " created_at, created_at FROM ktp_submission WHERE delivered_at IS NOT NULL");
            }
            s.executeUpdate("INSERT INTO ktp_processed_input (repository, input_key, created_at, confirmed_at, owner,"
                    + " ledger_id) SELECT 'file', source_ref || ':' || id, created_at, created_at, 'node-a', id"
                    + " FROM ktp_submission");
            s.execute("ANALYZE");
        }
        return now;
    }

    /** The reference of the {@code i}th input: a file name counted up, three inputs a name. */
    private static String ref(int i) {
        return "file:/data/drop/2026/11/scan-%06d.jpg".formatted(i % (ROWS / 3));
    }

    /**
     * Two references of 2,048 characters (the column's width) of Thai text, three bytes each in
     * UTF-8 (past what a PostgreSQL index entry takes), alike in their last thousand characters: each
     * input is recorded, and found by its own reference only.
     */
    private static void longNonLatinReferencesAreRecordedAndFound(DataSource ds) {
        SchemaMigrator.migrate(ds);
        Ledger ledger = new Ledger(ds);
        String folder = "/ข้อมูลบัตรประชาชนของลูกค้า".repeat(80);
        String a = longRef("sftp://sftp.partner-a.example:22/", folder);
        String b = longRef("sftp://sftp.partner-b.example:22/", folder);
        assertEquals(2048, a.length());
        assertEquals(a.substring(a.length() - 1000), b.substring(b.length() - 1000));

        String readA = insert(ledger, a, "aa".repeat(32), SubmissionState.RECEIVED);
        String readB = insert(ledger, b, "bb".repeat(32), SubmissionState.RECEIVED);
        String unreadA = insert(ledger, a, null, SubmissionState.REJECTED);

        assertEquals(List.of(readA), ledger.findUnreleasedReadAt(a).stream().map(LedgerRecord::id).toList());
        assertEquals(List.of(readA), ledger.findUnconfirmedAt(a).stream().map(LedgerRecord::id).toList());
        assertEquals(List.of(readB), ledger.findUnconfirmedAt(b).stream().map(LedgerRecord::id).toList());
        assertEquals(unreadA, ledger.findUnreleasedUnread(a, 1234L).orElseThrow().id());
        assertTrue(ledger.findUnreleasedUnread(b, 1234L).isEmpty());
        assertEquals(readA, ledger.findUnreleased(a, "aa".repeat(32)).orElseThrow().id());
        assertEquals(a, ledger.findById(readA).orElseThrow().sourceRef());

        // other bytes at a's reference later: a's input was replaced, b's was not
        insert(ledger, a, "cc".repeat(32), SubmissionState.RECEIVED);
        assertEquals(List.of(readA), ledger.findReplacedUntouchedSince(System.currentTimeMillis() + 1).stream()
                .map(LedgerRecord::id).toList());
    }

    private static String longRef(String prefix, String folder) {
        String ref = prefix + folder;
        return ref.substring(0, 2048 - "/scan.jpg".length()) + "/scan.jpg";
    }

    private static String insert(Ledger ledger, String ref, String sha256, SubmissionState state) {
        String id = UUID.randomUUID().toString();
        ledger.insert(new NewInput(id, "sftp", ref, "scan.jpg", sha256, 1234L, "image/jpeg", "partner-a", "user-1",
                "PARTNER_USER_ID", UUID.randomUUID().toString(), UUID.randomUUID().toString(), null), state);
        return id;
    }
}

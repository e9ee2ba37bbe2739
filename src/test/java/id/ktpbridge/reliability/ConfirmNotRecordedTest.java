package id.ktpbridge.reliability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.testkit.ApiCalls;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.h2.api.Trigger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OneKYC took the confirm, and the ledger then refused to record it (a right taken away for a
 * moment, a write refused for a reason that does not pass by itself): the input must not end
 * FAILED while OneKYC processes its image. It stays in its source, and when taken again its confirm
 * is recorded and OneKYC's own outcome is its one result.
 */
class ConfirmNotRecordedTest {

    /** How many more of the writes {@link RefuseWrites} picks out the database refuses. */
    static final AtomicInteger REFUSALS_LEFT = new AtomicInteger();
    static volatile String COLUMN = "STATE";
    static volatile String VALUE;
    /** Once a picked write was refused, every update is refused for this long (ms; 0: none). */
    static volatile long THEN_ALL_FOR;
    static volatile long allUntil;

    @TempDir
    Path dataDir;

    @AfterEach
    void noMoreRefusals() {
        REFUSALS_LEFT.set(0);
        THEN_ALL_FOR = 0;
        allUntil = 0;
    }

    @Test
    void aConfirmTheLedgerRefusedToRecordIsRecordedWhenTheInputIsTakenAgain() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.source.read-lock-min-age", "100"))) {
            refuse(app, "STATE", "CONFIRMED", 1);
            Results.drop(app.inbox(), "u7201.png", SampleImages.card("u7201", "png"));

            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 1);
            assertEquals(0, REFUSALS_LEFT.get(), "the first record of the confirm was refused");
            JsonNode result = Results.bySourceFile(app.results()).get("u7201.png");
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());

            List<String> submissions = app.sandbox().submissionIds();
            assertEquals(1, submissions.size(), "one presign: " + submissions);
            assertEquals(1, app.sandbox().confirmCount(submissions.get(0)));
            // the one the ledger did not record, and the one of the next take, which OneKYC finds confirmed
            // already; that answer is recorded, so none comes after it
            assertEquals(List.of(200, 409), ApiCalls.confirmAnswers(app.sandbox().requestLog(), submissions.get(0)));
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(app.done().resolve("u7201.png")));
            try (Stream<Path> failed = Files.list(app.failed())) {
                assertEquals(List.of(), failed.toList(), "nothing quarantined");
            } catch (java.nio.file.NoSuchFileException none) {
                // no failed folder: nothing quarantined
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> app.ledger().openCounts().isEmpty());
            assertFalse(Files.exists(app.inbox().resolve("u7201.png")));
        }
    }

    @Test
    void aConfirmRecordedOnlyAfterEveryWriteWasRefusedForAWhileStillEndsInOneResult() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.source.read-lock-min-age", "100"))) {
            // the right to update taken away as the confirm is recorded, and given back 8 s later: the
            // input's next take (after the kept input's pause) meets the refusal too, at its first
            // update (the note of its confirm, before the confirm is sent again)
            THEN_ALL_FOR = 8_000;
            refuse(app, "STATE", "CONFIRMED", 1);
            Results.drop(app.inbox(), "u7203.png", SampleImages.card("u7203", "png"));

            await().atMost(Duration.ofSeconds(90)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.bySourceFile(app.results()).get("u7203.png");
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            List<String> submissions = app.sandbox().submissionIds();
            assertEquals(1, submissions.size(), "one presign: " + submissions);
            assertTrue(app.sandbox().confirmAttempts(submissions.get(0)) >= 2);
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(app.done().resolve("u7203.png")));
            assertFalse(Files.exists(app.failed().resolve("u7203.png")), "not quarantined");
        }
    }

    @Test
    void anOutcomeTheLedgerRefusedToStoreIsStoredLaterNotReplacedByALocalFailure() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.source.read-lock-min-age", "100",
                "ktp.poll.stale-claim-after", "2s"))) {
            // the first collection's write of the outcome is refused (not retried: it does not pass)
            refuse(app, "RESULT_JSON", null, 1);
            Results.drop(app.inbox(), "u7202.png", SampleImages.card("u7202", "png"));

            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 1);
            assertEquals(0, REFUSALS_LEFT.get(), "the first try to store the outcome was refused");
            JsonNode result = Results.bySourceFile(app.results()).get("u7202.png");
            assertEquals("COMPLETED", result.path("status").asText(), "OneKYC's outcome: " + result);
            assertEquals(1, app.sandbox().submissionIds().size());
            await().atMost(Duration.ofSeconds(30)).until(() -> app.ledger().openCounts().isEmpty());
        }
    }

    /**
     * Refuses, as a database refusing the right would (42501), the first {@link #REFUSALS_LEFT}
     * updates that set {@link #COLUMN} to {@link #VALUE} (any value when null) where it held another.
     */
    public static final class RefuseWrites implements Trigger {

        private final Map<String, Integer> columns = new java.util.HashMap<>();

        @Override
        public void init(Connection conn, String schemaName, String triggerName, String tableName, boolean before,
                         int type) throws SQLException {
            try (ResultSet rs = conn.getMetaData().getColumns(null, schemaName, tableName, null)) {
                for (int i = 0; rs.next(); i++) {
                    columns.put(rs.getString("COLUMN_NAME").toUpperCase(java.util.Locale.ROOT), i);
                }
            }
        }

        @Override
        public void fire(Connection conn, Object[] oldRow, Object[] newRow) throws SQLException {
            int i = columns.get(COLUMN);
            Object written = newRow[i];
            if (written != null && (VALUE == null || VALUE.equals(written)) && !written.equals(oldRow[i])
                    && REFUSALS_LEFT.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                allUntil = THEN_ALL_FOR > 0 ? System.currentTimeMillis() + THEN_ALL_FOR : 0;
                throw new SQLException("permission denied for table ktp_submission", "42501");
            }
        }
    }

    /**
     * Refuses every update of the table while {@link #allUntil} lasts, as a right taken away does:
     * per statement, whether or not it would change a row.
     */
    public static final class RefuseAllUpdates implements Trigger {

        @Override
        public void fire(Connection conn, Object[] oldRow, Object[] newRow) throws SQLException {
            if (System.currentTimeMillis() < allUntil) {
                throw new SQLException("permission denied for table ktp_submission", "42501");
            }
        }
    }

    static void refuse(BridgeApp app, String column, String value, int times) throws SQLException {
        COLUMN = column;
        VALUE = value;
        try (Connection c = app.bean("ktpDataSource", javax.sql.DataSource.class).getConnection();
             Statement s = c.createStatement()) {
            s.execute("CREATE TRIGGER refuse_writes BEFORE UPDATE ON ktp_submission FOR EACH ROW CALL '"
                    + RefuseWrites.class.getName() + "'");
            s.execute("CREATE TRIGGER refuse_all_updates BEFORE UPDATE ON ktp_submission FOR EACH STATEMENT CALL '"
                    + RefuseAllUpdates.class.getName() + "'");
        }
        REFUSALS_LEFT.set(times);
    }
}

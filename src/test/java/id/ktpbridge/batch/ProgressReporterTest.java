package id.ktpbridge.batch;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.NewInput;
import id.ktpbridge.ledger.SchemaMigrator;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProgressReporterTest {

    @Test
    void reportsCountsWhileWorkIsOpenAndStaysQuietWhenIdle() {
        JdbcConnectionPool ds = migratedDatabase();
        Ledger ledger = new Ledger(ds);
        ProgressReporter progress = new ProgressReporter(ledger, () -> 0);
        String open = insert(ledger, SubmissionState.RECEIVED);
        insert(ledger, SubmissionState.REJECTED);
        try (LogCapture logs = new LogCapture()) {
            progress.report();
            assertTrue(logs.text().contains("Progress: seen 2, submitted 0, completed 0, OneKYC errors 0, failed/rejected 1, open 1"),
                    logs.text());
            ledger.markEnded(open, SubmissionState.FAILED, "X", "y");
            progress.report();
            assertTrue(logs.text().contains("failed/rejected 2, open 0"), logs.text());
            int lines = logs.text().split("Progress:").length;
            progress.report();
            assertEquals(lines, logs.text().split("Progress:").length, "idle: no new line");
        } finally {
            ds.dispose();
        }
    }

    @Test
    void oneKycErrorsAreCountedApartFromTheCompletedInputs() {
        JdbcConnectionPool ds = migratedDatabase();
        Ledger ledger = new Ledger(ds);
        ProgressReporter progress = new ProgressReporter(ledger, () -> 0);
        for (String status : new String[] {"COMPLETED", "COMPLETED", "ERROR", "TIMED_OUT"}) {
            String id = insert(ledger, SubmissionState.COLLECTING);
            ledger.recordResult(id, status, null, "X", System.currentTimeMillis(), "{}", c -> { });
        }
        insert(ledger, SubmissionState.REJECTED);
        insert(ledger, SubmissionState.CONFIRMED);
        try (LogCapture logs = new LogCapture()) {
            progress.report();
            // each ended input in exactly one figure: 2 + 1 + 2 = the 5 ended
            assertTrue(logs.text().contains("Progress: seen 6, submitted 0, completed 2, OneKYC errors 1,"
                    + " failed/rejected 2, open 1"), logs.text());
        } finally {
            ds.dispose();
        }
    }

    @Test
    void anInputConfirmedAtOneKycCountsAsSubmittedOpenAndOnceEnded() throws Exception {
        JdbcConnectionPool ds = migratedDatabase();
        Ledger ledger = new Ledger(ds);
        // results settle 1 ms after they are written: the ended input's figures are added up, not read again
        ProgressReporter progress = new ProgressReporter(ledger, () -> 0, Duration.ofMillis(1));
        String confirmed = insert(ledger, SubmissionState.RECEIVED);
        insert(ledger, SubmissionState.REJECTED); // never reached OneKYC
        long now = System.currentTimeMillis();
        ledger.markUploaded(confirmed, "sub-1", "psid-1", "sdk-1", "https://storage.test/1", now + 600_000);
        try (LogCapture logs = new LogCapture()) {
            progress.report();
            assertTrue(last(logs).contains("seen 2, submitted 0, completed 0, OneKYC errors 0, failed/rejected 1,"
                    + " open 1"), "uploaded, not yet confirmed: " + last(logs));
            ledger.markConfirmed(confirmed, now, now + 60_000, now + 600_000);
            progress.report();
            assertTrue(last(logs).contains("seen 2, submitted 1, completed 0, OneKYC errors 0, failed/rejected 1,"
                    + " open 1"), last(logs));

            ledger.recordResult(confirmed, "COMPLETED", null, null, System.currentTimeMillis(), "{}", c -> { });
            Thread.sleep(5);
            progress.report();
            assertTrue(last(logs).contains("seen 2, submitted 1, completed 1, OneKYC errors 0, failed/rejected 1,"
                    + " open 0"), last(logs));
        } finally {
            ds.dispose();
        }
    }

    /** Counts what each tick reads: the whole run's count, and the rows read again for it. */
    private static final class Watched extends Ledger {
        final AtomicInteger wholeRunCounts = new AtomicInteger();
        volatile long lastReadAgain = -1;

        Watched(JdbcConnectionPool ds) {
            super(ds);
        }

        @Override
        public Progress progressOfRun(long since) {
            wholeRunCounts.incrementAndGet();
            return super.progressOfRun(since);
        }

        @Override
        public Progress progressOfRunFrom(long since, long from) {
            Progress p = super.progressOfRunFrom(since, from);
            lastReadAgain = p.seen();
            return p;
        }
    }

    @Test
    void theFiguresStayRightOverSeveralTicksAndInputsThatEndedAreNotCountedAgainEachTick() throws Exception {
        JdbcConnectionPool ds = migratedDatabase();
        Watched ledger = new Watched(ds);
        String earlier = insert(ledger, SubmissionState.CONFIRMED);
        try (var c = ds.getConnection(); var ps = c.prepareStatement("UPDATE ktp_submission SET created_at = 1")) {
            ps.executeUpdate();
        }
        // results settle 1 ms after they are written: each is added up once, at the next tick
        ProgressReporter progress = new ProgressReporter(ledger, () -> 0, Duration.ofMillis(1));
        try (LogCapture logs = new LogCapture()) {
            for (String status : new String[] {"COMPLETED", "ERROR"}) {
                String id = insert(ledger, SubmissionState.COLLECTING);
                ledger.recordResult(id, status, null, "X", System.currentTimeMillis(), "{}", c -> { });
            }
            String rejected = insert(ledger, SubmissionState.REJECTED); // its result not written yet
            String received = insert(ledger, SubmissionState.RECEIVED);
            Thread.sleep(5);
            progress.report();
            String seen4 = "seen 4, submitted 0, completed 1, OneKYC errors 1, failed/rejected 1, open 2";
            assertTrue(last(logs).contains(seen4), last(logs));
            assertEquals(2, ledger.lastReadAgain, "the two results were added up, not read again: " + last(logs));
            progress.report();
            assertTrue(last(logs).contains(seen4), "the same figures at the next tick: " + last(logs));

            ledger.recordResult(rejected, "REJECTED", null, "X", System.currentTimeMillis(), "{}", c -> { });
            ledger.recordResult(earlier, "FAILED", null, "X", System.currentTimeMillis(), "{}", c -> { });
            Thread.sleep(5);
            progress.report();
            String seen5 = "seen 5, submitted 0, completed 1, OneKYC errors 1, failed/rejected 2, open 1";
            assertTrue(last(logs).contains(seen5), last(logs));
            assertEquals(1, ledger.lastReadAgain, last(logs));

            ledger.markEnded(received, SubmissionState.FAILED, "X", "y"); // no result written
            progress.report();
            assertTrue(last(logs).contains("seen 5, submitted 0, completed 1, OneKYC errors 1, failed/rejected 3,"
                    + " open 0"), last(logs));
            int lines = logs.count("Progress:");
            progress.report();
            assertEquals(lines, logs.count("Progress:"), "idle: no new line");
            assertEquals(1, ledger.lastReadAgain, "the idle tick read only the input without a result");
            assertEquals(0, ledger.wholeRunCounts.get(), "no tick counted the whole run");
        } finally {
            ds.dispose();
        }
    }

    private static String last(LogCapture logs) {
        return logs.text().substring(logs.text().lastIndexOf("Progress:"));
    }

    @Test
    void aLedgerThatFailsGivesOneWarningAMinuteNotAnErrorPerTick() throws Exception {
        JdbcConnectionPool ds = migratedDatabase();
        ProgressReporter progress = new ProgressReporter(new Ledger(ds), () -> 0);
        try (var c = ds.getConnection(); var st = c.createStatement()) {
            st.execute("DROP TABLE ktp_submission CASCADE"); // every reading now fails in the database
        }
        try (LogCapture logs = new LogCapture()) {
            progress.report();
            progress.report();
            assertEquals(1, logs.count("Progress not read: "), logs.text());
        } finally {
            ds.dispose();
        }
    }

    @Test
    void theRateCoversTheLastPeriodAndOpenInputsOfEarlierRunsCount() throws Exception {
        JdbcConnectionPool ds = migratedDatabase();
        Ledger ledger = new Ledger(ds);
        // open since an earlier run
        String earlier = insert(ledger, SubmissionState.CONFIRMED);
        try (var c = ds.getConnection(); var ps = c.prepareStatement("UPDATE ktp_submission SET created_at = 1")) {
            ps.executeUpdate();
        }
        ProgressReporter progress = new ProgressReporter(ledger, () -> 0);
        try (LogCapture logs = new LogCapture()) {
            progress.report();
            assertTrue(logs.text().contains("seen 0, submitted 0, completed 0, OneKYC errors 0, failed/rejected 0, open 1"), logs.text());
            insert(ledger, SubmissionState.REJECTED);
            insert(ledger, SubmissionState.REJECTED);
            progress.report();
            String last = logs.text().substring(logs.text().lastIndexOf("Progress:"));
            assertTrue(last.contains("seen 2, submitted 0, completed 0, OneKYC errors 0, failed/rejected 2, open 1"), last);
            assertFalse(last.contains("rate 0.0/s"), "two inputs ended since the last tick: " + last);
            assertFalse(last.contains("ETA unknown"), last);

            // the earlier run's input ends now, FAILED after its confirm (its details never came)
            ledger.recordResult(earlier, "FAILED", null, "GTF_DETAILS_FAILED", System.currentTimeMillis(), "{}", c -> { });
            progress.report();
            last = logs.text().substring(logs.text().lastIndexOf("Progress:"));
            assertTrue(last.contains("seen 3, submitted 0, completed 0, OneKYC errors 0, failed/rejected 3, open 0"), last);
        } finally {
            ds.dispose();
        }
    }

    @Test
    void aDropFolderThatCannotBeListedStillGetsItsLine() throws Exception {
        JdbcConnectionPool ds = migratedDatabase();
        Ledger ledger = new Ledger(ds);
        ProgressReporter progress = new ProgressReporter(ledger, () -> {
            throw new DropFolder.ListingFailed(new java.io.IOException("Input/output error"));
        });
        try (LogCapture logs = new LogCapture()) {
            insert(ledger, SubmissionState.RECEIVED);
            progress.report();
            String last = logs.text().substring(logs.text().lastIndexOf("Progress:"));
            assertTrue(last.contains("open 1, waiting in the drop folder unknown"), last);
            assertTrue(last.contains("ETA unknown"), last);
        } finally {
            ds.dispose();
        }
    }

    @Test
    void filesWaitingInTheDropFolderCountIntoTheEtaAndTheRateNeverGoesBelowZero() throws Exception {
        JdbcConnectionPool ds = migratedDatabase();
        Ledger ledger = new Ledger(ds);
        java.util.concurrent.atomic.AtomicLong waiting = new java.util.concurrent.atomic.AtomicLong(5000);
        ProgressReporter progress = new ProgressReporter(ledger, waiting::get);
        try (LogCapture logs = new LogCapture()) {
            progress.report();
            insert(ledger, SubmissionState.REJECTED);
            insert(ledger, SubmissionState.REJECTED);
            Thread.sleep(50);
            progress.report();
            String last = logs.text().substring(logs.text().lastIndexOf("Progress:"));
            // nothing open in the ledger, but 5000 files still to take: an ETA for them, not "-"
            assertTrue(last.contains("open 0, waiting in the drop folder 5000"), last);
            assertFalse(last.contains("ETA -"), last);

            // the retention removed rows this run had counted: no negative rate
            try (var c = ds.getConnection(); var ps = c.prepareStatement("DELETE FROM ktp_submission")) {
                ps.executeUpdate();
            }
            insert(ledger, SubmissionState.RECEIVED);
            progress.report();
            last = logs.text().substring(logs.text().lastIndexOf("Progress:"));
            assertTrue(last.contains("rate 0.0/s, ETA unknown"), last);

            // nothing open and nothing ended: quiet, though files wait that are never taken
            try (var c = ds.getConnection(); var ps = c.prepareStatement("DELETE FROM ktp_submission")) {
                ps.executeUpdate();
            }
            progress.report();
            int lines = logs.text().split("Progress:").length;
            progress.report();
            assertEquals(lines, logs.text().split("Progress:").length, "no new line");
        } finally {
            ds.dispose();
        }
    }

    @Test
    void theProgressRouteWritesTheLineOnItsTimer(@TempDir Path dataDir) throws Exception {
        // through route report-progress and its timer, as a run writes it; the tests above call report()
        try (LogCapture logs = new LogCapture();
             BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.progress.interval", "300"))) {
            Results.drop(app.inbox(), "u9301.png", SampleImages.card("u9301", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> logs.count("Progress: seen 1, ") > 0);
            // confirmed at OneKYC: the line that tells its end says so
            await().atMost(Duration.ofSeconds(30)).until(() -> logs.count("Progress: seen 1, submitted 1, completed 1,") > 0);
        }
    }

    private static JdbcConnectionPool migratedDatabase() {
        JdbcConnectionPool ds = JdbcConnectionPool.create("jdbc:h2:mem:progress-" + UUID.randomUUID()
                + ";DB_CLOSE_DELAY=-1", "sa", "");
        SchemaMigrator.migrate(ds);
        return ds;
    }

    private static String insert(Ledger ledger, SubmissionState state) {
        String id = UUID.randomUUID().toString();
        ledger.insert(new NewInput(id, "file", "file:/x/" + id, id + ".png", "ab", 1L, "image/png", "P", "u", "T",
                UUID.randomUUID().toString(), UUID.randomUUID().toString(), null), state);
        return id;
    }
}

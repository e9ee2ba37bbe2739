package id.ktpbridge.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerException;
import id.ktpbridge.ledger.NewInput;
import id.ktpbridge.ledger.SchemaMigrator;
import id.ktpbridge.ledger.SubmissionState;
import org.apache.camel.impl.DefaultCamelContext;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Batch mode's end while the ledger database does not answer: the run still ends, and says so. */
class BatchMonitorTest {

    @TempDir
    Path inbox;

    private final JdbcConnectionPool ds = JdbcConnectionPool.create("jdbc:h2:mem:monitor-" + UUID.randomUUID()
            + ";DB_CLOSE_DELAY=-1", "sa", "");
    private final AtomicInteger refusals = new AtomicInteger();
    private final CompletableFuture<String> finished = new CompletableFuture<>();
    private final id.ktpbridge.ingest.SettledInPlace settled = new id.ktpbridge.ingest.SettledInPlace();
    private int exitCode = -1;

    /** Refuses its first {@link #refusals} open-count reads as a database failing over would. */
    /** Runs before the open-count read of that number (1 = the first), once. */
    private volatile int beforeRead;
    private volatile Runnable atRead = () -> { };
    private final AtomicInteger reads = new AtomicInteger();

    private final Ledger ledger = new Ledger(migrated(ds)) {
        @Override
        public Map<String, Integer> openCounts() {
            if (reads.incrementAndGet() == beforeRead) {
                atRead.run();
            }
            if (refusals.getAndDecrement() > 0) {
                throw new LedgerException(new SQLTransientConnectionException("connection lost"));
            }
            return super.openCounts();
        }
    };

    @AfterEach
    void tearDown() {
        ds.dispose();
    }

    @Test
    void aLedgerAwayForAMomentOnlyDelaysTheEnd() throws Exception {
        refusals.set(5);
        monitor(Duration.ofSeconds(20)).start();
        String report = finished.get(15, TimeUnit.SECONDS);
        assertEquals(0, exitCode, report);
        assertTrue(report.contains("Every input has a result record."), report);
        assertTrue(refusals.get() < 0, "it went on asking after the refusals");
    }

    @Test
    void aRunFoundDoneJustBeforeItsMaxWaitIsNotReportedAsEndedByIt() throws Exception {
        Duration maxWait = Duration.ofSeconds(2);
        BatchMonitor monitor = monitor(maxWait);
        long madeAt = System.currentTimeMillis(); // its max-wait counts from a moment before
        // the first wait's second quiet check comes at the deadline: the run is done then
        beforeRead = 2;
        atRead = () -> org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                .pollInterval(Duration.ofMillis(5))
                .until(() -> System.currentTimeMillis() >= madeAt + maxWait.toMillis() - 20);
        try (id.ktpbridge.testkit.LogCapture log = new id.ktpbridge.testkit.LogCapture()) {
            monitor.start();
            String report = finished.get(15, TimeUnit.SECONDS);
            assertEquals(0, exitCode, report);
            assertEquals(0, log.count("ktp.batch.max-wait passed"), log.text());
        }
    }

    @Test
    void aLedgerStillAwayAtTheEndStillEndsTheRunWithExitOne() throws Exception {
        refusals.set(Integer.MAX_VALUE);
        monitor(Duration.ofMillis(500)).start();
        String report = finished.get(15, TimeUnit.SECONDS);
        assertEquals(1, exitCode);
        assertTrue(report.contains("The summary could not be read from the ledger"), report);
    }

    @Test
    void anEarlierRunsInputThatEndedWithoutItsResultMakesTheRunFail() throws Exception {
        String id = UUID.randomUUID().toString();
        ledger.insert(new NewInput(id, "file", "file:/in/u1.png", "u1.png", "ab", 1L, "image/png", "P", "u1", "T",
                UUID.randomUUID().toString(), UUID.randomUUID().toString(), null), SubmissionState.RECEIVED);
        ledger.markEnded(id, SubmissionState.FAILED, "GTF_PRESIGN_FAILED", "refused");
        try (var c = ds.getConnection(); var ps = c.prepareStatement("UPDATE ktp_submission SET created_at = 1")) {
            ps.executeUpdate();
        }
        monitor(Duration.ofSeconds(20)).start();
        String report = finished.get(15, TimeUnit.SECONDS);
        assertEquals(1, exitCode, report);
        assertTrue(report.contains("1 input(s) ended without a stored result"), report);
    }

    @Test
    void aCompletedResultWithoutAVerdictIsNoSuccess() throws Exception {
        String id = insertEarlier(SubmissionState.CONFIRMED);
        BatchMonitor monitor = monitor(Duration.ofSeconds(20));
        // details that still had no result at the poll deadline, published as they were
        ledger.recordResult(id, "COMPLETED", null, null, System.currentTimeMillis(), "{}", c -> { });
        monitor.start();
        String report = finished.get(15, TimeUnit.SECONDS);
        assertEquals(BatchMonitor.EXIT_WITHOUT_VERDICT, exitCode, report);
        assertTrue(report.contains("1 input(s) got no verdict from OneKYC"), report);
    }

    @Test
    void anEarlierRunsInputThisRunEndedIsInItsSummaryAndExitCode() throws Exception {
        String id = insertEarlier(SubmissionState.CONFIRMED);
        BatchMonitor monitor = monitor(Duration.ofSeconds(20));
        // resumed by this run, and ended without a verdict from OneKYC
        ledger.recordResult(id, "TIMED_OUT", null, "POLL_DEADLINE", System.currentTimeMillis(), "{}", c -> { });
        monitor.start();
        String report = finished.get(15, TimeUnit.SECONDS);
        assertEquals(BatchMonitor.EXIT_WITHOUT_VERDICT, exitCode, report);
        assertTrue(report.lines().anyMatch(l -> l.startsWith("local-" + id) && l.contains("TIMED_OUT")), report);
    }

    @Test
    void anEarlierRunsInputStillOpenAtTheEndMakesTheRunFail() throws Exception {
        insertEarlier(SubmissionState.CONFIRMED);
        monitor(Duration.ofMillis(500)).start();
        String report = finished.get(15, TimeUnit.SECONDS);
        assertEquals(1, exitCode, report);
        assertTrue(report.contains("Open submissions: {CONFIRMED=1}"), report);
        assertTrue(report.contains("Some inputs have no result record yet."), report);
    }

    @Test
    void inputsLeftToAnotherInstanceDoNotHoldTheRunToItsMaxWait() throws Exception {
        // at a place no source of this run reads, on a ledger other instances use: not this run's to end
        insertEarlier(SubmissionState.RECEIVED);
        BatchMonitor monitor = monitor(Duration.ofSeconds(60));
        monitor.notWaitingFor(() -> 1);
        monitor.start();
        String report = finished.get(15, TimeUnit.SECONDS);
        assertEquals(1, exitCode, report);
        assertTrue(report.contains("Open submissions: {RECEIVED=1}"), report);
        assertTrue(report.contains("1 of them wait at a place no source of this run reads"), report);
    }

    @Test
    void anInputGivenBackToTheFolderJustBeforeTheRouteStopDoesNotHoldTheRunToItsMaxWait() throws Exception {
        // the run is found done (two quiet reads), the route stops, and then a file it took in that
        // moment turns out given back to the folder by a passing failure: not confirmed, no worker has it
        beforeRead = 3;
        atRead = () -> {
            try {
                insertEarlier(SubmissionState.PRESIGNED);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        monitor(Duration.ofSeconds(60)).start();
        String report = finished.get(15, TimeUnit.SECONDS);
        assertEquals(1, exitCode, report);
        assertTrue(report.contains("Open submissions: {PRESIGNED=1}"), report);
    }

    @Test
    void anOpenInputBesideThoseLeftToAnotherInstanceIsWaitedFor() throws Exception {
        insertEarlier(SubmissionState.RECEIVED);
        insertEarlier(SubmissionState.CONFIRMED);
        BatchMonitor monitor = monitor(Duration.ofSeconds(2));
        monitor.notWaitingFor(() -> 1);
        long began = System.nanoTime();
        monitor.start();
        String report = finished.get(15, TimeUnit.SECONDS);
        assertTrue(Duration.ofNanos(System.nanoTime() - began).toMillis() >= 1_900, "waited for the other one");
        assertEquals(1, exitCode, report);
    }

    @Test
    void aHiddenFileTheSourceNeverTakesDoesNotKeepTheRunOpen() throws Exception {
        // the AppleDouble file a Mac copies next to an image
        java.nio.file.Files.write(inbox.resolve("._u1.png"), new byte[] {0, 5, 22, 7});
        monitor(Duration.ofSeconds(20)).start();
        String report = finished.get(15, TimeUnit.SECONDS);
        assertEquals(0, exitCode, report);
        assertTrue(report.contains("Every input has a result record."), report);
    }

    @Test
    void aFileWhoseMoveAwayWasRefusedEndsTheRunAtOnceWithExitOne() throws Exception {
        // its result is recorded, but the done folder refused it: the source never takes it again
        java.nio.file.Path file = java.nio.file.Files.write(inbox.resolve("u2.png"), new byte[] {1, 2, 3});
        org.apache.camel.Exchange exchange = new org.apache.camel.support.DefaultExchange(new DefaultCamelContext());
        exchange.getMessage().setHeader("CamelFileAbsolutePath", file.toAbsolutePath().toString());
        exchange.getMessage().setHeader(org.apache.camel.Exchange.FILE_LENGTH, java.nio.file.Files.size(file));
        exchange.getMessage().setHeader(org.apache.camel.Exchange.FILE_LAST_MODIFIED,
                java.nio.file.Files.getLastModifiedTime(file).toMillis());
        settled.remember(exchange);

        monitor(Duration.ofSeconds(60)).start();
        String report = finished.get(15, TimeUnit.SECONDS);
        assertEquals(1, exitCode, report);
        assertTrue(report.contains("1 input(s) stay in the source folder with their result recorded"), report);
        assertTrue(report.contains("not every input could be moved away"), report);
    }

    @Test
    void aDropFolderThatCannotBeListedForAMomentOnlyDelaysTheEnd() throws Exception {
        AtomicInteger failures = new AtomicInteger(5);
        monitor(Duration.ofSeconds(20), unlistable(failures)).start();
        String report = finished.get(15, TimeUnit.SECONDS);
        assertEquals(0, exitCode, report);
        assertTrue(report.contains("Every input has a result record."), report);
        assertTrue(failures.get() < 0, "it went on listing after the failures instead of counting them as empty");
    }

    @Test
    void aDropFolderStillUnlistableAtTheEndMakesTheRunFail() throws Exception {
        monitor(Duration.ofMillis(500), unlistable(new AtomicInteger(Integer.MAX_VALUE))).start();
        String report = finished.get(15, TimeUnit.SECONDS);
        assertEquals(1, exitCode, report);
        assertTrue(report.contains("Inputs may still wait in the source folder: the drop folder could not be listed"),
                report);
        assertTrue(report.contains("Some inputs have no result record yet."), report);
    }

    @Test
    void aDropFolderWhoseAttributesCannotBeReadIsNoMissingFolder() throws Exception {
        // a share whose handle went stale: even its attributes fail, which Files.isDirectory reads as "no folder"
        monitor(Duration.ofMillis(500), failingShare(new AtomicInteger(Integer.MAX_VALUE), true)).start();
        String report = finished.get(15, TimeUnit.SECONDS);
        assertEquals(1, exitCode, report);
        assertTrue(report.contains("Inputs may still wait in the source folder"), report);
    }

    @Test
    void aFileThatIsListedButCannotBeLookedAtEndsTheRunWithExitOne() throws Exception {
        java.nio.file.Path refused = java.nio.file.Files.write(inbox.resolve("u3.png"), new byte[] {1, 2, 3});
        // a share refusing to stat its entries (or a folder without its x bit): counted as no file, the run
        // ended with exit 0 and nothing taken. Root looks at any file, so the refusal is the seam's
        DropFolder folder = new DropFolder(inbox, ".*\\.png", settled::holds) {
            @Override
            protected java.nio.file.attribute.BasicFileAttributes attributes(java.nio.file.Path file,
                    java.nio.file.LinkOption... options) throws java.io.IOException {
                if (file.equals(refused)) {
                    throw new java.nio.file.FileSystemException(file.toString(), null, "Stale file handle");
                }
                return super.attributes(file, options);
            }
        };
        monitor(Duration.ofSeconds(60), folder).start();
        String report = finished.get(15, TimeUnit.SECONDS);
        assertEquals(1, exitCode, report);
        assertTrue(report.contains("1 file(s) stay in the source folder untaken: they are listed but cannot be looked"
                + " at"), report);
        assertTrue(report.contains("not every file could be taken"), report);
        assertFalse(report.contains("u3"), report);
    }

    /** The inbox as a network share that refuses its first {@code failures} listings (root may list any folder). */
    private DropFolder unlistable(AtomicInteger failures) {
        return failingShare(failures, false);
    }

    /**
     * The inbox as a network share whose first {@code failures} looks fail: its listings, or with
     * {@code attributes} even its attributes (a stale handle).
     */
    private DropFolder failingShare(AtomicInteger failures, boolean attributes) {
        return new DropFolder(inbox, ".*\\.png", settled::holds) {
            @Override
            protected java.util.stream.Stream<java.nio.file.Path> list() throws java.io.IOException {
                fail(false);
                return super.list();
            }

            @Override
            protected java.nio.file.attribute.BasicFileAttributes attributes() throws java.io.IOException {
                fail(true);
                return super.attributes();
            }

            private void fail(boolean attributeLook) throws java.io.IOException {
                if (attributeLook == attributes && failures.getAndDecrement() > 0) {
                    throw new java.nio.file.FileSystemException(inbox.toString(), null, "Input/output error");
                }
            }
        };
    }

    /** An input taken by an earlier run, now in {@code state}. */
    private String insertEarlier(SubmissionState state) throws Exception {
        String id = UUID.randomUUID().toString();
        ledger.insert(new NewInput(id, "file", "file:/in/u1.png", "u1.png", "ab", 1L, "image/png", "P", "u1", "T",
                UUID.randomUUID().toString(), UUID.randomUUID().toString(), null), state);
        try (var c = ds.getConnection(); var ps = c.prepareStatement("UPDATE ktp_submission SET created_at = 1")) {
            ps.executeUpdate();
        }
        return id;
    }

    private BatchMonitor monitor(Duration maxWait) {
        return monitor(maxWait, new DropFolder(inbox, ".*\\.png", settled::holds));
    }

    private BatchMonitor monitor(Duration maxWait, DropFolder dropFolder) {
        return new BatchMonitor(new DefaultCamelContext(), ledger, () -> 0, since -> 0, Duration.ofSeconds(1),
                dropFolder, maxWait, Duration.ofMillis(20), (code, text) -> {
                    exitCode = code;
                    finished.complete(text);
                });
    }

    private static JdbcConnectionPool migrated(JdbcConnectionPool ds) {
        SchemaMigrator.migrate(ds);
        return ds;
    }
}

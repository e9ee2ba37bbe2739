package id.ktpbridge.ledger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import id.ktpbridge.testkit.FullDisk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The embedded ledger's file cannot be written (a full disk): H2 closes the database and drops
 * the commits it had not written. The pool opens the file anew, so the ledger answers again once
 * it can be written, without a restart; a write the closed database lost is not reported flushed.
 */
class LedgerFullDiskTest {

    @TempDir
    Path dir;

    private DataSources.Pool pool;

    @AfterEach
    void tearDown() throws Exception {
        FullDisk.free();
        if (pool != null) {
            pool.closer().close();
        }
    }

    /** The default ledger's settings, on a disk that can be filled. */
    private Ledger ledger(boolean tryingOnce) {
        String url = "jdbc:h2:" + FullDisk.prefix() + "async:" + dir.resolve("ledger").toString().replace('\\', '/')
                + ";DB_CLOSE_ON_EXIT=FALSE;QUERY_CACHE_SIZE=32;RETENTION_TIME=1000";
        // the ledger's pool, or an H2 results database's (ResultsDatabase)
        pool = tryingOnce ? DataSources.createTryingOnce(url, "sa", "", 4, "full-disk", Duration.ZERO)
                : DataSources.create(url, "sa", "", 4, "full-disk");
        SchemaMigrator.migrate(pool.dataSource());
        return new Ledger(pool.dataSource());
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aLedgerWhoseFileCouldNotBeWrittenAnswersAgainThroughTheSamePoolOnceItCan(boolean tryingOnce) {
        Ledger ledger = ledger(tryingOnce);
        ledger.insert(LedgerTest.input("kept", "kept.png"), SubmissionState.RECEIVED);
        ledger.flush();

        FullDisk.fill();
        ledger.insert(LedgerTest.input("lost", "lost.png"), SubmissionState.RECEIVED);
        LedgerException failed = assertThrows(LedgerException.class, ledger::flush);
        assertTrue(failed.isStoreFailure(), failed.getMessage());
        assertTrue(failed.isTransient(), "tried again, it works once the file can be written");
        // H2 closes the database for the failed write, at once or at its next write to the file
        // (its background writer may have been first: then the flush met it closed)
        boolean[] closed = {failed.getMessage().contains("90098")};
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            try {
                ledger.findById("kept");
            } catch (LedgerException e) {
                assertTrue(e.isStoreFailure() && e.isTransient(), e.getMessage());
                closed[0] = true;
            }
            return closed[0];
        });

        FullDisk.free();
        assertTrue(ledger.findById("kept").isPresent(), "the ledger answers through the same pool");
        assertFalse(ledger.findById("lost").isPresent(), "H2 dropped the commit it could not write");
        ledger.insert(LedgerTest.input("after", "after.png"), SubmissionState.RECEIVED);
        ledger.flush();
        assertTrue(ledger.findById("after").isPresent());
    }

    @Test
    void aWriteTheClosedDatabaseLostIsNotReportedFlushedByACheckpointOfTheOneOpenedAnew() throws Exception {
        Ledger ledger = ledger(false);
        ledger.insert(LedgerTest.input("kept", "kept.png"), SubmissionState.RECEIVED);
        ledger.flush();

        FullDisk.fill();
        ledger.insert(LedgerTest.input("lost", "lost.png"), SubmissionState.RECEIVED);
        // another thread meets the closed database first (H2's background write failed), and the
        // pool opens the file anew, which can be written again, before this writer flushes
        CompletableFuture.runAsync(() -> await().atMost(Duration.ofSeconds(10)).until(() -> {
            try {
                ledger.flush();
                ledger.findById("kept");
                return false;
            } catch (LedgerException closed) {
                return closed.getMessage().contains("90098");
            }
        })).get();
        FullDisk.free();
        assertTrue(ledger.findById("kept").isPresent());
        assertFalse(ledger.findById("lost").isPresent(), "H2 dropped the commit it could not write");

        LedgerException lost = assertThrows(LedgerException.class, ledger::flush,
                "a checkpoint of the database opened anew does not hold this thread's write");
        assertTrue(lost.isStoreFailure() && lost.isTransient(), lost.getMessage());
        // a write made since is flushed as usual
        ledger.insert(LedgerTest.input("after", "after.png"), SubmissionState.RECEIVED);
        ledger.flush();
    }
}

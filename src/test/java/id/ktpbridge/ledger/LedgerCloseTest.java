package id.ktpbridge.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the ledger wrote in the moments before a normal close is there at the next open. With H2
 * 2.3.232's compaction at close, confirms made and checkpointed before the close were gone (back
 * at UPLOADED) by round 5 to 13 in each of 3 runs; see {@link H2FileUrls}.
 */
class LedgerCloseTest {

    private static final int ROUNDS = 40;

    @TempDir
    Path dir;

    @Test
    void writesMadeJustBeforeACloseAreThereAtTheNextOpen() throws Exception {
        for (int round = 0; round < ROUNDS; round++) {
            // the bundle's H2 settings, with space freed after 0.1 s instead of 1 s: the same
            // sequence of chunks in a tenth of the time
            String url = "jdbc:h2:file:" + dir.resolve("round-" + round).resolve("ledger").toString().replace('\\', '/')
                    + ";DB_CLOSE_ON_EXIT=FALSE;QUERY_CACHE_SIZE=32;RETENTION_TIME=100";
            List<String> confirmed = writeAndClose(url, 2 + round % 4);
            DataSources.Pool reopened = DataSources.create(url, "sa", "", 2, "close-test-reopened");
            try {
                Ledger ledger = new Ledger(reopened.dataSource());
                for (String id : confirmed) {
                    assertEquals(SubmissionState.CONFIRMED, ledger.findById(id).map(LedgerRecord::state).orElse(null),
                            "round " + round + ": input " + id + " after the close");
                }
            } finally {
                reopened.closer().close();
            }
        }
    }

    /** Takes in, presigns, uploads and confirms {@code inputs} inputs at an uneven pace, as the bundle does, then closes. */
    private static List<String> writeAndClose(String url, int inputs) throws Exception {
        DataSources.Pool pool = DataSources.create(url, "sa", "", 8, "close-test");
        try {
            SchemaMigrator.migrate(pool.dataSource());
            Ledger ledger = new Ledger(pool.dataSource());
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < inputs; i++) {
                String id = UUID.randomUUID().toString();
                ledger.insert(new NewInput(id, "file", "/inbox/" + id, id + ".png", String.format("%064x", i), 1L,
                        "image/png", "partner", "u" + i, "PARTNER_USER_ID", UUID.randomUUID().toString(),
                        UUID.randomUUID().toString(), null), SubmissionState.RECEIVED);
                ids.add(id);
                pause(60);
            }
            for (String id : ids) {
                String submission = UUID.randomUUID().toString();
                long expires = System.currentTimeMillis() + 600_000;
                ledger.holdSubmission(id, submission, "partner-session", "sdk-session", "http://storage/" + submission,
                        expires);
                pause(50);
                ledger.markUploaded(id, submission, "partner-session", "sdk-session", "http://storage/" + submission,
                        expires);
                ledger.flush();
                pause(50);
                long now = System.currentTimeMillis();
                ledger.markConfirmed(id, now, now, now + 600_000);
                ledger.flush();
            }
            pause(20);
            return ids;
        } finally {
            pool.closer().close();
        }
    }

    private static void pause(int upToMillis) throws InterruptedException {
        Thread.sleep(ThreadLocalRandom.current().nextInt(upToMillis));
    }
}

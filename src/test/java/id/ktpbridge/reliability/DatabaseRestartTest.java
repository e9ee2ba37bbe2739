package id.ktpbridge.reliability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.PostgresServer;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ledger's PostgreSQL goes away mid-batch (stopped as a crash would, then started again, as
 * in a failover): every input still ends COMPLETED, with exactly one confirmed submission each.
 */
class DatabaseRestartTest {

    private static final int IMAGES = 40;

    @TempDir
    Path dataDir;

    @Test
    void aDatabaseRestartMidBatchFailsNothingAndSubmitsNothingTwice() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            String url = pg.createDatabase("ktp_restart");
            Map<String, String> props = Map.of("ktp.db.url", url, "ktp.db.user", "postgres",
                    "ktp.source.read-lock-min-age", "100", "ktp.concurrency", "4");
            try (BridgeApp app = BridgeApp.start(dataDir, props)) {
                app.sandbox().settings().setLatencyMillis(40);
                for (int i = 0; i < IMAGES; i++) {
                    Results.drop(app.inbox(), String.format("u93%02d.png", i), SampleImages.card("restart-" + i, "png"));
                }
                await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) >= IMAGES / 5);

                pg.stop();
                // results only grow: any input without one now was still to finish when the database went away
                long resultsWhileDown = Results.count(app.results());
                pg.startAgain();
                assertTrue(resultsWhileDown < IMAGES, "the database went away before the batch was done");

                await().atMost(Duration.ofSeconds(120)).until(() -> Results.count(app.results()) >= IMAGES);
                await().atMost(Duration.ofSeconds(30)).until(() -> app.ledger().openCounts().isEmpty());
                Map<String, Integer> statuses = new TreeMap<>();
                for (JsonNode r : Results.read(app.results())) {
                    statuses.merge(r.path("status").asText(), 1, Integer::sum);
                }
                assertEquals(Map.of("COMPLETED", IMAGES), statuses);
                long confirmed = app.sandbox().submissionIds().stream()
                        .filter(id -> app.sandbox().confirmCount(id) > 0).count();
                assertEquals(IMAGES, confirmed, "one confirmed submission per input");
            }
        }
    }
}

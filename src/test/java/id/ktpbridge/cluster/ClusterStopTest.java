package id.ktpbridge.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.PostgresServer;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stop in cluster mode leaves no pool of the bundle's to Camel's last sweep, which waits 10 s for
 * each one still holding work (a queued claim renewal, minutes ahead, counted as such): a rolling
 * update's budget (terminationGracePeriodSeconds) counts only the worker pools.
 */
class ClusterStopTest {

    @TempDir
    Path dataDir;

    @Test
    void aStopLeavesNoPoolForCamelToWaitFor() throws Exception {
        try (PostgresServer pg = PostgresServer.start(); LogCapture log = new LogCapture()) {
            String url = pg.createDatabase("ktp_cluster_stop");
            BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.cluster.enabled", "true",
                    "ktp.cluster.instance-id", "stop-node", "ktp.db.url", url, "ktp.db.user", "postgres"));
            try {
                Results.drop(app.inbox(), "u9301.png", SampleImages.card("u9301", "png"));
                await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 1);
            } finally {
                app.close();
            }
            assertTrue(log.text().contains("stopped"), "the stop was logged: " + log.text().length());
            assertEquals(-1, log.text().indexOf("Forcing shutdown of ExecutorService"),
                    "a pool was left to Camel's wait at the stop");
        }
    }
}

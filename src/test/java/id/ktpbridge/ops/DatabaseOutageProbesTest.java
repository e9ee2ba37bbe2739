package id.ktpbridge.ops;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.PostgresServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The management port while the ledger database is down. Kubernetes probes with a timeout of a
 * few seconds (config/kubernetes/deployment.yaml: 5 s): liveness, readiness and a metrics scrape
 * must all answer without waiting on the database, liveness UP (a restart does not bring a
 * database back), readiness DOWN until the database is back.
 */
class DatabaseOutageProbesTest {

    /**
     * Not a speed bound: as long as the ledger pool's connection wait (DataSources, 10 s). A probe
     * that waited on the database takes at least that long and fails; one served from memory
     * answers far within it, even on a loaded machine.
     */
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dataDir;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(PROBE_TIMEOUT).build();

    @Test
    void probesAnswerInTimeWhileTheLedgerDatabaseIsDown() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            String url = pg.createDatabase("ktp_ledger");
            try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.db.url", url, "ktp.db.user", "postgres",
                    "ktp.management.ledger-refresh", "1s"))) {
                await().atMost(Duration.ofSeconds(60)).until(() -> get(app, "/observe/health/ready") == 200);

                pg.stop();
                // readiness goes DOWN, no answer waiting on the database
                await().atMost(Duration.ofSeconds(30)).until(() -> get(app, "/observe/health/ready") == 503);
                // the ledger's gauges say they are unknown, not the last reading as if current
                String metrics = http.send(HttpRequest.newBuilder(URI.create(app.managementUrl("/observe/metrics")))
                        .timeout(PROBE_TIMEOUT).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
                assertTrue(metrics.contains("ktp_polls_due NaN"), metrics);
                // for the rest of a pool's connection wait and more, in the probes' own rhythm (failFast: one
                // reading otherwise would only start the window again, within the long atMost)
                await().during(Duration.ofSeconds(15)).atMost(Duration.ofSeconds(45)).pollInterval(Duration.ofSeconds(1))
                        .failFast("a probe answered otherwise while the database was down", () -> !probesOfAnOutage(app))
                        .until(() -> probesOfAnOutage(app));

                pg.startAgain();
                await().atMost(Duration.ofSeconds(60)).until(() -> get(app, "/observe/health/ready") == 200);
                assertEquals(200, get(app, "/observe/health/live"));
            }
        }
    }

    /** Liveness UP, readiness DOWN, and metrics answered. */
    private boolean probesOfAnOutage(BridgeApp app) throws Exception {
        return get(app, "/observe/health/live") == 200 && get(app, "/observe/health/ready") == 503
                && get(app, "/observe/metrics") == 200;
    }

    /** The status of a GET, which must come before a pool wait could end (else the test fails). */
    private int get(BridgeApp app, String path) throws Exception {
        HttpResponse<Void> response = http.send(HttpRequest.newBuilder(URI.create(app.managementUrl(path)))
                .timeout(PROBE_TIMEOUT).GET().build(), HttpResponse.BodyHandlers.discarding());
        assertTrue(response.statusCode() > 0);
        return response.statusCode();
    }
}

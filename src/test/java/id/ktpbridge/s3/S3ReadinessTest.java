package id.ktpbridge.s3;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.S3ProxyServer;
import id.ktpbridge.testkit.SilentProxy;
import org.apache.camel.support.ScheduledPollConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Readiness with the S3 source on ({@code ktp.health.readiness}), as ReadinessScopeTest shows it
 * for SFTP: a store that cannot be reached makes the replica not ready by default, naming the
 * source's checks (Camel's consumer check and {@code s3-source}), and ready again once it is back;
 * one that does not answer keeps it not ready through the consumer's back-offs; with
 * {@code ledger} it stays ready.
 */
class S3ReadinessTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dataDir;

    @TempDir
    Path s3Dir;

    private static Map<String, String> sourceOn(S3ProxyServer store, String bucket) {
        Map<String, String> p = store.sourceProperties(bucket);
        p.put("ktp.source.s3.poll-delay", "200");
        return p;
    }

    @Test
    void aStoreThatCannotBeReachedMakesTheReplicaNotReadyUntilItIsBack() throws Exception {
        S3ProxyServer store = S3ProxyServer.startFilesystem(s3Dir);
        try {
            String bucket = store.newBucket("ktp-ready");
            try (BridgeApp app = BridgeApp.start(dataDir, sourceOn(store, bucket))) {
                await().atMost(WAIT).until(() -> status(app, "/observe/health/ready") == 200);

                store.close();
                await().atMost(WAIT).until(() -> status(app, "/observe/health/ready") == 503);
                HttpResponse<String> ready = get(app, "/observe/health/ready");
                assertTrue(ready.body().contains("consumer:ingest-s3") && ready.body().contains("s3-source"),
                        ready.body());

                // the same endpoint, the bucket kept: the next listing that is not skipped by the
                // back-off (3 failed, then 30 skipped at 200 ms) works
                store = S3ProxyServer.startAgain(s3Dir);
                await().atMost(WAIT).until(() -> status(app, "/observe/health/ready") == 200);
            }
        } finally {
            store.close();
        }
    }

    @Test
    void aStoreThatDoesNotAnswerKeepsTheReplicaNotReadyThroughTheBackOff() throws Exception {
        try (S3ProxyServer store = S3ProxyServer.startTransient(s3Dir);
             SilentProxy network = new SilentProxy(store.endpoint().getPort())) {
            String bucket = store.newBucket("ktp-silent");
            Map<String, String> props = sourceOn(store, bucket);
            props.put("ktp.source.s3.endpoint", "http://127.0.0.1:" + network.port());
            props.put("ktp.source.s3.read-timeout", "1s");
            // 3 failed listings, then 5 skipped (1 s), then a listing that hangs again
            props.put("ktp.source.s3.backoff-multiplier", "5");
            try (BridgeApp app = BridgeApp.start(dataDir, props)) {
                await().atMost(WAIT).until(() -> status(app, "/observe/health/ready") == 200);

                network.silence();
                await().atMost(WAIT).until(() -> status(app, "/observe/health/ready") == 503);
                // Camel's consumer check counts failed listings from 0 again when a back-off ends,
                // before the next listing, which hangs for as long as the client waits for an answer
                ScheduledPollConsumer consumer = (ScheduledPollConsumer) app.context().getRoute("ingest-s3").getConsumer();
                long pollsBeforeABackOff = -1;
                long until = System.nanoTime() + Duration.ofSeconds(25).toNanos();
                while (System.nanoTime() < until) {
                    if (pollsBeforeABackOff < 0 && consumer.getBackoffCounter() > 0) {
                        pollsBeforeABackOff = consumer.getCounter();
                    }
                    HttpResponse<String> ready = get(app, "/observe/health/ready");
                    assertEquals(503, ready.statusCode(), "ready while the store does not answer: " + ready.body());
                    Thread.sleep(100);
                }
                assertTrue(pollsBeforeABackOff >= 0 && consumer.getCounter() > pollsBeforeABackOff,
                        "no listing after a back-off: " + pollsBeforeABackOff + ", " + consumer.getCounter());

                assertTrue(get(app, "/observe/health/ready").body().contains("s3-source"));

                network.speak();
                await().atMost(WAIT).until(() -> status(app, "/observe/health/ready") == 200);
            }
        }
    }

    @Test
    void withLedgerAStoreThatCannotBeReachedLeavesTheReplicaReady() throws Exception {
        try (S3ProxyServer store = S3ProxyServer.startTransient(s3Dir)) {
            String bucket = store.newBucket("ktp-ledger");
            Map<String, String> props = sourceOn(store, bucket);
            props.put("ktp.health.readiness", "ledger");
            try (BridgeApp app = BridgeApp.start(dataDir, props)) {
                await().atMost(WAIT).until(() -> status(app, "/observe/health/ready") == 200);
                store.close();
                // the source is failing (its back-off begins after 3 failed listings): the replica stays ready
                ScheduledPollConsumer consumer = (ScheduledPollConsumer) app.context().getRoute("ingest-s3").getConsumer();
                await().atMost(WAIT).until(() -> consumer.getBackoffCounter() > 0);
                assertEquals(200, status(app, "/observe/health/ready"));
                HttpResponse<String> all = get(app, "/observe/health?exposureLevel=full");
                assertTrue(all.body().contains("ledger") && all.body().contains("onekyc"), all.body());
                assertFalse(all.body().contains("consumer:ingest-s3") || all.body().contains("s3-source"), all.body());
            }
        }
    }

    private static int status(BridgeApp app, String path) throws Exception {
        return get(app, path).statusCode();
    }

    private static HttpResponse<String> get(BridgeApp app, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(app.managementUrl(path))).timeout(Duration.ofSeconds(10))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
    }
}

package id.ktpbridge.sftp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.SftpServer;
import id.ktpbridge.testkit.SilentProxy;
import org.apache.camel.support.ScheduledPollConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ktp.health.readiness}: a source whose listing fails makes the replica not ready by
 * default, also through the consumer's back-offs when the server does not answer, and not with
 * {@code ledger}, where only the ledger counts.
 */
class ReadinessScopeTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path tmp;

    @Test
    void aFailingSourceMakesTheReplicaNotReadyByDefault() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", SftpSourceTest.PASSWORD)) {
            Files.createDirectories(server.path("/inbox"));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), SftpSourceTest.sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> status(app, "/observe/health/ready") == 200);
                server.failListing("inbox");
                await().atMost(Duration.ofSeconds(30)).until(() -> status(app, "/observe/health/ready") == 503);
                HttpResponse<String> full = get(app, "/observe/health?exposureLevel=full&stackTrace=true");
                // the error by its kind only: the server's message is not shown (it may name a sub-folder)
                JsonNode check = check(full, "sftp-source");
                assertEquals("DOWN", check.path("status").asText(), full.body());
                assertTrue(check.path("error-message").asText().endsWith("the bundle's log says more"), full.body());
                assertFalse(full.body().contains("test fault"), full.body());
            }
        }
    }

    @Test
    void aServerThatDoesNotAnswerKeepsTheReplicaNotReadyThroughTheBackOff() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", SftpSourceTest.PASSWORD);
             SilentProxy network = new SilentProxy(server.port())) {
            Files.createDirectories(server.path("/inbox"));
            Map<String, String> props = SftpSourceTest.sftp(server, tmp,
                    "ktp.source.sftp.port", String.valueOf(network.port()),
                    // each attempt waits 2 s for the server's greeting; then 5 polls (1 s) are skipped
                    "ktp.source.sftp.connect-timeout", "2000",
                    "ktp.source.sftp.error-backoff-polls", "5");
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), props)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> status(app, "/observe/health/ready") == 200);

                network.silence();
                // as SSH's keep-alive does after about a minute: the next poll logs in anew, and waits
                network.dropConnections();
                await().atMost(Duration.ofSeconds(30)).until(() -> status(app, "/observe/health/ready") == 503);
                // Camel's consumer check counts failed polls from 0 again when a back-off ends, before
                // the next poll, whose login waits for as long as the connect timeout
                ScheduledPollConsumer consumer = (ScheduledPollConsumer) app.context().getRoute("ingest-sftp").getConsumer();
                long pollsBeforeABackOff = -1;
                long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (System.nanoTime() < until) {
                    if (pollsBeforeABackOff < 0 && consumer.getBackoffCounter() > 0) {
                        pollsBeforeABackOff = consumer.getCounter();
                    }
                    HttpResponse<String> ready = get(app, "/observe/health/ready");
                    assertEquals(503, ready.statusCode(), "ready while the server does not answer: " + ready.body());
                    Thread.sleep(100);
                }
                assertTrue(pollsBeforeABackOff >= 0 && consumer.getCounter() > pollsBeforeABackOff,
                        "no poll after a back-off: " + pollsBeforeABackOff + ", " + consumer.getCounter());
                HttpResponse<String> full = get(app, "/observe/health?exposureLevel=full&stackTrace=true");
                JsonNode check = check(full, "sftp-source");
                assertEquals("DOWN", check.path("status").asText(), full.body());
                assertTrue(check.path("message").asText().startsWith("SFTP source: listing the inbox failed"),
                        full.body());

                network.speak();
                await().atMost(Duration.ofSeconds(30)).until(() -> status(app, "/observe/health/ready") == 200);
            }
        }
    }

    @Test
    void withLedgerOnlyTheLedgerDecidesReadiness() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", SftpSourceTest.PASSWORD)) {
            Files.createDirectories(server.path("/inbox"));
            Map<String, String> props = SftpSourceTest.sftp(server, tmp, "ktp.health.readiness", "ledger");
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), props)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> status(app, "/observe/health/ready") == 200);
                server.failListing("inbox");
                int refused = server.listingsRefused();
                // listings every 200 ms, each refused: the source is failing, the replica stays ready
                await().atMost(Duration.ofSeconds(30)).until(() -> server.listingsRefused() >= refused + 3);
                assertEquals(200, status(app, "/observe/health/ready"));
                HttpResponse<String> all = get(app, "/observe/health?exposureLevel=full");
                assertTrue(all.body().contains("ledger") && all.body().contains("onekyc"), all.body());
                assertFalse(all.body().contains("consumer:ingest-sftp") || all.body().contains("sftp-source"), all.body());
            }
        }
    }

    private static JsonNode check(HttpResponse<String> health, String name) throws Exception {
        for (JsonNode check : new ObjectMapper().readTree(health.body()).path("checks")) {
            if (name.equals(check.path("name").asText())) {
                return check;
            }
        }
        throw new AssertionError("no check " + name + ": " + health.body());
    }

    private static int status(BridgeApp app, String path) throws Exception {
        return get(app, path).statusCode();
    }

    private static HttpResponse<String> get(BridgeApp app, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(app.managementUrl(path))).timeout(Duration.ofSeconds(10))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
    }
}

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

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.SftpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ktp.health.readiness}: a source whose listing fails makes the replica not ready by
 * default, and not with {@code ledger}, where only the ledger counts.
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
                assertFalse(all.body().contains("consumer:ingest-sftp"), all.body());
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

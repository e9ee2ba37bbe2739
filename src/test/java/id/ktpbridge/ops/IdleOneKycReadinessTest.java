package id.ktpbridge.ops;

import static org.awaitility.Awaitility.await;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An instance that makes no OneKYC call (no work) still finds out that OneKYC cannot be reached:
 * the embedded sandbox, its OneKYC, stops answering on its port, and readiness goes down naming
 * that host and port.
 */
class IdleOneKycReadinessTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dataDir;

    @Test
    void anIdleInstanceIsNotReadyOnceOneKycsPortRefusesConnections() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.health.onekyc.probe-interval", "1s"))) {
            // the sandbox is reachable: the probe finds it so
            await().atMost(Duration.ofSeconds(30)).until(() -> get(app, "/observe/health/ready").statusCode() == 200);
            URI sandbox = URI.create(app.sandbox().baseUrl());
            app.sandbox().stop();
            await().atMost(Duration.ofSeconds(30)).until(() -> get(app, "/observe/health/ready").statusCode() == 503);
            String full = get(app, "/observe/health?exposureLevel=full").body();
            assertTrue(full.contains("No connection to OneKYC could be opened (probed while no calls were made): "
                    + sandbox.getHost() + ":" + sandbox.getPort() + " (connection refused)"), full);
            assertFalse(full.contains("Exception"), full);
        }
    }

    private static HttpResponse<String> get(BridgeApp app, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(app.managementUrl(path))).timeout(Duration.ofSeconds(10))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
    }
}

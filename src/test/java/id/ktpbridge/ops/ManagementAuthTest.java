package id.ktpbridge.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;

import id.ktpbridge.testkit.BridgeApp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics behind basic authentication with Camel's own management settings, as README shows,
 * while the probes Kubernetes calls stay open.
 */
class ManagementAuthTest {

    @TempDir
    Path dataDir;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void metricsNeedCredentialsAndProbesDoNot() throws Exception {
        Path users = dataDir.resolve("management-users.properties");
        Files.writeString(users, "user.prometheus = s3cret-scrape,metrics\n");
        Map<String, String> props = Map.of("camel.management.authentication-enabled", "true",
                "camel.management.basic-properties-file", users.toString(),
                "camel.management.authentication-path", "/observe/metrics*");
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            String metrics = app.managementUrl("/observe/metrics");
            assertEquals(401, get(metrics, null).statusCode());
            assertEquals(401, get(metrics, "prometheus:wrong").statusCode());
            HttpResponse<String> scraped = get(metrics, "prometheus:s3cret-scrape");
            assertEquals(200, scraped.statusCode());
            assertTrue(scraped.body().contains("ktp_token_cache_fetches_total"), scraped.body());
            assertEquals(200, get(app.managementUrl("/observe/health/live"), null).statusCode());
            assertEquals(200, get(app.managementUrl("/observe/health/ready"), null).statusCode());
        }
    }

    private HttpResponse<String> get(String url, String credentials) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url));
        if (credentials != null) {
            request.header("Authorization", "Basic "
                    + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8)));
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}

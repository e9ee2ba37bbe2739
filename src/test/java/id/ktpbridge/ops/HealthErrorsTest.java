package id.ktpbridge.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;

import com.jcraft.jsch.SftpException;
import id.ktpbridge.testkit.BridgeApp;
import org.apache.camel.component.file.GenericFileOperationFailedException;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failed check's error, as the management port shows it in full, is told by its kind: Camel's
 * consumer checks keep a source's last failed poll, whose message can name a sub-folder or a file
 * (a partner user id, a NIK).
 */
class HealthErrorsTest {

    @TempDir
    Path dataDir;

    @Test
    void aFailedPollsErrorIsShownWithoutTheNamesInItsMessage() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            // as Camel's SFTP consumer check keeps a listing the server refused
            HealthCheckRegistry.get(app.context()).register(new AbstractHealthCheck("camel", "consumer:listing-refused") {
                @Override
                protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
                    builder.down().message("Consumer failed polling 1 times")
                            .error(new GenericFileOperationFailedException("Cannot list directory: inbox/3201887766",
                                    new SftpException(3, "Permission denied: /inbox/3201887766")));
                }
            });
            HttpResponse<String> full = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                            app.managementUrl("/observe/health?exposureLevel=full&stackTrace=true"))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(503, full.statusCode(), full.body());
            assertTrue(full.body().contains("consumer:listing-refused"), full.body());
            assertTrue(full.body().contains("GenericFileOperationFailedException (SftpException): SFTP status 3"),
                    full.body());
            assertFalse(full.body().contains("3201887766"), full.body());
        }
    }

    @Test
    void theKindNamesTheClassesAndAnSftpStatusOnly() {
        Exception e = new IllegalStateException("bucket key inbox/3201887766.png",
                new java.io.IOException("/data/3201887766.png"));
        assertEquals("IllegalStateException (IOException); the bundle's log says more", SafeHealthErrors.kind(e));
    }
}

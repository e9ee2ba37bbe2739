package id.ktpbridge.reliability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.sandbox.StorageRequest;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file overwritten in the drop folder after it was taken: OneKYC receives the bytes that were
 * hashed and recorded (the bundle's own copy), not the new ones.
 */
class SourceReplacedTest {

    @TempDir
    Path dataDir;

    @Test
    void theUploadIsTheCopyThatWasHashed() throws Exception {
        byte[] first = SampleImages.card("u7201", "png");
        byte[] second = SampleImages.card("u7201-other-card", "png");
        assertNotEquals(first.length, second.length);
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.sandbox.faults.latency", "700"))) {
            Results.drop(app.inbox(), "u7201.png", first);
            await().atMost(Duration.ofSeconds(20)).until(() -> !app.ledger().createdSince(0).isEmpty());
            String ledgerId = app.ledger().createdSince(0).get(0).id();
            Files.write(app.inbox().resolve("u7201.png"), second);

            await().atMost(Duration.ofSeconds(30)).until(() -> Results.read(app.results()).stream()
                    .anyMatch(r -> ledgerId.equals(r.path("ledgerId").asText())));
            JsonNode result = Results.read(app.results()).stream()
                    .filter(r -> ledgerId.equals(r.path("ledgerId").asText())).findFirst().orElseThrow();
            List<StorageRequest> uploads = app.sandbox().storageRequests().stream()
                    .filter(r -> r.httpStatus() / 100 == 2).toList();
            assertEquals((long) first.length, uploads.get(0).bodySize(), "the bytes taken in were uploaded");
            assertEquals(first.length, result.path("sourceSize").asLong());
        }
    }
}

package id.ktpbridge;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.submit.Intake;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The copy of each input that gets uploaded, held in memory (the default) or in a spool file: either
 * way storage receives exactly the bytes dropped, and once the inputs are done no memory stays
 * taken and no spool file stays behind.
 */
class SpoolMemoryTest {

    @TempDir
    Path dataDir;

    @ParameterizedTest
    @ValueSource(strings = {"16777216", "0"})
    void storageGetsTheBytesDroppedAndNothingStaysTaken(String budget) throws Exception {
        Map<String, String> dropped = new HashMap<>();
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.source.spool-memory-bytes", budget))) {
            for (int i = 0; i < 6; i++) {
                String user = "u71" + i;
                byte[] image = SampleImages.card(user, i % 2 == 0 ? "png" : "jpg");
                dropped.put(SampleImages.sha256(image), user);
                Results.drop(app.inbox(), user + (i % 2 == 0 ? ".png" : ".jpg"), image);
            }
            // and one the bundle rejects: its copy goes as well
            Results.drop(app.inbox(), "u7199.png", "not an image".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == dropped.size() + 1);
            List<JsonNode> results = new java.util.ArrayList<>(Results.read(app.results()));
            assertEquals(1, results.stream().filter(r -> r.path("status").asText().equals("REJECTED")).count());
            results.removeIf(r -> r.path("status").asText().equals("REJECTED"));
            assertEquals(dropped.size(), results.size());
            for (JsonNode result : results) {
                assertEquals("COMPLETED", result.path("status").asText(), result.toString());
                String sha = result.path("sourceSha256").asText();
                assertTrue(dropped.containsKey(sha), "a result for bytes that were dropped");
                // what storage stored for the submission is what was dropped, not only what was hashed
                assertEquals(Map.of("KTP_FRONT", sha),
                        app.sandbox().uploadedSha256s(result.path("submissionId").asText()));
            }
            Intake intake = app.bean("intake", Intake.class);
            await().atMost(Duration.ofSeconds(10)).until(() -> intake.spoolMemoryUsed() == 0);
            Path spool = dataDir.resolve("spool");
            await().atMost(Duration.ofSeconds(10)).until(() -> countFiles(spool) == 0);
            // the default budget holds every copy: no spool file was ever made (nor its folder)
            assertEquals(!budget.equals("16777216"), Files.isDirectory(spool));
        }
    }

    private static long countFiles(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.count();
        }
    }
}

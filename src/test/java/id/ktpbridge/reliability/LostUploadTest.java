package id.ktpbridge.reliability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The storage acknowledges an upload it then does not have (OneKYC answers the confirm with 422):
 * the bundle uploads again to the same URL and confirms, and each input still ends with one
 * confirmed submission and one result.
 */
class LostUploadTest {

    private static final int IMAGES = 8;

    @TempDir
    Path dataDir;

    @Test
    void aLostUploadIsUploadedAgainAndConfirmed() throws Exception {
        Map<String, String> props = new HashMap<>();
        props.put("gtf.sandbox.faults.upload-drop-rate", "0.4");
        props.put("gtf.sandbox.faults.seed", "7");
        // one at a time, so the seeded drops fall on the same uploads in every run
        props.put("ktp.concurrency", "1");
        props.put("ktp.source.read-lock-min-age", "100");
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            GtfSandbox sandbox = app.sandbox();
            List<String> names = new ArrayList<>();
            for (int i = 0; i < IMAGES; i++) {
                String name = String.format("u%05d.png", 8100 + i);
                names.add(name);
                Results.drop(app.inbox(), name, SampleImages.card(name, "png"));
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) >= IMAGES);

            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            assertEquals(Set.copyOf(names), results.keySet());
            for (JsonNode r : results.values()) {
                assertEquals("COMPLETED", r.path("status").asText(), r.toString());
            }
            assertTrue(sandbox.uploadsDropped() > 0, "uploads were really lost: " + sandbox.uploadsDropped());
            long refusedConfirms = sandbox.requestLog().stream()
                    .filter(c -> "confirm".equals(c.endpoint()) && c.httpStatus() == 422).count();
            assertTrue(refusedConfirms > 0, "the confirm found no upload at least once");
            Set<String> resultSubmissions = results.values().stream().map(r -> r.path("submissionId").asText())
                    .collect(Collectors.toSet());
            Set<String> confirmed = sandbox.submissionIds().stream()
                    .filter(id -> !"INITIATED".equals(sandbox.submissionStatus(id))).collect(Collectors.toSet());
            assertEquals(confirmed, resultSubmissions, "one confirmed submission per input, and only those");
        }
    }

    @Test
    void aLostUploadWhoseUrlHasExpiredIsPresignedAgain() throws Exception {
        // every call takes 2 s and URLs live 4 s: the first upload is in time, the one after the
        // confirm's 422 is not, so only a new presign can bring the image to OneKYC
        Map<String, String> props = new HashMap<>();
        props.put("gtf.sandbox.faults.latency", "2000");
        props.put("gtf.sandbox.url-expiry", "4");
        props.put("gtf.sandbox.faults.upload-drop-rate", "1.0");
        props.put("ktp.source.read-lock-min-age", "100");
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            GtfSandbox sandbox = app.sandbox();
            Results.drop(app.inbox(), "u08201.png", SampleImages.card("u08201", "png"));
            await().atMost(Duration.ofSeconds(20)).until(() -> sandbox.storageRequests().size() >= 1);
            sandbox.settings().setUploadDropRate(0.0);

            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals(2, sandbox.submissionIds().size(), "a second submission was presigned");
            assertEquals(1, sandbox.submissionIds().stream()
                    .filter(id -> !"INITIATED".equals(sandbox.submissionStatus(id))).count(),
                    "only the second was confirmed");
            assertEquals(result.path("submissionId").asText(), sandbox.submissionIds().stream()
                    .filter(id -> !"INITIATED".equals(sandbox.submissionStatus(id))).findFirst().orElseThrow());
        }
    }

    @Test
    void afterA422EveryFreshUrlStorageRefusesIsPresignedAgainWithinTheBound() throws Exception {
        // the first upload is lost (confirm 422) and its URL has run out by then; the URL of the
        // next presign is refused by the storage (403): a third presign brings the image
        Map<String, String> props = new HashMap<>();
        props.put("gtf.sandbox.faults.latency", "1000");
        props.put("gtf.sandbox.url-expiry", "4");
        props.put("gtf.sandbox.faults.upload-drop-rate", "1.0");
        props.put("ktp.source.read-lock-min-age", "100");
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            GtfSandbox sandbox = app.sandbox();
            Results.drop(app.inbox(), "u08301.png", SampleImages.card("u08301", "png"));
            await().atMost(Duration.ofSeconds(20)).until(() -> sandbox.storageRequests().size() >= 1);
            sandbox.settings().setUploadDropRate(0.0);
            sandbox.settings().setExpiredUrlRate(1.0);
            await().atMost(Duration.ofSeconds(20)).until(() -> sandbox.expiredUrlsIssued() >= 1);
            sandbox.settings().setExpiredUrlRate(0.0);

            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals(3, sandbox.submissionIds().size(), "presigned three times");
            assertEquals(1, sandbox.submissionIds().stream()
                    .filter(id -> !"INITIATED".equals(sandbox.submissionStatus(id))).count(), "one confirmed");
        }
    }
}

package id.ktpbridge.submit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.sandbox.StorageRequest;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A OneKYC that answers a presign with the user's submission still waiting for its upload ("new
 * or existing submission"): inputs of one user at the same moment must not upload to, confirm
 * and report one submission between them.
 */
class SubmissionReuseTest {

    @TempDir
    Path dataDir;

    @Test
    void inputsOfOneUserGetASubmissionEachAndOnlyTheirOwnBytesGoToIt() throws Exception {
        int images = 12;
        // all in the folder before the start: the first scan hands them to the workers together
        Map<String, Integer> sizes = new HashMap<>();
        for (int i = 0; i < images; i++) {
            // sizes differ, so the storage's log tells whose bytes went where
            byte[] card = SampleImages.card("reuse-" + i + "x".repeat(i * 7), "png");
            String name = "u4200-" + i + ".png";
            sizes.put(name, card.length);
            Results.drop(dataDir.resolve("inbox"), name, card);
        }
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.source.user-id-pattern", "(?<user>u[0-9]+)-.*",
                "gtf.sandbox.presign-reuses-open-submission", "true", "gtf.sandbox.faults.latency", "30",
                "ktp.source.read-lock-min-age", "100"))) {
            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == images);

            Set<String> submissions = new HashSet<>();
            for (JsonNode result : Results.read(app.results())) {
                assertEquals("COMPLETED", result.path("status").asText(), result.toString());
                String submission = result.path("submissionId").asText();
                assertTrue(submissions.add(submission), "one submission per input: " + submission);
                assertEquals(1, app.sandbox().confirmCount(submission));
                int size = sizes.get(result.path("sourceFile").asText());
                for (StorageRequest put : app.sandbox().storageRequests()) {
                    if (put.rawUri().contains(submission) && put.httpStatus() / 100 == 2) {
                        assertEquals(size, put.bodySize(), "only this input's bytes went to " + submission);
                    }
                }
            }
            assertTrue(app.sandbox().submissionCount() >= images);
            assertTrue(app.sandbox().presignsReused() > 0, "the case was met");
        }
    }
}

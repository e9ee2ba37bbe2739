package id.ktpbridge.submit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.sandbox.ApiCall;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An expired upload URL makes the input presign again, which creates a new submission: it gets
 * session ids of its own, so no partner session id ever names two submissions, and the details
 * lookup of the one confirmed goes by the ids it was presigned with.
 */
class RepresignSessionsTest {

    private static final int IMAGES = 8;

    @TempDir
    Path dataDir;

    @Test
    void everySubmissionHasItsOwnSessionIds() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.sandbox.faults.expired-url-rate", "0.5",
                "gtf.sandbox.faults.seed", "11", "gtf.retry.max-attempts", "6"))) {
            for (int i = 0; i < IMAGES; i++) {
                String name = "u34" + String.format("%02d", i) + ".png";
                Results.drop(app.inbox(), name, SampleImages.card(name, "png"));
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == IMAGES);
            assertTrue(app.sandbox().expiredUrlsIssued() > 0, "some inputs had to presign again");

            List<ApiCall> presigns = app.sandbox().requestLog().stream()
                    .filter(c -> c.endpoint().equals("presign") && c.httpStatus() == 200).toList();
            assertEquals(IMAGES + app.sandbox().expiredUrlsIssued(), presigns.size());
            Set<String> partnerSessions = new HashSet<>();
            Set<String> sdkSessions = new HashSet<>();
            for (ApiCall p : presigns) {
                assertTrue(partnerSessions.add(p.partnerSessionId()), "partner session id reused: " + p);
                assertTrue(sdkSessions.add(p.sdkSessionId()), "sdk session id reused: " + p);
            }
            Map<String, ApiCall> presignBySubmission = presigns.stream()
                    .collect(Collectors.toMap(ApiCall::submissionId, c -> c));
            for (JsonNode result : Results.read(app.results())) {
                assertEquals("COMPLETED", result.path("status").asText(), result.toString());
                ApiCall presign = presignBySubmission.get(result.path("submissionId").asText());
                assertEquals(presign.partnerSessionId(), result.path("partnerSessionId").asText());
            }
        }
    }

    @Test
    void theSameSubmissionHandedOutAgainKeepsTheSessionIdsItWasFirstPresignedWith() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.sandbox.faults.expired-url-rate", "0.5",
                "gtf.sandbox.faults.seed", "11", "gtf.retry.max-attempts", "6",
                "gtf.sandbox.presign-reuses-open-submission", "true"))) {
            for (int i = 0; i < IMAGES; i++) {
                String name = "u35" + String.format("%02d", i) + ".png";
                Results.drop(app.inbox(), name, SampleImages.card(name, "png"));
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == IMAGES);
            assertTrue(app.sandbox().presignsReused() > 0, "an expired URL's presign got its submission back");

            Map<String, ApiCall> firstPresign = new java.util.HashMap<>();
            app.sandbox().requestLog().stream().filter(c -> c.endpoint().equals("presign") && c.httpStatus() == 200)
                    .forEach(c -> firstPresign.putIfAbsent(c.submissionId(), c));
            for (JsonNode result : Results.read(app.results())) {
                assertEquals("COMPLETED", result.path("status").asText(), result.toString());
                assertEquals(firstPresign.get(result.path("submissionId").asText()).partnerSessionId(),
                        result.path("partnerSessionId").asText());
            }
            assertTrue(app.sandbox().requestLog().stream().noneMatch(c -> c.endpoint().equals("details")
                    && c.httpStatus() != 200), "details found each by its own session ids");
        }
    }
}

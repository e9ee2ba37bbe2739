package id.ktpbridge.reliability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The storage refuses presigned URLs (403: issued already expired, as a server may now and then)
 * more times in a row than an input presigns again in place (gtf.retry.max-attempts): the input
 * waits in its source within ktp.submit.retry-window rather than failing at once. A refusal that
 * does not say the URL expired (a bucket policy) fails it after those presigns.
 */
class RefusedUrlTest {

    @TempDir
    Path dataDir;

    private Map<String, String> props(String retryWindow) {
        Map<String, String> props = new HashMap<>();
        // two presigns in place per turn of the input
        props.put("gtf.retry.max-attempts", "2");
        props.put("gtf.sandbox.faults.expired-url-rate", "1.0");
        props.put("ktp.submit.retry-window", retryWindow);
        props.put("ktp.source.read-lock-min-age", "100");
        return props;
    }

    @Test
    void urlsRefusedMoreTimesThanTheInPlaceLimitAreWaitedOut() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props("10m"))) {
            GtfSandbox sandbox = app.sandbox();
            Results.drop(app.inbox(), "u08401.png", SampleImages.card("u08401", "png"));
            // more refused URLs than the two presigns of one turn, then the storage takes the image
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> sandbox.expiredUrlsIssued() >= 3 || Results.count(app.results()) > 0);
            sandbox.settings().setExpiredUrlRate(0.0);

            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertTrue(sandbox.expiredUrlsIssued() >= 3, "refused past the limit: " + sandbox.expiredUrlsIssued());
            assertEquals(1, sandbox.submissionIds().stream()
                    .filter(id -> !"INITIATED".equals(sandbox.submissionStatus(id))).count(), "one confirmed");
        }
    }

    @Test
    void urlsRefusedForLongerThanTheRetryWindowFailTheInput() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props("3s"))) {
            GtfSandbox sandbox = app.sandbox();
            long dropped = System.currentTimeMillis();
            Results.drop(app.inbox(), "u08402.png", SampleImages.card("u08402", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("FAILED", result.path("status").asText(), result.toString());
            assertEquals("GTF_UPLOAD_FAILED", result.path("reasonCode").asText());
            assertTrue(System.currentTimeMillis() - dropped >= 3_000, "not before the window was over");
            assertTrue(sandbox.submissionCount() > 2, "presigned again on later turns: " + sandbox.submissionCount());
        }
    }

    @Test
    void urlsRefusedForAnotherReasonThanExpiryFailTheInputAfterItsFreshPresigns() throws Exception {
        Map<String, String> props = props("10m");
        props.put("gtf.sandbox.faults.expired-url-rate", "0");
        // storage refuses every correctly signed upload 403 AccessDenied "Access Denied", as a bucket policy
        props.put("gtf.sandbox.faults.upload-denied-rate", "1.0");
        props.put("gtf.retry.max-attempts", "3");
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            GtfSandbox sandbox = app.sandbox();
            Results.drop(app.inbox(), "u08403.png", SampleImages.card("u08403", "png"));
            // well before the window: it is not waited out
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("FAILED", result.path("status").asText(), result.toString());
            assertEquals("GTF_UPLOAD_FAILED", result.path("reasonCode").asText());
            assertEquals(3, sandbox.submissionCount(), "max(2, gtf.retry.max-attempts) presigns, none later");
            assertEquals(3, sandbox.uploadsDenied(), "one upload per presigned URL");
            assertEquals(0, sandbox.expiredUrlsIssued());
        }
    }
}

package id.ktpbridge.submit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A confirm whose every attempt ended without an answer may still have been applied. The status
 * decides: an applied confirm goes on to its real outcome (not FAILED, and not submitted again),
 * one still INITIATED fails the input, and with no status either the submission is taken as
 * confirmed and its outcome collected as usual.
 */
class ConfirmInDoubtTest {

    @TempDir
    Path dataDir;

    /** One attempt per call, so the first lost answer is the last word the confirm gets. */
    private static Map<String, String> props() {
        Map<String, String> p = new HashMap<>();
        p.put("gtf.retry.max-attempts", "1");
        p.put("gtf.circuit-breaker.failure-threshold", "1000");
        return p;
    }

    @Test
    void anAppliedConfirmWhoseAnswerWasLostGoesOnToItsOutcome() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props())) {
            app.sandbox().settings().setConfirmLostResponseRate(1.0);
            JsonNode result = dropAndAwait(app, "u3301.png");
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertOneConfirmedSubmission(app.sandbox());
        }
    }

    @Test
    void aConfirmRefusedBeforeItWasAppliedFailsTheInput() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props())) {
            app.sandbox().settings().setFailureStatuses(List.of(503));
            app.sandbox().settings().setFailureRate("confirm", 1.0);
            JsonNode result = dropAndAwait(app, "u3302.png");
            assertEquals("FAILED", result.path("status").asText(), result.toString());
            assertEquals("GTF_CONFIRM_FAILED", result.path("reasonCode").asText());
            List<String> ids = app.sandbox().submissionIds();
            assertEquals(1, ids.size());
            assertEquals("INITIATED", app.sandbox().submissionStatus(ids.get(0)));
        }
    }

    @Test
    void withoutAStatusEitherTheSubmissionIsTakenAsConfirmed() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props())) {
            app.sandbox().settings().setConfirmLostResponseRate(1.0);
            app.sandbox().settings().setFailureStatuses(List.of(503));
            app.sandbox().settings().setFailureRate("status", 1.0);
            JsonNode result = dropAndAwait(app, "u3303.png");
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals("callback", result.path("receivedVia").asText());
            assertOneConfirmedSubmission(app.sandbox());
        }
    }

    @Test
    void aSubmissionTakenAsConfirmedButStillInitiatedIsConfirmedAgainByThePoller() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props())) {
            // the confirm is refused before it is applied and the status cannot be read either
            app.sandbox().settings().setFailureStatuses(List.of(503));
            app.sandbox().settings().setFailureRate("confirm", 1.0);
            app.sandbox().settings().setFailureRate("status", 1.0);
            Results.drop(app.inbox(), "u3304.png", SampleImages.card("u3304.png", "png"));
            await().atMost(Duration.ofSeconds(20)).until(() -> app.ledger().createdSince(0).stream()
                    .anyMatch(r -> r.state() == id.ktpbridge.ledger.SubmissionState.CONFIRMED));
            String submissionId = app.sandbox().submissionIds().get(0);
            assertEquals("INITIATED", app.sandbox().submissionStatus(submissionId), "taken as confirmed, but it is not");

            app.sandbox().settings().setFailureRate("confirm", 0.0);
            app.sandbox().settings().setFailureRate("status", 0.0);
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertOneConfirmedSubmission(app.sandbox());
        }
    }

    private static JsonNode dropAndAwait(BridgeApp app, String name) throws Exception {
        Results.drop(app.inbox(), name, SampleImages.card(name, "png"));
        await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
        return Results.read(app.results()).get(0);
    }

    private static void assertOneConfirmedSubmission(GtfSandbox sandbox) {
        List<String> ids = sandbox.submissionIds();
        assertEquals(1, ids.size(), "one submission: the input was not presigned again");
        assertEquals(1, sandbox.confirmCount(ids.get(0)));
    }
}

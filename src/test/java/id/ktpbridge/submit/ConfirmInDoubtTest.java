package id.ktpbridge.submit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.testkit.ApiCalls;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A confirm whose every attempt ended without an answer may still have been applied, so it is
 * taken as confirmed: an applied one goes on to its real outcome (not FAILED, not submitted
 * again), also when a retry after the lost answer is then refused; one that did not take is still INITIATED at a later poll and is confirmed again then,
 * and a refusal of that confirm ends it as FAILED.
 */
class ConfirmInDoubtTest {

    @TempDir
    Path dataDir;

    /** One attempt per call, so the first unanswered confirm is the last word the submit step gets. */
    private static Map<String, String> props() {
        Map<String, String> p = new HashMap<>();
        p.put("gtf.retry.max-attempts", "1");
        p.put("gtf.circuit-breaker.failure-threshold", "1000");
        p.put("ktp.poll.reconfirm-after", "1s");
        return p;
    }

    @Test
    void anAppliedConfirmWhoseAnswerWasLostGoesOnToItsOutcome() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props())) {
            app.sandbox().settings().setConfirmLostResponseRate(1.0);
            Results.drop(app.inbox(), "u3301.png", SampleImages.card("u3301.png", "png"));
            JsonNode result = awaitResult(app);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            // the one confirm, applied, its answer lost: the poller sends none to a submission under way
            assertOneConfirmedSubmission(app.sandbox(), List.of(500));
        }
    }

    @Test
    void aRefusalAfterAnAppliedAttemptWhoseAnswerWasLostDoesNotFailTheInput() throws Exception {
        Map<String, String> p = props();
        // the retry comes 2-4 s after the lost answer: time to have the sandbox refuse every token
        retriesEvery(p, "4000");
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            app.sandbox().settings().setConfirmLostResponseRate(1.0);
            Results.drop(app.inbox(), "u3305.png", SampleImages.card("u3305.png", "png"));
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20))
                    .until(() -> app.sandbox().lostResponses() == 1);
            // the retry and the one after its token refresh both meet a refused token (401)
            app.sandbox().settings().setTokenRevocationRate(1.0);
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20))
                    .until(() -> confirmAnswers(app.sandbox(), 401) == 2);
            app.sandbox().settings().setTokenRevocationRate(0.0);

            JsonNode result = awaitResult(app);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            // the retries' refused tokens (401) are refused before the submission is read
            assertOneConfirmedSubmission(app.sandbox(), List.of(500));
        }
    }

    @Test
    void withPollingOffACallbackThatOvertookTheConfirmIsCollectedRightAfterIt() throws Exception {
        Map<String, String> p = props();
        p.put("ktp.poll.enabled", "false");
        // no tick takes the submission up within the test: only the submit step can collect it
        p.put("ktp.poll.first-delay", "10m");
        p.put("ktp.poll.reconfirm-after", "10m");
        // the confirm is sent again 3 to 6 s after its lost answer: the callback comes meanwhile, also
        // on a loaded machine
        retriesEvery(p, "6000");
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            app.sandbox().settings().setProcessingDelayMillis(100);
            app.sandbox().settings().setConfirmLostResponseRate(1.0);
            Results.drop(app.inbox(), "u3306.png", SampleImages.card("u3306.png", "png"));

            JsonNode result = awaitResult(app);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals("callback", result.path("receivedVia").asText());
            LedgerRecord row = app.ledger().findById(result.path("ledgerId").asText()).orElseThrow();
            assertTrue(row.callbackAt() <= row.submittedAt(), "the callback came before the confirm was recorded");
            // the retry after the lost answer finds it confirmed, and is the last
            assertOneConfirmedSubmission(app.sandbox(), List.of(500, 409));
        }
    }

    @Test
    void aConfirmThatDidNotTakeIsConfirmedAgainByThePoller() throws Exception {
        Map<String, String> p = props();
        // well above the quiet window below, so a slow machine cannot bring the next confirm into it
        p.put("ktp.poll.reconfirm-after", "5s");
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            // refused before it is applied: the submission stays INITIATED
            app.sandbox().settings().setFailureStatuses(List.of(503));
            app.sandbox().settings().setFailureRate("confirm", 1.0);
            Results.drop(app.inbox(), "u3302.png", SampleImages.card("u3302.png", "png"));
            awaitConfirmedInLedger(app);
            String submissionId = app.sandbox().submissionIds().get(0);
            assertEquals("INITIATED", app.sandbox().submissionStatus(submissionId), "taken as confirmed, but it is not");

            // the poller's first new confirm is refused too; the next comes only after the grace again
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                    .until(() -> app.sandbox().injectedFailures("confirm") == 2);
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(12))
                    .until(() -> app.sandbox().injectedFailures("confirm") == 2);
            await().atMost(Duration.ofSeconds(15)).until(() -> app.sandbox().injectedFailures("confirm") == 3);
            long refused = app.sandbox().injectedFailures("confirm");
            app.sandbox().settings().setFailureRate("confirm", 0.0);
            JsonNode result = awaitResult(app);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            // the refusals name no submission: the poller's confirm that got through is the one
            assertOneConfirmedSubmission(app.sandbox(), List.of(200));
            assertEquals(refused, app.sandbox().injectedFailures("confirm"));
        }
    }

    @Test
    void withStatusPollingOffAConfirmThatDidNotTakeIsConfirmedAgainAtItsFirstLook() throws Exception {
        Map<String, String> p = props();
        p.put("ktp.poll.enabled", "false");
        // well after the test lets confirms through again, however slowly it gets there
        p.put("ktp.poll.reconfirm-after", "5s");
        // a deadline the result must not wait for: no callback could ever come for an unconfirmed submission
        p.put("ktp.poll.deadline", "10m");
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            app.sandbox().settings().setFailureStatuses(List.of(503));
            app.sandbox().settings().setFailureRate("confirm", 1.0);
            Results.drop(app.inbox(), "u3309.png", SampleImages.card("u3309.png", "png"));
            awaitConfirmedInLedger(app);
            String submissionId = app.sandbox().submissionIds().get(0);
            assertEquals("INITIATED", app.sandbox().submissionStatus(submissionId), "taken as confirmed, but it is not");
            app.sandbox().settings().setFailureRate("confirm", 0.0);

            JsonNode result = awaitResult(app);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            // the look's confirm; the refused one names no submission
            assertOneConfirmedSubmission(app.sandbox(), List.of(200));
            // one look after the confirm, not a poll loop: the outcome came by its callback
            assertEquals(1, statusCalls(app.sandbox(), submissionId));
            assertEquals("callback", result.path("receivedVia").asText(), result.toString());
        }
    }

    @Test
    void aConfirmRefusedAsThrottledIsNotTakenAsConfirmed() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props())) {
            // an answer that says the confirm was not applied: the input waits in its source, uploaded
            app.sandbox().settings().setFailureStatuses(List.of(429));
            app.sandbox().settings().setFailureRate("confirm", 1.0);
            Results.drop(app.inbox(), "u3306.png", SampleImages.card("u3306.png", "png"));
            await().atMost(Duration.ofSeconds(20)).until(() -> app.sandbox().injectedFailures("confirm") >= 1);
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(12)).until(() -> app.ledger()
                    .createdSince(0).stream().allMatch(r -> r.state() == SubmissionState.UPLOADED));
            assertTrue(Files.exists(app.inbox().resolve("u3306.png")), "the input waits in its source");

            app.sandbox().settings().setFailureRate("confirm", 0.0);
            JsonNode result = awaitResult(app);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            // the next take's; the throttled ones name no submission
            assertOneConfirmedSubmission(app.sandbox(), List.of(200));
        }
    }

    @Test
    void aConfirmThrottledForTheWholeWindowFailsTheInputWhenTakenAgain() throws Exception {
        Map<String, String> p = props();
        p.put("ktp.submit.retry-window", "3s");
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            // every answer says the confirm was not applied: the note of it sent, written with the
            // upload, goes, so the turn after the first is no confirm in doubt
            app.sandbox().settings().setFailureStatuses(List.of(429));
            app.sandbox().settings().setFailureRate("confirm", 1.0);
            Results.drop(app.inbox(), "u3310.png", SampleImages.card("u3310.png", "png"));
            JsonNode result = awaitResult(app);
            assertEquals("FAILED", result.path("status").asText(), result.toString());
            assertEquals("GTF_CONFIRM_FAILED", result.path("reasonCode").asText());
            assertTrue(confirmAnswers(app.sandbox(), 429) >= 2, "taken again before it failed");
            String submissionId = app.sandbox().submissionIds().get(0);
            assertEquals("INITIATED", app.sandbox().submissionStatus(submissionId));
        }
    }

    @Test
    void anUploadedInputWhoseFileIsReplacedBeforeItsConfirmStillGetsItsOutcome() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props())) {
            app.sandbox().settings().setFailureStatuses(List.of(429));
            app.sandbox().settings().setFailureRate("confirm", 1.0);
            Results.drop(app.inbox(), "u3308.png", SampleImages.card("u3308-first", "png"));
            await().atMost(Duration.ofSeconds(20)).until(() -> app.ledger().createdSince(0).stream()
                    .anyMatch(r -> r.state() == SubmissionState.UPLOADED));
            String first = app.ledger().createdSince(0).get(0).submissionId();
            // the partner puts a corrected scan under the same name while the first waits for its confirm
            Path staging = Files.write(dataDir.resolve("u3308-second.tmp"), SampleImages.card("u3308-second", "png"));
            Files.move(staging, app.inbox().resolve("u3308.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            await().atMost(Duration.ofSeconds(20)).until(() -> app.ledger().createdSince(0).size() == 2);

            app.sandbox().settings().setFailureRate("confirm", 0.0);
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);
            for (JsonNode result : Results.read(app.results())) {
                assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            }
            assertTrue(Results.read(app.results()).stream().anyMatch(r -> first.equals(r.path("submissionId").asText())),
                    "the first bytes' submission has its result");
            assertEquals(2, app.sandbox().submissionCount());
        }
    }

    @Test
    void aConfirmAgainThatIsRefusedForGoodEndsAsFailed() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props())) {
            // the storage acknowledges the upload but keeps nothing: a confirm that gets through answers 422
            app.sandbox().settings().setUploadDropRate(1.0);
            app.sandbox().settings().setFailureStatuses(List.of(503));
            app.sandbox().settings().setFailureRate("confirm", 1.0);
            Results.drop(app.inbox(), "u3303.png", SampleImages.card("u3303.png", "png"));
            awaitConfirmedInLedger(app);

            app.sandbox().settings().setFailureRate("confirm", 0.0);
            JsonNode result = awaitResult(app);
            assertEquals("FAILED", result.path("status").asText(), result.toString());
            assertEquals("GTF_CONFIRM_FAILED", result.path("reasonCode").asText());
            assertTrue(result.path("errorMessage").asText().contains("INVALID_UPLOAD_ARTIFACT"), result.toString());
        }
    }

    @Test
    void noConfirmAgainBeforeReconfirmAfter() throws Exception {
        Map<String, String> p = props();
        p.put("ktp.poll.reconfirm-after", "30s");
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            app.sandbox().settings().setFailureStatuses(List.of(503));
            app.sandbox().settings().setFailureRate("confirm", 1.0);
            Results.drop(app.inbox(), "u3304.png", SampleImages.card("u3304.png", "png"));
            awaitConfirmedInLedger(app);
            String submissionId = app.sandbox().submissionIds().get(0);
            app.sandbox().settings().setFailureRate("confirm", 0.0);
            long polledBefore = statusCalls(app.sandbox(), submissionId);
            // a state that lags behind a confirm looks the same for a while: the poller waits it out
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(13))
                    .until(() -> app.sandbox().confirmAttempts(submissionId) == 0);
            assertTrue(statusCalls(app.sandbox(), submissionId) > polledBefore, "it was polled meanwhile");
            assertEquals("INITIATED", app.sandbox().submissionStatus(submissionId));
        }
    }

    private static long confirmAnswers(GtfSandbox sandbox, int httpStatus) {
        return sandbox.requestLog().stream()
                .filter(c -> c.endpoint().equals("confirm") && c.httpStatus() == httpStatus).count();
    }

    private static long statusCalls(GtfSandbox sandbox, String submissionId) {
        return sandbox.requestLog().stream()
                .filter(c -> c.endpoint().equals("status") && submissionId.equals(c.submissionId())).count();
    }

    private static void awaitConfirmedInLedger(BridgeApp app) {
        await().atMost(Duration.ofSeconds(20)).until(() -> app.ledger().createdSince(0).stream()
                .anyMatch(r -> r.state() == SubmissionState.CONFIRMED));
    }

    /** Three attempts per call, {@code millis} apart: a lost answer's retry comes that much later. */
    private static void retriesEvery(Map<String, String> p, String millis) {
        p.put("gtf.retry.max-attempts", "3");
        p.put("gtf.retry.initial-delay", millis);
        p.put("gtf.retry.max-delay", millis);
    }

    private static JsonNode awaitResult(BridgeApp app) {
        await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
        return Results.read(app.results()).get(0);
    }

    /**
     * One submission, confirmed, whose confirms got {@code confirmAnswers} (the sandbox's state says
     * confirmed once however many came; a confirm refused by fault injection names no submission).
     */
    private static void assertOneConfirmedSubmission(GtfSandbox sandbox, List<Integer> confirmAnswers) {
        List<String> ids = sandbox.submissionIds();
        assertEquals(1, ids.size(), "one submission: the input was not presigned again");
        assertEquals(1, sandbox.confirmCount(ids.get(0)));
        assertEquals(confirmAnswers, ApiCalls.confirmAnswers(sandbox.requestLog(), ids.get(0)), "confirms");
    }
}

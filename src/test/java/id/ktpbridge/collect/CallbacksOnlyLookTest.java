package id.ktpbridge.collect;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.testkit.ApiCalls;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With status polling off, the look at {@code ktp.poll.reconfirm-after} is the only one before the
 * deadline that confirms again a confirm that did not take (no callback comes for it). A look that
 * fails for now, its status or its new confirm unanswered, is tried again before the deadline: the
 * input ends with its real outcome, not TIMED_OUT.
 */
class CallbacksOnlyLookTest {

    @TempDir
    Path dataDir;

    /**
     * One attempt per call; polling off, with a deadline the result must not wait for. The look is
     * tried again 3 s after it failed at the soonest: time for the test to let the calls through.
     */
    private static Map<String, String> props() {
        Map<String, String> p = new HashMap<>();
        p.put("gtf.retry.max-attempts", "1");
        p.put("gtf.circuit-breaker.failure-threshold", "1000");
        p.put("ktp.poll.enabled", "false");
        p.put("ktp.poll.reconfirm-after", "3s");
        p.put("ktp.poll.initial-backoff", "3s");
        p.put("ktp.poll.max-backoff", "10s");
        p.put("ktp.poll.deadline", "10m");
        return p;
    }

    @Test
    void aStatusUnansweredAtTheLookIsAskedAgainAndTheConfirmThatDidNotTakeIsMadeThen() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props())) {
            String submissionId = confirmThatDoesNotTake(app, "u3401.png");
            // the look's status call gets a 503
            app.sandbox().settings().setFailureRate("status", 1.0);
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20))
                    .until(() -> app.sandbox().injectedFailures("status") == 1);
            app.sandbox().settings().setFailureRate("status", 0.0);

            JsonNode result = awaitResult(app);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals("callback", result.path("receivedVia").asText(), result.toString());
            assertEquals(1, app.sandbox().confirmCount(submissionId), "confirmed by the look tried again");
            // the submit step's refused confirm names no submission: the look's is the only one
            assertEquals(List.of(200), ApiCalls.confirmAnswers(app.sandbox().requestLog(), submissionId));
            // the only submission there is (a refused call is logged without its submission id)
            assertEquals(2, statusCalls(app.sandbox()), "the failed look and the one after it");
        }
    }

    @Test
    void aNewConfirmRefusedForNowAtTheLookIsTriedAgain() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props())) {
            String submissionId = confirmThatDoesNotTake(app, "u3402.png");
            // the look finds it INITIATED; its new confirm is throttled
            app.sandbox().settings().setFailureStatuses(List.of(429));
            app.sandbox().settings().setFailureRate("confirm", 1.0);
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20))
                    .until(() -> app.sandbox().injectedFailures("confirm") == 2);
            app.sandbox().settings().setFailureRate("confirm", 0.0);

            JsonNode result = awaitResult(app);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals("callback", result.path("receivedVia").asText(), result.toString());
            assertEquals(1, app.sandbox().confirmCount(submissionId));
            // the refused ones name no submission: only the look's confirm tried again got through
            assertEquals(List.of(200), ApiCalls.confirmAnswers(app.sandbox().requestLog(), submissionId));
            LedgerRecord row = app.ledger().findById(result.path("ledgerId").asText()).orElseThrow();
            assertEquals(1, row.pollAttempts(), "the look counted once, when it was had");
        }
    }

    /**
     * Drops an image whose confirm gets a 503 before it is applied: taken as confirmed (the answer
     * may have been lost), it is still INITIATED at OneKYC. Calls go through again after it.
     *
     * @return its submission id
     */
    private static String confirmThatDoesNotTake(BridgeApp app, String name) throws Exception {
        app.sandbox().settings().setFailureStatuses(List.of(503));
        app.sandbox().settings().setFailureRate("confirm", 1.0);
        LedgerRecord row = RefusedOutcomeTest.dropAndAwaitConfirmed(app, name);
        app.sandbox().settings().setFailureRate("confirm", 0.0);
        assertEquals("INITIATED", app.sandbox().submissionStatus(row.submissionId()), "taken as confirmed, but it is not");
        return row.submissionId();
    }

    private static long statusCalls(GtfSandbox sandbox) {
        return sandbox.requestLog().stream().filter(c -> c.endpoint().equals("status")).count();
    }

    private static JsonNode awaitResult(BridgeApp app) {
        await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
        return Results.read(app.results()).get(0);
    }
}

package id.ktpbridge.reliability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.sandbox.SandboxSettings;
import id.ktpbridge.testkit.ApiCalls;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.BridgeProcess;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 while a confirm that OneKYC applied waits for its answer (lost): the row stays UPLOADED.
 * The next start confirms it again and is refused: for the whole retry window (429), or at once
 * (a 4xx in OneKYC's envelope). Either way the first confirm may have taken, so the input is taken
 * as confirmed and the poller collects its outcome. Before, it ended FAILED with its result out
 * while OneKYC processed the submission, and the image dropped again was submitted a second time.
 */
class ConfirmSentBeforeAKillTest {

    @TempDir
    Path work;

    @Test
    void aConfirmThrottledForTheWholeWindowAfterARestartIsTakenAsConfirmed() throws Exception {
        JsonNode result = refusedAfterARestart(429, "2s");
        assertEquals("COMPLETED", result.path("status").asText(), result.toString());
    }

    @Test
    void aConfirmRefusedAfterARestartIsTakenAsConfirmed() throws Exception {
        JsonNode result = refusedAfterARestart(400, "10m");
        assertEquals("COMPLETED", result.path("status").asText(), result.toString());
    }

    /**
     * Kills the bundle with an applied confirm's answer lost, then starts it again with every confirm
     * refused {@code refusal}; returns the input's one result.
     */
    private JsonNode refusedAfterARestart(int refusal, String retryWindow) throws Exception {
        int callbackPort = BridgeApp.freePort();
        SandboxSettings settings = new SandboxSettings();
        settings.setCallbackEnabled(false);
        settings.setProcessingDelayMillis(300);
        GtfSandbox sandbox = new GtfSandbox(settings).start();
        try {
            Path data = work.resolve("data");
            Results.drop(data.resolve("inbox"), "u7101.png", SampleImages.card("u7101.png", "png"));
            Map<String, String> env = BridgeProcess.againstSandbox(sandbox.baseUrl(), data, callbackPort, "kill-test");
            // the retry after the lost answer comes a minute later: the kill lands in that wait
            Map<String, String> first = Map.of("gtf.retry.max-attempts", "3", "gtf.retry.initial-delay", "60000",
                    "gtf.retry.max-delay", "60000", "ktp.source.read-lock-min-age", "100",
                    "ktp.source.poll-delay", "200", "camel.server.host", "127.0.0.1");
            Path log = Files.createDirectories(Path.of(System.getProperty("ktp.test.output", "target/test-output")))
                    .resolve("confirm-sent-before-a-kill.log");
            settings.setConfirmLostResponseRate(1.0);
            BridgeProcess app = BridgeProcess.start(work, env, first, log);
            try {
                await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20))
                        .until(() -> sandbox.lostResponses() == 1);
            } finally {
                app.kill();
            }
            String submissionId = sandbox.submissionIds().get(0);
            assertNotEquals("INITIATED", sandbox.submissionStatus(submissionId), "the first confirm took");

            settings.setConfirmLostResponseRate(0.0);
            settings.setFailureStatuses(List.of(refusal));
            settings.setFailureRate("confirm", 1.0);
            Map<String, String> again = new HashMap<>();
            again.put("gtf.sandbox.enabled", "false");
            again.put("gtf.token-url", sandbox.baseUrl());
            again.put("gtf.api-url", sandbox.baseUrl());
            again.put("ktp.callback.auth-token", "kill-test");
            again.put("gtf.retry.max-attempts", "1");
            again.put("gtf.circuit-breaker.failure-threshold", "1000");
            again.put("ktp.submit.retry-window", retryWindow);
            again.put("ktp.source.read-lock-min-age", "100");
            try (BridgeApp restarted = BridgeApp.start(data, again)) {
                await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(restarted.results()) == 1);
                assertTrue(sandbox.requestLog().stream()
                        .anyMatch(c -> c.endpoint().equals("confirm") && c.httpStatus() == refusal),
                        "confirmed again after the restart and refused");
                // no second result, no second submission: the image is not submitted again
                await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(11))
                        .until(() -> Results.count(restarted.results()) == 1);
                assertEquals(List.of(submissionId), sandbox.submissionIds());
                assertEquals(1, sandbox.confirmCount(submissionId));
                // the killed process's applied confirm, its answer lost; the restart's are refused before
                // they are read (no submission named), and the poller sends none: it is not INITIATED
                assertEquals(List.of(500), ApiCalls.confirmAnswers(sandbox.requestLog(), submissionId));
                JsonNode result = Results.read(restarted.results()).get(0);
                assertEquals(submissionId, result.path("submissionId").asText(), result.toString());
                return result;
            }
        } finally {
            sandbox.stop();
        }
    }
}

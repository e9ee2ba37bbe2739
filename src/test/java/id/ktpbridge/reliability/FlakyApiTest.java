package id.ktpbridge.reliability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
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
import id.ktpbridge.testkit.ApiCalls;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A batch against a OneKYC that fails a quarter of all calls (500, 503, 429 with Retry-After),
 * loses responses after applying them, hands out expired upload URLs, and drops or duplicates
 * callbacks: every input still ends with exactly one confirmed submission and one result.
 */
class FlakyApiTest {

    private static final int IMAGES = 16;

    @TempDir
    Path dataDir;

    @Test
    void aFlakyApiLosesNothingAndDuplicatesNothing() throws Exception {
        Map<String, String> props = new HashMap<>();
        props.put("gtf.sandbox.faults.failure-rate", "0.25");
        props.put("gtf.sandbox.faults.lost-response-rate", "0.2");
        props.put("gtf.sandbox.faults.expired-url-rate", "0.2");
        props.put("gtf.sandbox.faults.callback-drop-rate", "0.4");
        props.put("gtf.sandbox.callback.duplicates", "2");
        props.put("gtf.sandbox.faults.seed", "42");
        props.put("gtf.retry.max-attempts", "10");
        props.put("gtf.retry.max-delay", "200");
        props.put("gtf.circuit-breaker.failure-threshold", "1000");
        props.put("ktp.source.read-lock-min-age", "100");
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            GtfSandbox sandbox = app.sandbox();
            List<String> names = new ArrayList<>();
            for (int i = 0; i < IMAGES; i++) {
                String name = String.format("u%05d%s.png", 8000 + i, i % 5 == 2 ? "-notektp" : "");
                names.add(name);
                Results.drop(app.inbox(), name, SampleImages.card(name, "png"));
            }
            await().atMost(Duration.ofSeconds(90)).until(() -> Results.count(app.results()) >= IMAGES);
            // give late callbacks and poll ticks a moment: nothing more may appear
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
                    .until(() -> Results.count(app.results()) == IMAGES);

            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            assertEquals(Set.copyOf(names), results.keySet());
            for (JsonNode r : results.values()) {
                String file = r.path("sourceFile").asText();
                assertEquals("COMPLETED", r.path("status").asText(), file + ": " + r.path("errorMessage").asText());
                assertEquals(file.contains("notektp") ? "INVALID" : "VALID", r.path("result").asText(), file);
            }
            Set<String> resultSubmissions = results.values().stream().map(r -> r.path("submissionId").asText())
                    .collect(Collectors.toSet());
            Set<String> confirmed = sandbox.submissionIds().stream()
                    .filter(id -> !"INITIATED".equals(sandbox.submissionStatus(id))).collect(Collectors.toSet());
            assertEquals(confirmed, resultSubmissions, "one confirmed submission per input, and only those");
            // a confirm sent again once one was answered, or a callback copy collected again, leaves the
            // sandbox's state and the result as they were: the request log shows them
            assertEquals(Set.of(), ApiCalls.confirmedAgainAfterAnAnswer(sandbox.requestLog()),
                    "confirmed again after a confirm was answered");
            for (String id : confirmed) {
                // a details call refused by the faults names no submission: one answered per collection
                assertEquals(1, ApiCalls.detailsAnswered(sandbox.requestLog(), id), "collections of " + id);
            }
            assertTrue(sandbox.injectedFailures() > 10, "faults were really injected: " + sandbox.injectedFailures());
            assertTrue(sandbox.callbacksDropped() > 0, "some callbacks were lost");
        }
    }

    @Test
    void aRetryAfterBeyondTheConfiguredLongestWaitIsNotWaitedFor() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.retry.max-retry-after", "1s",
                "ktp.submit.retry-window", "0"))) {
            app.sandbox().settings().setFailureStatuses(List.of(429));
            app.sandbox().settings().setRetryAfterSeconds(2);
            app.sandbox().settings().setFailureRate("presign", 1.0);
            Results.drop(app.inbox(), "u8101.png", SampleImages.card("u8101.png", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("GTF_PRESIGN_FAILED", result.path("reasonCode").asText(), result.toString());
            assertEquals(1, app.sandbox().injectedFailures("presign"), "asked to wait 2 s, it did not try again");
        }
    }

    @Test
    void aRetryAfterTooLongToWaitInPlaceHoldsTheInputBackThatLong() throws Exception {
        // a token fetch waits out at most gtf.retry.max-retry-after in place: 12 s asked, 1 s allowed
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.retry.max-retry-after", "1s"))) {
            app.sandbox().settings().setFailureStatuses(List.of(429));
            app.sandbox().settings().setRetryAfterSeconds(12);
            app.sandbox().settings().setFailureRate("token", 1.0);
            Results.drop(app.inbox(), "u8109.png", SampleImages.card("u8109.png", "png"));
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                    .until(() -> app.sandbox().injectedFailures("token") >= 1);
            // the input goes back to its source, and is not taken and sent again before the 12 s are over
            // (the worker's own pause before it gives an input back is 5 s)
            await().during(Duration.ofSeconds(8)).atMost(Duration.ofSeconds(10))
                    .until(() -> app.sandbox().injectedFailures("token") == 1);
            assertEquals(0, Results.count(app.results()));
            assertTrue(Files.exists(app.inbox().resolve("u8109.png")), "the input waits in its source");

            app.sandbox().settings().setFailureRate("token", 0.0);
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
        }
    }

    @Test
    void anOutageBeforeTheConfirmIsWaitedOutWithTheInputInItsSource() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.retry.max-attempts", "2",
                "gtf.circuit-breaker.failure-threshold", "1000"))) {
            app.sandbox().settings().setFailureStatuses(List.of(503));
            app.sandbox().settings().setFailureRate("presign", 1.0);
            Results.drop(app.inbox(), "u8102.png", SampleImages.card("u8102.png", "png"));
            // two rounds of attempts: the input was given back to its source and taken again
            await().atMost(Duration.ofSeconds(30)).until(() -> app.sandbox().injectedFailures("presign") >= 4);
            assertEquals(0, Results.count(app.results()), "no result during the outage");
            assertTrue(Files.exists(app.inbox().resolve("u8102.png")), "the input waits in its source");

            app.sandbox().settings().setFailureRate("presign", 0.0);
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
            assertEquals(1, app.ledger().createdSince(0).size(), "one input, resumed");
        }
    }

    @Test
    void refusedCredentialsLeaveTheInputsInTheirSourceAndPauseTheTokenEndpoint() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.circuit-breaker.open-for", "20s"))) {
            // the server no longer takes the bundle's pass-key (rotated there, or this host not allowed)
            String passKey = app.sandbox().settings().getPassKey();
            app.sandbox().settings().setPassKey("rotated-on-the-server");
            for (int i = 0; i < 6; i++) {
                Results.drop(app.inbox(), "u82" + i + ".png", SampleImages.card("u82" + i + ".png", "png"));
            }
            // fetches already under way when the first refusal came are refused too: wait until none is
            long[] seen = {-1};
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                long now = refusedTokenCalls(app);
                boolean settled = now > 0 && now == seen[0];
                seen[0] = now;
                return settled;
            });
            long refused = seen[0];
            // token fetches pause for open-for: the inputs, given back and taken again after 5 s, wait
            // instead of asking the token endpoint for each
            await().during(Duration.ofSeconds(7)).atMost(Duration.ofSeconds(9))
                    .until(() -> refusedTokenCalls(app) == refused);
            // not as an outage: the instance stays ready (callbacks reach it, held tokens still collect)
            assertTrue(app.bean("gtfClient", id.ktpbridge.gtf.GtfClient.class).http().breaker().openEndpoints().isEmpty());
            assertEquals(0, Results.count(app.results()), "no input failed for the refused credentials");
            for (int i = 0; i < 6; i++) {
                assertTrue(Files.exists(app.inbox().resolve("u82" + i + ".png")), "input " + i + " waits in its source");
            }

            app.sandbox().settings().setPassKey(passKey);
            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 6);
            assertTrue(Results.read(app.results()).stream().allMatch(r -> r.path("status").asText().equals("COMPLETED")));
        }
    }

    private static long refusedTokenCalls(BridgeApp app) {
        return app.sandbox().requestLog().stream()
                .filter(c -> c.endpoint().equals("token") && c.httpStatus() == 401).count();
    }

    @Test
    void aUsedUpQuotaIsWaitedOutByDefault() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.retry.max-attempts", "2",
                "gtf.circuit-breaker.failure-threshold", "1000"))) {
            app.sandbox().settings().setFailureStatuses(List.of(429));
            app.sandbox().settings().setFailureRate("presign", 1.0);
            Results.drop(app.inbox(), "u8107.png", SampleImages.card("u8107.png", "png"));
            // two rounds of attempts refused with SUBMISSION_QUOTA_EXCEEDED: given back, not failed
            await().atMost(Duration.ofSeconds(30)).until(() -> app.sandbox().injectedFailures("presign") >= 4);
            assertEquals(0, Results.count(app.results()), "no result while the quota is used up");
            assertTrue(Files.exists(app.inbox().resolve("u8107.png")), "the input waits in its source");

            app.sandbox().settings().setFailureRate("presign", 0.0);
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
        }
    }

    @Test
    void aUsedUpQuotaFailsTheInputAtOnceWhenConfiguredTo() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.retry.max-attempts", "2",
                "gtf.retry.quota-exceeded", "false", "gtf.circuit-breaker.failure-threshold", "1000"))) {
            app.sandbox().settings().setFailureStatuses(List.of(429));
            app.sandbox().settings().setFailureRate("presign", 1.0);
            Results.drop(app.inbox(), "u8108.png", SampleImages.card("u8108.png", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("FAILED", result.path("status").asText(), result.toString());
            assertEquals("GTF_PRESIGN_FAILED", result.path("reasonCode").asText());
            // the sandbox's 429 carries Retry-After: 1, waited out in place, but not in the source
            assertEquals(2, app.sandbox().injectedFailures("presign"), "one round of attempts, not given back");
        }
    }

    @Test
    void aStorageOutageIsWaitedOutOnTheSameSubmission() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.retry.max-attempts", "2"))) {
            app.sandbox().settings().setFailureStatuses(List.of(503));
            app.sandbox().settings().setFailureRate("storage", 1.0);
            Results.drop(app.inbox(), "u8104.png", SampleImages.card("u8104.png", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> app.sandbox().storageRequests().size() >= 4);
            assertEquals(0, Results.count(app.results()), "no result during the outage");

            app.sandbox().settings().setFailureRate("storage", 0.0);
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
            // taken again, it uploaded to the URL it already had instead of presigning another submission
            assertEquals(1, app.sandbox().submissionCount());
        }
    }

    @Test
    void anOutageLongerThanTheRetryWindowFailsTheInput() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.retry.max-attempts", "2",
                "gtf.circuit-breaker.failure-threshold", "1000", "ktp.submit.retry-window", "2s"))) {
            app.sandbox().settings().setFailureStatuses(List.of(503));
            app.sandbox().settings().setFailureRate("presign", 1.0);
            Results.drop(app.inbox(), "u8103.png", SampleImages.card("u8103.png", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("FAILED", result.path("status").asText(), result.toString());
            assertEquals("GTF_PRESIGN_FAILED", result.path("reasonCode").asText());
            assertTrue(app.sandbox().injectedFailures("presign") >= 4, "tried again before it failed");
        }
    }

    @Test
    void aStorageOutageLongerThanTheRetryWindowFailsTheInputThoughItsUrlsRunOut() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.retry.max-attempts", "2",
                "ktp.submit.retry-window", "3s"))) {
            app.sandbox().settings().setFailureStatuses(List.of(503));
            app.sandbox().settings().setFailureRate("storage", 1.0);
            // URLs shorter than the margin a stored one must have left: each turn of the input presigns anew
            app.sandbox().settings().setUrlExpirySeconds(2);
            Results.drop(app.inbox(), "u8106.png", SampleImages.card("u8106.png", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("FAILED", result.path("status").asText(), result.toString());
            assertTrue(app.sandbox().submissionCount() >= 2, "presigned again during the outage");
        }
    }

    @Test
    void theRetryWindowCountsOnAcrossARestart() throws Exception {
        Map<String, String> props = Map.of("gtf.retry.max-attempts", "2", "gtf.circuit-breaker.failure-threshold", "1000",
                "ktp.submit.retry-window", "8s", "gtf.sandbox.faults.failure-rate.presign", "1.0",
                "gtf.sandbox.faults.failure-statuses", "503");
        long since;
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            Results.drop(app.inbox(), "u8105.png", SampleImages.card("u8105.png", "png"));
            await().atMost(Duration.ofSeconds(20)).until(() -> deferredSince(app) != null);
            since = deferredSince(app);
        }
        // the outage goes on while the bundle is stopped, past the window's end
        Thread.sleep(Math.max(0, since + 8_500 - System.currentTimeMillis()));
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("FAILED", result.path("status").asText(), result.toString());
            assertEquals("GTF_PRESIGN_FAILED", result.path("reasonCode").asText());
            // one round of attempts after the restart: the window did not start again
            assertEquals(2, app.sandbox().injectedFailures("presign"));
        }
    }

    private static Long deferredSince(BridgeApp app) throws Exception {
        try (Connection c = app.ledger().dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT deferred_since FROM ktp_submission")) {
            return rs.next() && rs.getObject(1) != null ? rs.getLong(1) : null;
        }
    }
}

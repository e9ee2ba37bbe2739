package id.ktpbridge;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ktp.callback.result-source}: the eSign products' callback carries the whole submission
 * record. With {@code callback} such a record, or any ERROR, is the result and no details call is
 * made; by default (the CoE's thin notification) the details are always fetched.
 */
class CallbackRecordTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] FILES = {"u3001.png", "u3002-notektp.jpg", "u3003-error.png"};

    @TempDir
    Path dataDir;

    @Test
    void aFinalRecordInTheCallbackIsTheResult() throws Exception {
        try (BridgeApp app = start("callback", "record")) {
            Map<String, JsonNode> results = runBatch(app);
            assertEquals(0, detailsCalls(app), "no details call when the callback carries the record");
            // given back once the collection step ends, a moment after its result file was written
            org.awaitility.Awaitility.await("every queued record's bytes given back").atMost(java.time.Duration.ofSeconds(5))
                    .until(() -> app.bean("callbackReceiver", id.ktpbridge.collect.CallbackReceiver.class)
                            .recordsQueued() == 0);
            JsonNode valid = results.get("u3001.png");
            assertEquals("COMPLETED", valid.path("status").asText());
            assertEquals("VALID", valid.path("result").asText());
            assertEquals(16, valid.path("submissionDetails").path("ktpData").path("nik").asText().length());
            JsonNode invalid = results.get("u3002-notektp.jpg");
            assertEquals("INVALID", invalid.path("result").asText());
            assertEquals("NOT_EKTP", invalid.path("reasonCode").asText());
            assertEquals("ERROR", results.get("u3003-error.png").path("status").asText());
            for (JsonNode r : results.values()) {
                assertEquals("callback", r.path("receivedVia").asText());
                assertTrue(r.hasNonNull("completedAt"));
            }
        }
    }

    @Test
    void recordsPastTheQueuesBudgetAreCollectedWithTheDetailsCall() throws Exception {
        try (BridgeApp app = start("callback", "record", Map.of("ktp.callback.record-queue-bytes", "1"))) {
            Map<String, JsonNode> results = runBatch(app);
            // no record kept: each outcome is asked of the details call, as in details mode
            assertEquals(FILES.length, detailsCalls(app));
            assertEquals("VALID", results.get("u3001.png").path("result").asText());
            assertEquals("NOT_EKTP", results.get("u3002-notektp.jpg").path("reasonCode").asText());
            org.awaitility.Awaitility.await("every queued record's bytes given back").atMost(java.time.Duration.ofSeconds(5))
                    .until(() -> app.bean("callbackReceiver", id.ktpbridge.collect.CallbackReceiver.class)
                            .recordsQueued() == 0);
        }
    }

    @Test
    void byDefaultTheDetailsAreFetchedEvenWhenTheCallbackCarriesTheRecord() throws Exception {
        try (BridgeApp app = start(null, "record")) {
            Map<String, JsonNode> results = runBatch(app);
            assertEquals(FILES.length, detailsCalls(app));
            assertEquals(16, results.get("u3001.png").path("submissionDetails").path("ktpData").path("nik")
                    .asText().length());
        }
    }

    @Test
    void aCompletedNotificationWithoutTheRecordStillFetchesTheDetails() throws Exception {
        try (BridgeApp app = start("callback", "notification")) {
            Map<String, JsonNode> results = runBatch(app);
            // an ERROR notification already says all its details would: only the two COMPLETED ask
            assertEquals(2, detailsCalls(app));
            assertEquals(16, results.get("u3001.png").path("submissionDetails").path("ktpData").path("nik")
                    .asText().length());
            assertEquals("NOT_EKTP", results.get("u3002-notektp.jpg").path("reasonCode").asText());
            assertEquals("VERIFICATION_FAILED", results.get("u3003-error.png").path("reasonCode").asText());
        }
    }

    @Test
    void aCompletedRecordWithoutItsResultIsNotTakenAsTheResult() throws Exception {
        try (BridgeApp app = start("callback", "record")) {
            app.sandbox().settings().setDetailsWithoutVerdict(true);
            Results.drop(app.inbox(), "u3004.png", SampleImages.card("u3004", "png"));
            // the callback's record has no result: the details are asked (and say the same, for now)
            await().atMost(Duration.ofSeconds(30)).until(() -> detailsCalls(app) >= 1);
            assertEquals(0, Results.count(app.results()));

            app.sandbox().settings().setDetailsWithoutVerdict(false);
            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 1);
            assertEquals("VALID", Results.read(app.results()).get(0).path("result").asText());
        }
    }

    @Test
    void takingResultsFromCallbacksNeedsCallbackAuthentication() {
        String messages = BridgeApp.startupError(dataDir,
                Map.of("ktp.callback.result-source", "callback", "ktp.callback.auth-mode", "none"));
        assertTrue(messages.contains("ktp.callback.result-source=callback"), messages);
        assertTrue(messages.contains("ktp.callback.allowed-cidrs"), messages);
    }

    @Test
    void behindAProxyTakingResultsFromCallbacksNeedsACredentialNotOnlyTheAllowlist() {
        // the allowlist then checks X-Forwarded-For, which a caller that reaches the port directly writes
        String messages = BridgeApp.startupError(dataDir, Map.of("ktp.callback.result-source", "callback",
                "ktp.callback.auth-mode", "none", "ktp.callback.allowed-cidrs", "10.0.0.0/8",
                "ktp.callback.trust-forwarded-for", "true"));
        assertTrue(messages.contains("with ktp.callback.trust-forwarded-for the caller ktp.callback.allowed-cidrs"
                + " checks is read from X-Forwarded-For"), messages);
        assertTrue(messages.contains("it needs ktp.callback.auth-mode other than none"), messages);
        // the allowlist of the socket's address still does
        BridgeApp.start(dataDir, Map.of("ktp.callback.result-source", "callback", "ktp.callback.auth-mode", "none",
                "ktp.callback.allowed-cidrs", "10.0.0.0/8")).close();
        BridgeApp.start(dataDir, Map.of("ktp.callback.result-source", "callback", "ktp.callback.auth-token",
                "record-test-token", "ktp.callback.allowed-cidrs", "10.0.0.0/8",
                "ktp.callback.trust-forwarded-for", "true")).close();
    }

    @Test
    void aRecordIsReadInTheCharsetItsContentTypeNamesOrItsByteOrderMarkGives() throws Exception {
        // no status asked before the callbacks came; with polling off the poll tick could collect a
        // noted callback with the details call before its queued record was taken
        Map<String, String> props = new HashMap<>(Map.of("ktp.poll.first-delay", "10m",
                "ktp.callback.auth-token", "record-test-token", "gtf.sandbox.callback.enabled", "false",
                "ktp.callback.result-source", "callback"));
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            String[] files = {"u3201.png", "u3202.png", "u3203.png"};
            for (String file : files) {
                Results.drop(app.inbox(), file, SampleImages.card(file.substring(0, 5), "png"));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> app.ledger().createdSince(0).stream()
                    .filter(r -> r.state() == SubmissionState.CONFIRMED).count() == files.length);
            Map<String, String> submissions = new HashMap<>();
            app.ledger().createdSince(0).forEach(r -> submissions.put(r.sourceFile(), r.submissionId()));
            java.util.function.Function<String, String> record = file -> JSON.createObjectNode()
                    .put("submissionId", submissions.get(file)).put("status", "COMPLETED").put("result", "INVALID")
                    .put("reasonCode", "DÉJÀ_VU").set("submissionDetails", JSON.createObjectNode()).toString();

            assertEquals(200, callback(app, "application/json; charset=ISO-8859-1",
                    record.apply("u3201.png").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)));
            // Java's UTF-16 writes a byte order mark first
            assertEquals(200, callback(app, "application/json; charset=\"UTF-16\"",
                    record.apply("u3202.png").getBytes(java.nio.charset.StandardCharsets.UTF_16)));
            byte[] utf8 = record.apply("u3203.png").getBytes(java.nio.charset.StandardCharsets.UTF_8);
            byte[] marked = new byte[utf8.length + 3];
            marked[0] = (byte) 0xEF;
            marked[1] = (byte) 0xBB;
            marked[2] = (byte) 0xBF;
            System.arraycopy(utf8, 0, marked, 3, utf8.length);
            assertEquals(200, callback(app, "application/json", marked), "a UTF-8 byte order mark");

            await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == files.length);
            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            for (String file : files) {
                assertEquals("DÉJÀ_VU", results.get(file).path("reasonCode").asText(), file + ": " + results.get(file));
                assertEquals("callback", results.get(file).path("receivedVia").asText(), file);
            }
            assertEquals(0, detailsCalls(app), "each record was the result");
        }
    }

    @Test
    void anUnknownResultSourceIsRefusedByName() {
        String messages = BridgeApp.startupError(dataDir, Map.of("ktp.callback.result-source", "body"));
        assertTrue(messages.contains("Setting 'ktp.callback.result-source' (KTP_CALLBACK_RESULT_SOURCE) must be details or callback"), messages);
    }

    @Test
    void valuesLongerThanTheLedgerHoldsStillEndInOneResult() throws Exception {
        Map<String, String> props = new HashMap<>(Map.of("ktp.poll.enabled", "false",
                "ktp.callback.auth-token", "record-test-token", "gtf.sandbox.callback.enabled", "false",
                "ktp.callback.result-source", "callback", "ktp.callback.max-body-size", String.valueOf(4 << 20)));
        try (LogCapture log = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, props)) {
            Results.drop(app.inbox(), "u3101.png", SampleImages.card("u3101", "png"));
            Results.drop(app.inbox(), "u3102.png", SampleImages.card("u3102", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> app.ledger().createdSince(0).stream()
                    .filter(r -> r.state() == SubmissionState.CONFIRMED).count() == 2);
            Map<String, String> submissions = new HashMap<>();
            app.ledger().createdSince(0).forEach(r -> submissions.put(r.sourceFile(), r.submissionId()));

            // a reason code longer than the ledger's column: stored cut short, delivered whole
            String longReason = "REASON_" + "X".repeat(100);
            assertEquals(200, callback(app, JSON.createObjectNode().put("submissionId", submissions.get("u3101.png"))
                    .put("status", "COMPLETED").put("result", "INVALID").put("reasonCode", longReason)
                    .set("submissionDetails", JSON.createObjectNode())));
            // a record larger than the ledger stores at all: the submission ends FAILED instead of never
            String huge = "3201" + "9".repeat(1_100_000);
            assertEquals(200, callback(app, JSON.createObjectNode().put("submissionId", submissions.get("u3102.png"))
                    .put("status", "COMPLETED").put("result", "VALID").put("reasonCode", "")
                    .set("submissionDetails", JSON.createObjectNode().put("blob", huge))));

            await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 2);
            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            assertEquals(longReason, results.get("u3101.png").path("reasonCode").asText());
            assertEquals("FAILED", results.get("u3102.png").path("status").asText());
            assertEquals("RESULT_NOT_STORED", results.get("u3102.png").path("reasonCode").asText());
            assertFalse(log.text().contains("99999999"), "the refused value is not in the log");
            assertFalse(log.text().contains("u3102"), "nothing of the refused document is in the log");
        }
    }

    private static int callback(BridgeApp app, com.fasterxml.jackson.databind.node.ObjectNode body) throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(app.callbackUrl()))
                .header("Authorization", "Bearer record-test-token").header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body.toString())).build(),
                java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static int callback(BridgeApp app, String contentType, byte[] body) throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(app.callbackUrl()))
                .header("Authorization", "Bearer record-test-token").header("Content-Type", contentType)
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** Callbacks only: the poller is off, so every result came through the callback route. */
    private BridgeApp start(String resultSource, String sandboxBody) {
        return start(resultSource, sandboxBody, Map.of());
    }

    private BridgeApp start(String resultSource, String sandboxBody, Map<String, String> more) {
        Map<String, String> props = new HashMap<>(Map.of("ktp.poll.enabled", "false",
                "ktp.callback.auth-token", "record-test-token", "gtf.sandbox.callback.body", sandboxBody));
        props.putAll(more);
        if (resultSource != null) {
            props.put("ktp.callback.result-source", resultSource);
        }
        return BridgeApp.start(dataDir, props);
    }

    private static Map<String, JsonNode> runBatch(BridgeApp app) throws Exception {
        for (String file : FILES) {
            String user = file.substring(0, file.indexOf('.'));
            Results.drop(app.inbox(), file, SampleImages.card(user, file.substring(file.indexOf('.') + 1)));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == FILES.length);
        return Results.bySourceFile(app.results());
    }

    private static long detailsCalls(BridgeApp app) {
        return app.sandbox().requestLog().stream().filter(c -> c.endpoint().equals("details")).count();
    }
}

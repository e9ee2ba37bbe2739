package id.ktpbridge;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.testkit.BridgeApp;
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

    private static final String[] FILES = {"u3001.png", "u3002-notektp.jpg", "u3003-error.png"};

    @TempDir
    Path dataDir;

    @Test
    void aFinalRecordInTheCallbackIsTheResult() throws Exception {
        try (BridgeApp app = start("callback", "record")) {
            Map<String, JsonNode> results = runBatch(app);
            assertEquals(0, detailsCalls(app), "no details call when the callback carries the record");
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
    void takingResultsFromCallbacksNeedsCallbackAuthentication() {
        String messages = BridgeApp.startupError(dataDir,
                Map.of("ktp.callback.result-source", "callback", "ktp.callback.auth-mode", "none"));
        assertTrue(messages.contains("ktp.callback.result-source=callback"), messages);
        assertTrue(messages.contains("ktp.callback.allowed-cidrs"), messages);
    }

    @Test
    void anUnknownResultSourceIsRefusedByName() {
        String messages = BridgeApp.startupError(dataDir, Map.of("ktp.callback.result-source", "body"));
        assertTrue(messages.contains("Setting 'ktp.callback.result-source' must be details or callback"), messages);
    }

    /** Callbacks only: the poller is off, so every result came through the callback route. */
    private BridgeApp start(String resultSource, String sandboxBody) {
        Map<String, String> props = new HashMap<>(Map.of("ktp.poll.enabled", "false",
                "ktp.callback.auth-token", "record-test-token", "gtf.sandbox.callback.body", sandboxBody));
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

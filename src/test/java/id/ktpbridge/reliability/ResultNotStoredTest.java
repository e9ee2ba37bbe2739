package id.ktpbridge.reliability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An input's REJECTED or FAILED outcome is recorded, and the ledger then refuses to store its result
 * for a reason that does not pass by itself (a right taken away for a moment): the input stays in
 * its source and, taken again, gets its one result from the recorded outcome. Quarantined at once,
 * its file had an INTERNAL_ERROR report, its row no result, and every later batch run exit 1.
 */
class ResultNotStoredTest {

    @TempDir
    Path dataDir;

    @AfterEach
    void noMoreRefusals() {
        ConfirmNotRecordedTest.REFUSALS_LEFT.set(0);
    }

    @Test
    void aRejectionWhoseResultTheLedgerRefusedGetsItWhenTheInputIsTakenAgain() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            // the first write of a result is refused (42501: not tried again at once)
            ConfirmNotRecordedTest.refuse(app, "RESULT_JSON", null, 1);
            Results.drop(app.inbox(), "u7421.png", "no image at all".getBytes(StandardCharsets.UTF_8));

            await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(app.failed().resolve("u7421.png")));
            assertEquals(0, ConfirmNotRecordedTest.REFUSALS_LEFT.get(), "the first write of its result was refused");
            oneResultAndItsReport(app, "u7421.png", "REJECTED", "UNSUPPORTED_FORMAT");
            assertEquals(0, app.sandbox().submissionCount());
        }
    }

    @Test
    void aFailureWhoseResultTheLedgerRefusedGetsItWhenTheInputIsTakenAgain() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            // OneKYC refuses the presign (400: not asked again), and the ledger the FAILED result's first write
            app.sandbox().settings().setFailureStatuses(List.of(400));
            app.sandbox().settings().setFailureRate("presign", 1.0);
            ConfirmNotRecordedTest.refuse(app, "RESULT_JSON", null, 1);
            Results.drop(app.inbox(), "u7422.png", SampleImages.card("u7422", "png"));

            await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(app.failed().resolve("u7422.png")));
            assertEquals(0, ConfirmNotRecordedTest.REFUSALS_LEFT.get(), "the first write of its result was refused");
            oneResultAndItsReport(app, "u7422.png", "FAILED", "GTF_PRESIGN_FAILED");
            assertEquals(1, app.sandbox().injectedFailures("presign"), "taken again, it was not presigned again");
        }
    }

    private static void oneResultAndItsReport(BridgeApp app, String name, String status, String reason)
            throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(() -> Results.count(app.results()) == 1);
        JsonNode result = Results.read(app.results()).get(0);
        assertEquals(status, result.path("status").asText(), result.toString());
        assertEquals(reason, result.path("reasonCode").asText(), result.toString());
        JsonNode report = Results.parse(app.failed().resolve(name + ".error.json"));
        assertEquals(reason, report.path("reasonCode").asText(), report.toString());
        List<LedgerRecord> rows = app.ledger().createdSince(0);
        assertEquals(1, rows.size(), "one row: " + rows);
        assertEquals(result.path("ledgerId").asText(), rows.get(0).id());
        assertEquals(0, app.ledger().endedWithoutResult(), "a row ended without its result");
        assertTrue(Files.notExists(app.inbox().resolve(name)));
    }
}

package id.ktpbridge.reliability;

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
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.sandbox.SandboxSettings;
import id.ktpbridge.testkit.ApiCalls;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An input left on its way at a stop (presigned, or uploaded with its confirm refused for now) is
 * rejected before its bytes are read at the next start (ktp.source.max-size lowered meanwhile): its
 * own row gets the outcome, not a second row. Before, a REJECTED row of its own was written and the
 * file quarantined, while the first row stayed open, to be ended SOURCE_GONE by the sweep or
 * confirmed by the poller: two results for one file.
 */
class UnreadAfterARestartTest {

    @TempDir
    Path dataDir;

    @Test
    void aPresignedInputRejectedUnreadAfterARestartEndsItsOwnRow() throws Exception {
        SandboxSettings settings = new SandboxSettings();
        settings.setCallbackEnabled(false);
        GtfSandbox sandbox = new GtfSandbox(settings).start();
        try {
            // the storage is away: the input waits presigned
            settings.setFailureStatuses(List.of(503));
            settings.setFailureRate("storage", 1.0);
            String row = leftOnItsWay(sandbox, SubmissionState.PRESIGNED);

            Map<String, String> props = props(sandbox);
            props.put("ktp.source.max-size", "100");
            try (BridgeApp app = BridgeApp.start(dataDir, props)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
                JsonNode result = Results.read(app.results()).get(0);
                assertEquals("REJECTED", result.path("status").asText(), result.toString());
                assertEquals("FILE_TOO_LARGE", result.path("reasonCode").asText());
                assertEquals(row, result.path("ledgerId").asText(), "the row on its way has the outcome");
                List<LedgerRecord> rows = app.ledger().createdSince(0);
                assertEquals(1, rows.size(), "no second row for the file");
                assertEquals(SubmissionState.REJECTED, rows.get(0).state());
                await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(app.failed().resolve("u7201.png")));
            }
        } finally {
            sandbox.stop();
        }
    }

    @Test
    void anUploadedInputRejectedUnreadAfterARestartIsConfirmedByThePoller() throws Exception {
        SandboxSettings settings = new SandboxSettings();
        settings.setCallbackEnabled(false);
        GtfSandbox sandbox = new GtfSandbox(settings).start();
        try {
            // its confirm refused for now: the input waits uploaded
            settings.setFailureStatuses(List.of(429));
            settings.setFailureRate("confirm", 1.0);
            String row = leftOnItsWay(sandbox, SubmissionState.UPLOADED);
            settings.setFailureRate("confirm", 0.0);

            Map<String, String> props = props(sandbox);
            props.put("ktp.source.max-size", "100");
            props.put("ktp.poll.reconfirm-after", "1s");
            try (BridgeApp app = BridgeApp.start(dataDir, props)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
                JsonNode result = Results.read(app.results()).get(0);
                assertEquals("COMPLETED", result.path("status").asText(), result.toString());
                assertEquals(row, result.path("ledgerId").asText());
                assertEquals(1, app.ledger().createdSince(0).size(), "no second row for the file");
                await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(app.done().resolve("u7201.png")));
                await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(11))
                        .until(() -> Results.count(app.results()) == 1);
                String submissionId = sandbox.submissionIds().get(0);
                assertEquals(1, sandbox.submissionCount());
                assertEquals(1, sandbox.confirmCount(submissionId));
                // the poller's one confirm: the refusals before the stop name no submission in the log
                assertEquals(List.of(200), ApiCalls.confirmAnswers(sandbox.requestLog(), submissionId));
            }
        } finally {
            sandbox.stop();
        }
    }

    /** Drops the image, waits until its row is {@code state} with the input left in the inbox, and stops. */
    private String leftOnItsWay(GtfSandbox sandbox, SubmissionState state) throws Exception {
        Map<String, String> props = props(sandbox);
        props.put("gtf.retry.max-attempts", "1");
        props.put("gtf.circuit-breaker.failure-threshold", "1000");
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            Results.drop(app.inbox(), "u7201.png", SampleImages.card("u7201.png", "png"));
            await().atMost(Duration.ofSeconds(20)).until(() -> app.ledger().createdSince(0).stream()
                    .anyMatch(r -> r.state() == state && deferred(app, r.id())));
            assertTrue(Files.exists(app.inbox().resolve("u7201.png")), "left in the inbox");
            assertEquals(0, Results.count(app.results()));
            return app.ledger().createdSince(0).get(0).id();
        }
    }

    private static boolean deferred(BridgeApp app, String id) {
        try (var c = app.ledger().dataSource().getConnection(); var ps = c.prepareStatement(
                "SELECT deferred_since FROM ktp_submission WHERE id = ?")) {
            ps.setString(1, id);
            try (var rs = ps.executeQuery()) {
                return rs.next() && rs.getObject(1) != null;
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> props(GtfSandbox sandbox) {
        Map<String, String> props = new HashMap<>();
        props.put("gtf.sandbox.enabled", "false");
        props.put("gtf.token-url", sandbox.baseUrl());
        props.put("gtf.api-url", sandbox.baseUrl());
        props.put("ktp.callback.auth-token", "unread-after-restart");
        props.put("ktp.submit.retry-window", "10m");
        props.put("ktp.source.read-lock-min-age", "100");
        return props;
    }
}

package id.ktpbridge.submit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.gtf.CallContext;
import id.ktpbridge.gtf.GtfClient;
import id.ktpbridge.gtf.TokenKey;
import id.ktpbridge.ledger.NewInput;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.sandbox.StorageRequest;
import id.ktpbridge.testkit.ApiCalls;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A OneKYC that answers a presign with the user's submission still waiting for its upload ("new
 * or existing submission"): inputs of one user at the same moment must not upload to, confirm
 * and report one submission between them.
 */
class SubmissionReuseTest {

    @TempDir
    Path dataDir;

    @Test
    void inputsOfOneUserGetASubmissionEachAndOnlyTheirOwnBytesGoToIt() throws Exception {
        int images = 12;
        // all in the folder before the start: the first scan hands them to the workers together
        Map<String, Integer> sizes = new HashMap<>();
        for (int i = 0; i < images; i++) {
            // sizes differ, so the storage's log tells whose bytes went where
            byte[] card = SampleImages.card("reuse-" + i + "x".repeat(i * 7), "png");
            String name = "u4200-" + i + ".png";
            sizes.put(name, card.length);
            Results.drop(dataDir.resolve("inbox"), name, card);
        }
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.source.user-id-pattern", "(?<user>u[0-9]+)-.*",
                "gtf.sandbox.presign-reuses-open-submission", "true", "gtf.sandbox.faults.latency", "30",
                "ktp.source.read-lock-min-age", "100"))) {
            await().atMost(Duration.ofSeconds(90)).until(() -> Results.count(app.results()) == images);

            Set<String> submissions = new HashSet<>();
            for (JsonNode result : Results.read(app.results())) {
                assertEquals("COMPLETED", result.path("status").asText(), result.toString());
                String submission = result.path("submissionId").asText();
                assertTrue(submissions.add(submission), "one submission per input: " + submission);
                assertEquals(1, app.sandbox().confirmCount(submission));
                // confirmed by its own input alone, once
                assertEquals(List.of(200), ApiCalls.confirmAnswers(app.sandbox().requestLog(), submission),
                        "confirms of " + submission);
                int size = sizes.get(result.path("sourceFile").asText());
                // no faults are injected: each submission is stored exactly once, by its own input
                List<StorageRequest> stored = app.sandbox().storageRequests().stream()
                        .filter(r -> "PUT".equals(r.method()) && r.rawUri().contains(submission)
                                && r.httpStatus() / 100 == 2)
                        .collect(Collectors.toList());
                assertEquals(1, stored.size(), "one stored upload for " + submission + ": " + stored);
                assertEquals(size, stored.get(0).bodySize(), "only this input's bytes went to " + submission);
            }
            assertTrue(app.sandbox().submissionCount() >= images);
            assertTrue(app.sandbox().presignsReused() > 0, "the case was met");
        }
    }

    @Test
    void aPresignHandingOutAFinishedSubmissionOfAnotherInputIsNeitherUploadedToNorReported() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            Results.drop(app.inbox(), "u4301.png", SampleImages.card("u4301", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            String first = Results.read(app.results()).get(0).path("submissionId").asText();
            // the ledger forgets it, as retention does once it is old enough
            try (var c = app.ledger().dataSource().getConnection();
                 var ps = c.prepareStatement("DELETE FROM ktp_submission WHERE submission_id = ?")) {
                ps.setString(1, first);
                assertEquals(1, ps.executeUpdate());
            }

            // from now on a presign answers with u4301's submission, COMPLETED
            app.sandbox().settings().setPresignHandsOutFinished(true);
            Results.drop(app.inbox(), "u4302.png", SampleImages.card("u4302", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> app.sandbox().requestLog().stream()
                    .filter(c -> "presign".equals(c.endpoint()) && first.equals(c.submissionId())).count() >= 1);
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
                    .until(() -> Results.count(app.results()) == 1);
            assertEquals(1, app.sandbox().confirmAttempts(first), "never confirmed again");
            assertEquals(1, app.sandbox().storageRequests().stream()
                    .filter(r -> "PUT".equals(r.method()) && r.rawUri().contains(first)).count(), "never uploaded to");

            app.sandbox().settings().setPresignHandsOutFinished(false);
            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 2);
            JsonNode second = Results.bySourceFile(app.results()).get("u4302.png");
            assertEquals("COMPLETED", second.path("status").asText(), second.toString());
            assertTrue(!first.equals(second.path("submissionId").asText()), second.toString());
        }
    }

    @Test
    void anInputMeetingASubmissionThatStaysHeldWaitsInItsSourceUntilItIsFree() throws Exception {
        // a short retry window: waiting behind a holder still at work is not bounded by it
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.sandbox.presign-reuses-open-submission", "true",
                "ktp.submit.retry-window", "2s"))) {
            app.bean("submitter", Submitter.class).heldSubmissionWait(Duration.ofSeconds(1));
            // an input of u4300 whose worker went away after its presign (an instance killed, say)
            GtfClient gtf = app.bean("gtfClient", GtfClient.class);
            CallContext ctx = new CallContext(new TokenKey(gtf.settings().onboardingPartner(), "u4300",
                    "PARTNER_USER_ID"), UUID.randomUUID().toString(), UUID.randomUUID().toString());
            String held = gtf.presign(ctx).submissionId();
            String holder = UUID.randomUUID().toString();
            app.ledger().insert(new NewInput(holder, "file", "/elsewhere/u4300.png", "u4300.png", "cd".repeat(32),
                    1L, "image/png", gtf.settings().onboardingPartner(), "u4300", "PARTNER_USER_ID",
                    ctx.partnerSessionId(), ctx.sdkSessionId(), null), SubmissionState.RECEIVED);
            assertEquals(null, app.ledger().holdSubmission(holder, held, ctx.partnerSessionId(),
                    ctx.sdkSessionId(), "https://storage.test/u", 0L).heldBy());

            try (LogCapture log = new LogCapture()) {
                Results.drop(app.inbox(), "u4300.png", SampleImages.card("deferred", "png"));
                await().atMost(Duration.ofSeconds(20)).until(() -> log.text().split("left for another attempt",
                        -1).length > 2);
            }
            assertEquals(0, Results.count(app.results()), "no result while the submission is held");
            assertTrue(java.nio.file.Files.exists(app.inbox().resolve("u4300.png")), "the input waits in its source");
            assertEquals(0, Results.count(app.failed()), "nothing quarantined");

            // the holder ends before its confirm: the submission is free, and taken over
            app.ledger().markEnded(holder, SubmissionState.FAILED, "GTF_UPLOAD_FAILED", "went away");
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals(held, result.path("submissionId").asText());
            assertEquals(ctx.partnerSessionId(), result.path("partnerSessionId").asText(),
                    "known by the session ids it was presigned with");
        }
    }

    @Test
    void aSubmissionHeldByAnInputThatEndedAfterItsConfirmIsWaitedForOnlyWithinTheRetryWindow() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.sandbox.presign-reuses-open-submission", "true",
                "ktp.submit.retry-window", "3s"))) {
            app.bean("submitter", Submitter.class).heldSubmissionWait(Duration.ofSeconds(1));
            // an input of u4400 taken as confirmed (its confirm got no answer) whose submission stayed
            // INITIATED at OneKYC until its poll deadline: it ends TIMED_OUT, its result named by it
            GtfClient gtf = app.bean("gtfClient", GtfClient.class);
            CallContext ctx = new CallContext(new TokenKey(gtf.settings().onboardingPartner(), "u4400",
                    "PARTNER_USER_ID"), UUID.randomUUID().toString(), UUID.randomUUID().toString());
            String held = gtf.presign(ctx).submissionId();
            String holder = UUID.randomUUID().toString();
            app.ledger().insert(new NewInput(holder, "file", "/elsewhere/u4400-a.png", "u4400-a.png", "ce".repeat(32),
                    1L, "image/png", gtf.settings().onboardingPartner(), "u4400", "PARTNER_USER_ID",
                    ctx.partnerSessionId(), ctx.sdkSessionId(), null), SubmissionState.RECEIVED);
            assertEquals(null, app.ledger().holdSubmission(holder, held, ctx.partnerSessionId(),
                    ctx.sdkSessionId(), "https://storage.test/u", 0L).heldBy());
            long now = System.currentTimeMillis();
            app.ledger().markConfirmed(holder, now, now, now);
            await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 1);
            JsonNode ended = Results.read(app.results()).get(0);
            assertEquals("TIMED_OUT", ended.path("status").asText(), ended.toString());
            assertEquals(held, ended.path("submissionId").asText());
            int confirmsBefore = app.sandbox().confirmAttempts(held);

            // OneKYC hands that INITIATED submission to every later input of u4400: one ends once its
            // retry window is over, instead of waiting in its source for ever
            Results.drop(app.inbox(), "u4400.png", SampleImages.card("later", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);
            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            JsonNode later = results.get("u4400.png");
            assertEquals("FAILED", later.path("status").asText(), later.toString());
            assertEquals("GTF_PRESIGN_FAILED", later.path("reasonCode").asText());
            assertTrue(later.path("errorMessage").asText().contains(held), later.toString());
            assertTrue(later.path("submissionId").isNull(), later.toString());
            assertEquals(ended, results.get("u4400-a.png"), "the ended input's result is left as it was");
            assertEquals(held, app.ledger().findById(holder).orElseThrow().submissionId());
            assertEquals(0, app.sandbox().storageRequests().stream()
                    .filter(r -> "PUT".equals(r.method()) && r.rawUri().contains(held)).count(), "never uploaded to");
            assertEquals(confirmsBefore, app.sandbox().confirmAttempts(held), "never confirmed by the later input");
            assertTrue(app.sandbox().requestLog().stream()
                    .filter(c -> "presign".equals(c.endpoint()) && held.equals(c.submissionId())).count() >= 3,
                    "presigned again within the window");
        }
    }
}

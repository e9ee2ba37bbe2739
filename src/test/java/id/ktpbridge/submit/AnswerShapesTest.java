package id.ktpbridge.submit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.sandbox.ApiCall;
import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.sandbox.SandboxSettings;
import id.ktpbridge.testkit.AnswerGateway;
import id.ktpbridge.testkit.AnswerGateway.Answer;
import id.ktpbridge.testkit.ApiCalls;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OneKYC answers of shapes the reference does not show, met by the whole bundle: each ends the
 * input as the answer's meaning asks, not as a failure of the bundle's own.
 */
class AnswerShapesTest {

    private static final String PRESIGN = "/coe/v1/submissions/urls";

    @TempDir
    Path dataDir;

    private GtfSandbox sandbox;
    private AnswerGateway gateway;

    @BeforeEach
    void start() throws IOException {
        SandboxSettings settings = new SandboxSettings();
        settings.setCallbackEnabled(false);
        settings.setProcessingDelayMillis(300);
        sandbox = new GtfSandbox(settings).start();
        gateway = new AnswerGateway(sandbox.baseUrl());
    }

    @AfterEach
    void stop() {
        gateway.close();
        sandbox.stop();
    }

    private Map<String, String> props() {
        Map<String, String> p = new HashMap<>();
        p.put("gtf.sandbox.enabled", "false");
        p.put("gtf.token-url", sandbox.baseUrl());
        p.put("gtf.api-url", gateway.baseUrl());
        p.put("ktp.callback.auth-token", "answer-shapes");
        p.put("gtf.retry.max-attempts", "2");
        p.put("gtf.circuit-breaker.failure-threshold", "1000");
        return p;
    }

    private JsonNode submitOne(String name) throws Exception {
        return submitOne(name, props());
    }

    private JsonNode submitOne(String name, Map<String, String> props) throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            Results.drop(app.inbox(), name, SampleImages.card(name, "png"));
            await().atMost(Duration.ofSeconds(40)).until(() -> Results.count(app.results()) == 1);
            return Results.read(app.results()).get(0);
        }
    }

    @Test
    void aServerErrorWhoseErrorsIsOneObjectLeavesAConfirmThatMayHaveBeenAppliedToThePoller() throws Exception {
        // the confirm reaches OneKYC and is applied; its answer is a 503 whose "errors" is no list
        AtomicInteger refused = gateway.answerAfterForwarding("PUT", PRESIGN, 1, Answer.json(503,
                "{\"success\":false,\"data\":null,\"errors\":{\"code\":\"903\",\"cause\":\"SERVICE_UNAVAILABLE\"}}"));
        JsonNode result = submitOne("u5101.png");
        assertEquals("COMPLETED", result.path("status").asText(), result.toString());
        assertEquals(1, refused.get());
        assertEquals(1, sandbox.submissionIds().size());
    }

    @Test
    void statusWordsInLowerCaseAreTheSameWords() throws Exception {
        // every presign, status and details answer writes its status words in lower case
        java.util.regex.Pattern word = java.util.regex.Pattern.compile("\"status\":\"([A-Z_]+)\"");
        AtomicInteger rewritten = gateway.rewrite("GET", "/coe/v1/submissions.*", -1, a -> new Answer(a.status(),
                a.headers(), word.matcher(a.body()).replaceAll(m -> "\"status\":\" " + m.group(1).toLowerCase() + "\"")));
        Map<String, String> props = props();
        props.put("ktp.poll.deadline", "15s");
        JsonNode result = submitOne("u5102.png", props);
        assertEquals("COMPLETED", result.path("status").asText(), result.toString());
        assertEquals("VALID", result.path("result").asText(), result.toString());
        assertEquals("poll", result.path("receivedVia").asText(), result.toString());
        assertTrue(rewritten.get() >= 3, "presign, status and details answered so");
    }

    @Test
    void aPresignWithAStatusWordTheReferenceDoesNotNameIsANewSubmission() throws Exception {
        AtomicInteger rewritten = gateway.rewrite("GET", PRESIGN, -1, a -> new Answer(a.status(), a.headers(),
                a.body().replace("\"INITIATED\"", "\"CREATED\"")));
        JsonNode result = submitOne("u5103.png");
        assertEquals("COMPLETED", result.path("status").asText(), result.toString());
        assertEquals(1, rewritten.get());
        assertEquals(1, sandbox.submissionIds().size(), "no submission left behind");
    }

    @Test
    void aPresignWithAnUnnamedStatusWordAndNoUploadSlotIsNotTakenAsNewAndIsAskedAgain() throws Exception {
        // how a submission under way or finished looks, in a word the reference does not name
        AtomicInteger rewritten = gateway.rewrite("GET", PRESIGN, 1, a -> {
            try {
                com.fasterxml.jackson.databind.node.ObjectNode body = (com.fasterxml.jackson.databind.node.ObjectNode)
                        new com.fasterxml.jackson.databind.ObjectMapper().readTree(a.body());
                ((com.fasterxml.jackson.databind.node.ObjectNode) body.get("data")).put("status", "PROCESSING")
                        .putObject("documents");
                return new Answer(a.status(), a.headers(), body.toString());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        JsonNode result = submitOne("u5106.png");
        assertEquals("COMPLETED", result.path("status").asText(), result.toString());
        assertEquals(1, rewritten.get());
        assertEquals(2, sandbox.submissionIds().size(), "presigned again for a new one");
    }

    @Test
    void presignAnswersTheSubmitStepCannotUseAreCountedAsWhatItTakesThemFor() throws Exception {
        // one input's presign answered without a submission id: as good as no answer, asked again in the call
        AtomicInteger noId = gateway.answer("GET", PRESIGN, 1, Answer.json(200,
                "{\"success\":true,\"data\":{\"status\":\"INITIATED\",\"documents\":{}}}"));
        try (BridgeApp app = BridgeApp.start(dataDir, props())) {
            Results.drop(app.inbox(), "u5112.png", SampleImages.card("u5112", "png"));
            await().atMost(Duration.ofSeconds(40)).until(() -> Results.count(app.results()) == 1);
            assertEquals(1, noId.get());
            // another's with its submission but no upload slot: refused, the input FAILED without another presign
            AtomicInteger noSlot = gateway.answer("GET", PRESIGN, -1, Answer.json(200, "{\"success\":true,\"data\":"
                    + "{\"submissionId\":\"3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44\",\"status\":\"INITIATED\","
                    + "\"documents\":{}}}"));
            Results.drop(app.inbox(), "u5113.png", SampleImages.card("u5113", "png"));
            await().atMost(Duration.ofSeconds(40)).until(() -> Results.count(app.results()) == 2);
            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            assertEquals("COMPLETED", results.get("u5112.png").path("status").asText(), results.toString());
            JsonNode failed = results.get("u5113.png");
            assertEquals("FAILED", failed.path("status").asText(), failed.toString());
            assertEquals("GTF_PRESIGN_FAILED", failed.path("reasonCode").asText(), failed.toString());
            assertTrue(failed.path("errorMessage").asText().contains("NO_DOCUMENTS_IN_RESPONSE"), failed.toString());
            assertEquals(1, noSlot.get(), "not asked again");
            assertEquals(1, sandbox.submissionIds().size());

            // neither counted as the 2xx it came in: the presign series are the answered one, the one
            // without a submission id (no answer) and the one without a slot (a refusal, 400)
            String metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(app.managementUrl("/observe/metrics"))).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            List<String> presigns = metrics.lines()
                    .filter(l -> l.startsWith("ktp_onekyc_calls_seconds_count{endpoint=\"presign\"")).sorted().toList();
            assertEquals(List.of("ktp_onekyc_calls_seconds_count{endpoint=\"presign\",outcome=\"400\"} 1",
                    "ktp_onekyc_calls_seconds_count{endpoint=\"presign\",outcome=\"no_answer\"} 1",
                    "ktp_onekyc_calls_seconds_count{endpoint=\"presign\",outcome=\"ok\"} 1"), presigns, metrics);
        }
    }

    @Test
    void aConfirmAnsweredWithAnErrorInA2xxWithoutSuccessIsRefused() throws Exception {
        AtomicInteger refused = gateway.answer("PUT", PRESIGN, -1, Answer.json(200,
                "{\"data\":null,\"errors\":[{\"code\":\"1542\",\"cause\":\"SUBMISSION_CAN_NOT_BE_CONFIRMED\"}]}"));
        JsonNode result = submitOne("u5104.png");
        assertEquals("FAILED", result.path("status").asText(), result.toString());
        assertEquals("GTF_CONFIRM_FAILED", result.path("reasonCode").asText(), result.toString());
        assertEquals(1, refused.get(), "refused, not retried");
    }

    @Test
    void aBareRedirectOnPresignOrConfirmLeavesTheInputInItsSourceForAnotherTry() throws Exception {
        Answer redirect = new Answer(302, Map.of("Content-Type", "text/html",
                "Location", "https://sso.example.net/login?next=%2Fcoe&sig=c2VjcmV0LXNpZw"), "<html>Found</html>");
        AtomicInteger presignRedirected = gateway.answer("GET", PRESIGN, 1, redirect);
        AtomicInteger confirmRedirected = gateway.answer("PUT", PRESIGN, 1, redirect);
        try (id.ktpbridge.testkit.LogCapture log = new id.ktpbridge.testkit.LogCapture()) {
            JsonNode result = submitOne("u5105.png");
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals(1, presignRedirected.get());
            assertEquals(1, confirmRedirected.get());
            assertEquals(1, sandbox.submissionIds().size());
            assertTrue(log.text().contains("redirecting to host sso.example.net"), log.text());
            assertTrue(!log.text().contains("c2VjcmV0LXNpZw") && !log.text().contains("next="), log.text());
        }
    }

    // a 4xx without OneKYC's envelope (a gateway's or proxy's own page, say while a route is missing
    // during a rollout) says nothing about the request: on presign it leaves the input in its source
    // for another try, and after a confirm attempt that got no answer it does not undo that confirm,
    // which may have been applied. OneKYC's own 404 there still means the confirm was not applied

    private static final Answer BAD_GATEWAY_PAGE = new Answer(502, Map.of("Content-Type", "text/html"),
            "<html><body><h1>502 Bad Gateway</h1>nginx</body></html>");
    private static final Answer NOT_FOUND_PAGE = new Answer(404, Map.of("Content-Type", "text/html"),
            "<html><body><h1>404 Not Found</h1>nginx</body></html>");

    @Test
    void aBareNotFoundAfterAConfirmWithoutAnAnswerIsTakenAsConfirmed() throws Exception {
        // the first confirm reaches OneKYC and is applied, but the gateway answers 502 with its own
        // page; the retry meets the gateway's 404 page
        gateway.answerAfterForwarding("PUT", PRESIGN, 1, BAD_GATEWAY_PAGE);
        AtomicInteger notFound = gateway.answer("PUT", PRESIGN, 1, NOT_FOUND_PAGE);
        JsonNode result = submitOne("u3401.png");
        assertEquals("COMPLETED", result.path("status").asText(), result.toString());
        assertEquals(1, notFound.get());
        java.util.List<String> ids = sandbox.submissionIds();
        assertEquals(1, ids.size(), "not presigned again");
        assertEquals(1, sandbox.confirmCount(ids.get(0)));
        // the first, applied; the retry met the gateway's page, and the poller sends none to a confirmed one
        assertEquals(List.of(200), ApiCalls.confirmAnswers(sandbox.requestLog(), ids.get(0)));
    }

    @Test
    void oneKycsOwnNotFoundAfterAConfirmWithoutAnAnswerStillFailsTheInput() throws Exception {
        gateway.answerAfterForwarding("PUT", PRESIGN, 1, BAD_GATEWAY_PAGE);
        gateway.answer("PUT", PRESIGN, 1, Answer.json(404, "{\"success\":false,\"data\":null,\"errors\":"
                + "[{\"code\":\"404\",\"cause\":\"SUBMISSION_DOES_NOT_EXIST\"}]}"));
        JsonNode result = submitOne("u3402.png");
        assertEquals("FAILED", result.path("status").asText(), result.toString());
        assertEquals("GTF_CONFIRM_FAILED", result.path("reasonCode").asText());
    }

    @Test
    void aBareNotFoundOnPresignLeavesTheInputInItsSourceForAnotherTry() throws Exception {
        AtomicInteger notFound = gateway.answer("GET", PRESIGN, 1, NOT_FOUND_PAGE);
        JsonNode result = submitOne("u3403.png");
        assertEquals("COMPLETED", result.path("status").asText(), result.toString());
        assertEquals(1, notFound.get());
        assertEquals(1, sandbox.submissionIds().size());
    }

    // OneKYC's confirm answers about the submission itself: its own 404 before any confirm took means
    // the submission is gone (the image goes to a new one); only its own 409 means confirmed already

    private static Answer envelope(int status, String code, String cause) {
        return Answer.json(status, "{\"success\":false,\"data\":null,\"errors\":[{\"code\":\"" + code
                + "\",\"cause\":\"" + cause + "\"}]}");
    }

    private static final Answer CONFLICT_PAGE = new Answer(409, Map.of("Content-Type", "text/html"),
            "<html><body><h1>409 Conflict</h1>proxy</body></html>");

    private java.util.List<String> confirmedSubmissions() {
        return sandbox.submissionIds().stream().filter(id -> !"INITIATED".equals(sandbox.submissionStatus(id))).toList();
    }

    @Test
    void aSubmissionDroppedBeforeItsConfirmIsPresignedAnewForTheResumedInput() throws Exception {
        // throttled, the confirm leaves the input uploaded in its source; when it is taken again,
        // OneKYC no longer has that submission (expired with its URL, or lost in a restart)
        presignedAnewAfter(envelope(404, "404", "SUBMISSION_DOES_NOT_EXIST"), "u5107.png");
    }

    @Test
    void aConfirm404KnownByItsCodeAloneIsPresignedAnew() throws Exception {
        // the reference leaves the causes open (one came as a sentence): OneKYC's code 404 says it
        presignedAnewAfter(Answer.json(404, "{\"success\":false,\"data\":null,\"errors\":[{\"code\":404,"
                + "\"cause\":\"Unknown error processing the request\"}]}"), "u5131.png");
    }

    /** A confirm throttled twice, then answered {@code notFound} when the input is taken again. */
    private void presignedAnewAfter(Answer notFound, String file) throws Exception {
        AtomicInteger throttled = gateway.answer("PUT", PRESIGN, 2, envelope(429, "429", "TOO_MANY_REQUESTS"));
        AtomicInteger dropped = gateway.answer("PUT", PRESIGN, 1, notFound);
        JsonNode result = submitOne(file);
        assertEquals("COMPLETED", result.path("status").asText(), result.toString());
        assertEquals(2, throttled.get());
        assertEquals(1, dropped.get());
        java.util.List<String> ids = sandbox.submissionIds();
        assertEquals(2, ids.size(), "one new submission presigned: " + ids);
        assertEquals(java.util.List.of(result.path("submissionId").asText()), confirmedSubmissions(),
                "the new submission confirmed, the dropped one never");
    }

    @Test
    void aBareConflictOnConfirmLeavesTheInputInItsSourceForAnotherTry() throws Exception {
        // taken as confirmed, the submission would stay INITIATED with its image let go, until the deadline
        AtomicInteger conflict = gateway.answer("PUT", PRESIGN, 1, CONFLICT_PAGE);
        Map<String, String> props = props();
        props.put("ktp.poll.deadline", "15s");
        JsonNode result = submitOne("u5108.png", props);
        assertEquals("COMPLETED", result.path("status").asText(), result.toString());
        assertEquals(1, conflict.get());
        assertEquals(1, sandbox.submissionIds().size());
        assertEquals(1, sandbox.confirmCount(sandbox.submissionIds().get(0)));
        // the proxy's page never reached OneKYC: the one confirm it saw is the next take's
        assertEquals(List.of(200), ApiCalls.confirmAnswers(sandbox.requestLog(), sandbox.submissionIds().get(0)));
    }

    @Test
    void aConflictWithAnotherCauseOnConfirmIsARefusal() throws Exception {
        AtomicInteger refused = gateway.answer("PUT", PRESIGN, -1, envelope(409, "1542", "SUBMISSION_CAN_NOT_BE_CONFIRMED"));
        Map<String, String> props = props();
        props.put("ktp.poll.deadline", "15s");
        JsonNode result = submitOne("u5109.png", props);
        assertEquals("FAILED", result.path("status").asText(), result.toString());
        assertEquals("GTF_CONFIRM_FAILED", result.path("reasonCode").asText(), result.toString());
        assertEquals(1, refused.get(), "refused, not retried");
        assertTrue(confirmedSubmissions().isEmpty());
    }

    @Test
    void aNewConfirmOfThePollerTakesOnlyOneKycsOwnConflictAsConfirmed() throws Exception {
        // the submit step's confirm never reaches OneKYC and gets no answer: taken as confirmed. The
        // poller's new confirm meets a proxy's 409 page (asked again at a later poll), then OneKYC's
        // 409 for another cause than a state conflict: a refusal, which ends the submission
        gateway.answer("PUT", PRESIGN, 2, BAD_GATEWAY_PAGE);
        AtomicInteger bare = gateway.answer("PUT", PRESIGN, 1, CONFLICT_PAGE);
        AtomicInteger refused = gateway.answer("PUT", PRESIGN, 1,
                envelope(409, "1542", "SUBMISSION_CAN_NOT_BE_CONFIRMED"));
        Map<String, String> props = props();
        props.put("ktp.poll.reconfirm-after", "1s");
        JsonNode result = submitOne("u5110.png", props);
        assertEquals("FAILED", result.path("status").asText(), result.toString());
        assertEquals("GTF_CONFIRM_FAILED", result.path("reasonCode").asText(), result.toString());
        assertTrue(result.path("errorMessage").asText().contains("SUBMISSION_CAN_NOT_BE_CONFIRMED"), result.toString());
        assertEquals(1, bare.get());
        assertEquals(1, refused.get());
        assertTrue(confirmedSubmissions().isEmpty());
    }

    // a retry after an attempt whose answer was lost repeats that attempt's x-partner-session-id: a
    // server that takes the id as an idempotency key refuses it as DUPLICATE_PARTNER_SESSION_ID. That
    // says the lost attempt arrived, not that ids are one per call: the bundle keeps one per submission

    private static final Answer DUPLICATE = Answer.json(400, "{\"success\":false,\"data\":null,\"errors\":"
            + "[{\"code\":\"1653\",\"cause\":\"DUPLICATE_PARTNER_SESSION_ID\"}]}");

    /** Every call OneKYC saw about the result's submission carried the partner session id the result names. */
    private void assertOneSessionIdPerSubmission(JsonNode result) {
        String submissionId = result.path("submissionId").asText();
        String session = result.path("partnerSessionId").asText();
        java.util.List<ApiCall> about = sandbox.requestLog().stream()
                .filter(c -> submissionId.equals(c.submissionId())).toList();
        assertTrue(about.stream().anyMatch(c -> "status".equals(c.endpoint())), about.toString());
        assertTrue(about.stream().anyMatch(c -> "details".equals(c.endpoint())), about.toString());
        for (ApiCall call : about) {
            assertEquals(session, call.partnerSessionId(), "the ledger's id on every call: " + about);
        }
    }

    @Test
    void aPresignRetryRefusedAsDuplicateAfterALostAnswerPresignsAgainUnderIdsTheLedgerKeeps() throws Exception {
        gateway.answerAfterForwarding("GET", PRESIGN, 1, BAD_GATEWAY_PAGE);
        AtomicInteger refused = gateway.answer("GET", PRESIGN, 1, DUPLICATE);
        JsonNode result = submitOne("u5107.png");
        assertEquals("COMPLETED", result.path("status").asText(), result.toString());
        assertEquals(1, refused.get());
        assertEquals(2, sandbox.submissionIds().size(), "the lost attempt's submission, and this input's");
        assertOneSessionIdPerSubmission(result);
    }

    @Test
    void aConfirmRetryRefusedAsDuplicateAfterALostAnswerIsTakenAsConfirmed() throws Exception {
        gateway.answerAfterForwarding("PUT", PRESIGN, 1, BAD_GATEWAY_PAGE);
        AtomicInteger refused = gateway.answer("PUT", PRESIGN, 1, DUPLICATE);
        JsonNode result = submitOne("u5108.png");
        assertEquals("COMPLETED", result.path("status").asText(), result.toString());
        assertEquals(1, refused.get());
        assertEquals(1, sandbox.submissionIds().size());
        assertEquals(1, sandbox.confirmCount(sandbox.submissionIds().get(0)));
        // the lost attempt, applied; the retry refused as its repeat never reached OneKYC
        assertEquals(List.of(200), ApiCalls.confirmAnswers(sandbox.requestLog(), sandbox.submissionIds().get(0)));
        assertOneSessionIdPerSubmission(result);
    }

    @Test
    void aPollersConfirmRetryRefusedAsDuplicateAfterALostAnswerIsTakenAsConfirmed() throws Exception {
        // the submit step's confirm never reaches OneKYC and gets no answer (taken as confirmed); the
        // poller's confirm, made when it is still INITIATED, does, but its answer is lost
        AtomicInteger unanswered = gateway.answer("PUT", PRESIGN, 2, BAD_GATEWAY_PAGE);
        gateway.answerAfterForwarding("PUT", PRESIGN, 1, BAD_GATEWAY_PAGE);
        AtomicInteger refused = gateway.answer("PUT", PRESIGN, 1, DUPLICATE);
        Map<String, String> props = props();
        props.put("ktp.poll.reconfirm-after", "2s");
        JsonNode result = submitOne("u5109.png", props);
        assertEquals("COMPLETED", result.path("status").asText(), result.toString());
        assertEquals(2, unanswered.get());
        assertEquals(1, refused.get());
        assertEquals(1, sandbox.confirmCount(sandbox.submissionIds().get(0)));
        // only the poller's lost attempt reached OneKYC; none after it
        assertEquals(List.of(200), ApiCalls.confirmAnswers(sandbox.requestLog(), sandbox.submissionIds().get(0)));
        assertOneSessionIdPerSubmission(result);
    }

    @Test
    void withIdsPerCallTheResultNamesThePartnerSessionIdThePresignWasSentWith() throws Exception {
        Map<String, String> props = props();
        props.put("gtf.partner-session-id.mode", "per-call");
        JsonNode result = submitOne("u5111.png", props);
        assertEquals("COMPLETED", result.path("status").asText(), result.toString());
        String submissionId = result.path("submissionId").asText();
        java.util.List<ApiCall> presigns = sandbox.requestLog().stream()
                .filter(c -> "presign".equals(c.endpoint()) && submissionId.equals(c.submissionId())).toList();
        assertEquals(1, presigns.size(), presigns.toString());
        // the one id OneKYC saw with the submission from its start, not the input's own, never sent
        assertEquals(presigns.get(0).partnerSessionId(), result.path("partnerSessionId").asText(), result.toString());
    }

    @Test
    void detailsThatNameAnotherSubmissionAreAskedForBySubmissionIdAlone() throws Exception {
        // a server that goes by the partner session id when both ids are sent, under which an earlier,
        // abandoned submission is kept too
        AtomicInteger bySession = gateway.answerWhen("GET", "/coe/v1/submissions",
                h -> h.containsKey("x-partner-session-id"), -1, Answer.json(200, "{\"success\":true,\"data\":"
                        + "{\"submissionId\":\"an-earlier-abandoned-one\",\"status\":\"IN_PROGRESS\"}}"));
        Map<String, String> props = props();
        props.put("ktp.poll.deadline", "20s");
        JsonNode result = submitOne("u5110.png", props);
        assertEquals("COMPLETED", result.path("status").asText(), result.toString());
        assertEquals("VALID", result.path("result").asText(), result.toString());
        assertTrue(bySession.get() >= 1, "asked with both ids first");
        assertEquals(sandbox.submissionIds().get(0), result.path("submissionId").asText());
    }
}

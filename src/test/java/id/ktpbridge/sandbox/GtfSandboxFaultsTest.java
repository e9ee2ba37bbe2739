package id.ktpbridge.sandbox;

import static id.ktpbridge.sandbox.SandboxHttp.awaitTrue;
import static id.ktpbridge.sandbox.SandboxHttp.documentUrl;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import id.ktpbridge.sandbox.SandboxHttp.Resp;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Fault injection of the sandbox, driven over real HTTP. */
class GtfSandboxFaultsTest {

    private static final long IMAGE_SIZE = SandboxHttp.IMAGE.length;
    private GtfSandbox sandbox;
    private SandboxHttp client;
    private HttpServer receiver;
    /** Bodies of the callbacks the receiver got, in arrival order. */
    private final List<String> callbackBodies = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        SandboxSettings settings = new SandboxSettings();
        settings.setProcessingDelayMillis(200);
        settings.setRandomSeed(7L);
        sandbox = new GtfSandbox(settings).start();
        client = new SandboxHttp(sandbox);
    }

    @AfterEach
    void stop() {
        sandbox.stop();
        if (receiver != null) {
            receiver.stop(0);
        }
    }

    @Test
    void rateOneRefusesEveryPresignWithDocumentedErrorsAndCreatesNothing() throws Exception {
        String token = client.tokenOf("user-1");
        sandbox.settings().setFailureRate("presign", 1.0);
        Set<Integer> seen = new TreeSet<>();
        for (int i = 0; i < 15; i++) {
            Resp resp = client.presign(token, "p");
            seen.add(resp.status());
            String code = resp.error().get("code").asText();
            String cause = resp.error().get("cause").asText();
            switch (resp.status()) {
                case 500 -> assertEquals(List.of("900", "SOMETHING_WENT_WRONG"), List.of(code, cause));
                case 503 -> assertEquals(List.of("903", "SERVICE_UNAVAILABLE"), List.of(code, cause));
                case 429 -> {
                    assertEquals(List.of("429", "SUBMISSION_QUOTA_EXCEEDED"), List.of(code, cause));
                    assertEquals("1", resp.retryAfter(), "429 carries Retry-After");
                }
                default -> throw new AssertionError("unexpected status " + resp.status());
            }
            assertTrue(resp.error().get("code").isTextual());
            if (resp.status() != 429) {
                assertNull(resp.retryAfter());
            }
        }
        assertEquals(Set.of(429, 500, 503), seen, "all configured statuses are drawn (fixed seed)");
        assertEquals(0, sandbox.submissionCount(), "refused presigns create no submission");
        assertEquals(15, sandbox.injectedFailures("presign"));
        assertEquals(15, sandbox.injectedFailures());
        assertEquals(0, sandbox.injectedFailures("confirm"));
        assertEquals(15, sandbox.requestLog().stream().filter(c -> c.endpoint().equals("presign")).count());

        sandbox.settings().setFailureRate("presign", 0.0);
        assertEquals(200, client.presign(token, "p").status());
        assertEquals(1, sandbox.submissionCount());
    }

    @Test
    void refusedConfirmAndTokenCallsChangeNothing() throws Exception {
        String token = client.tokenOf("user-1");
        Resp presign = client.presign(token, "p");
        String id = presign.data().get("submissionId").asText();
        assertEquals(200, client.upload(documentUrl(presign)).statusCode());

        sandbox.settings().setFailureRate("confirm", 1.0);
        sandbox.settings().setFailureRate("token", 1.0);
        sandbox.settings().setFailureStatuses(List.of(500));
        Resp confirm = client.confirm(token, "p", id);
        assertEquals(500, confirm.status());
        assertEquals("GENERIC_SERVICE_ERROR", confirm.error().get("cause").asText());
        assertEquals("INITIATED", sandbox.submissionStatus(id));
        assertEquals(0, sandbox.confirmAttempts(id), "refused before the confirm was even read");

        long minted = sandbox.tokenIssuedCount();
        Resp tokenResp = client.token("user-1");
        assertEquals(500, tokenResp.status());
        assertEquals(900, tokenResp.error().get("code").intValue());
        assertTrue(tokenResp.error().get("code").isInt(), "token endpoint keeps its integer codes");
        assertEquals(minted, sandbox.tokenIssuedCount());

        sandbox.settings().setFailureStatuses(List.of(429));
        sandbox.settings().setRetryAfterSeconds(7);
        Resp limited = client.confirm(token, "p", id);
        assertEquals(429, limited.status());
        assertEquals("TOO_MANY_REQUESTS", limited.error().get("cause").asText());
        assertEquals("7", limited.retryAfter());

        sandbox.settings().setFailureRate("confirm", 0.0);
        assertEquals(200, client.confirm(token, "p", id).status());
        assertEquals(1, sandbox.confirmCount(id));
        assertEquals(2, sandbox.injectedFailures("confirm"));
        assertEquals(1, sandbox.injectedFailures("token"));
    }

    @Test
    void aDroppedUploadIsAcknowledgedButTheConfirmFindsNothing() throws Exception {
        String token = client.tokenOf("user-1");
        Resp presign = client.presign(token, "p");
        String id = presign.data().get("submissionId").asText();
        String url = documentUrl(presign);

        sandbox.settings().setUploadDropRate(1.0);
        assertEquals(200, client.upload(url).statusCode(), "the storage says it took the upload");
        assertEquals(1, sandbox.uploadsDropped());
        assertEquals(422, client.confirm(token, "p", id).status(), "but it does not have it");

        sandbox.settings().setUploadDropRate(0.0);
        assertEquals(200, client.upload(url).statusCode());
        assertEquals(200, client.confirm(token, "p", id).status());
    }

    @Test
    void storageFailuresAreS3XmlAndStoreNothing() throws Exception {
        String token = client.tokenOf("user-1");
        Resp presign = client.presign(token, "p");
        String id = presign.data().get("submissionId").asText();
        String url = documentUrl(presign);

        sandbox.settings().setFailureRate("storage", 1.0);
        sandbox.settings().setFailureStatuses(List.of(500, 503));
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> resp = client.upload(url);
            assertTrue(resp.statusCode() == 500 || resp.statusCode() == 503, "status " + resp.statusCode());
            assertTrue(resp.body().startsWith("<?xml") && resp.body().contains("<Error><Code>"));
        }
        sandbox.settings().setFailureStatuses(List.of(429));
        HttpResponse<String> throttled = client.upload(url);
        assertEquals(503, throttled.statusCode(), "object storage throttles with 503, not 429");
        assertTrue(throttled.body().contains("<Code>SlowDown</Code>"));
        assertEquals("1", throttled.headers().firstValue("Retry-After").orElse(null));
        assertEquals(5, sandbox.injectedFailures("storage"));
        assertEquals(IMAGE_SIZE, sandbox.storageRequests().get(0).bodySize(), "body read, then discarded");

        assertEquals(422, client.confirm(token, "p", id).status(), "nothing was stored");
        sandbox.settings().setFailureRate("storage", 0.0);
        assertEquals(200, client.upload(url).statusCode());
        assertEquals(200, client.confirm(token, "p", id).status());
    }

    @Test
    void zeroRatesInjectNothing() throws Exception {
        SandboxSettings s = sandbox.settings();
        for (String endpoint : SandboxSettings.FAULT_ENDPOINTS) {
            s.setFailureRate(endpoint, 0.0);
        }
        s.setConfirmLostResponseRate(0);
        s.setPresignLostResponseRate(0);
        s.setTokenRevocationRate(0);
        s.setExpiredUrlRate(0);
        for (int i = 0; i < 3; i++) {
            String token = client.tokenOf("user-" + i);
            Resp presign = client.presign(token, "p" + i);
            String id = presign.data().get("submissionId").asText();
            assertEquals(200, client.upload(documentUrl(presign)).statusCode());
            assertEquals(200, client.confirm(token, "p" + i, id).status());
            assertEquals("COMPLETED", client.awaitFinal(token, "p" + i, id));
        }
        assertEquals(0, sandbox.injectedFailures());
        assertEquals(0, sandbox.tokensRevokedByFaults() + sandbox.expiredUrlsIssued() + sandbox.lostResponses());
        assertTrue(sandbox.requestLog().stream().allMatch(c -> c.httpStatus() == 200));
    }

    @Test
    void lostConfirmResponseLeavesSubmissionInProgressAndRetryGets409() throws Exception {
        sandbox.settings().setProcessingDelayMillis(5_000); // stays IN_PROGRESS for the whole test
        sandbox.settings().setConfirmLostResponseRate(1.0);
        String token = client.tokenOf("user-1");
        Resp presign = client.presign(token, "p");
        String id = presign.data().get("submissionId").asText();
        assertEquals(200, client.upload(documentUrl(presign)).statusCode());

        Resp lost = client.confirm(token, "p", id);
        assertEquals(500, lost.status());
        assertEquals("900", lost.error().get("code").asText());
        assertEquals("GENERIC_SERVICE_ERROR", lost.error().get("cause").asText());
        assertEquals("IN_PROGRESS", sandbox.submissionStatus(id), "the confirm was applied");
        assertEquals(1, sandbox.confirmCount(id));

        Resp retry = client.confirm(token, "p", id);
        assertEquals(409, retry.status());
        assertEquals("SUBMISSION_STATE_CONFLICT", retry.error().get("cause").asText());
        assertEquals(1, sandbox.confirmCount(id));
        assertEquals(1, sandbox.lostResponses());
        assertEquals(1, sandbox.injectedFailures("confirm"));
        List<Integer> confirmStatuses = sandbox.requestLog().stream()
                .filter(c -> c.endpoint().equals("confirm")).map(ApiCall::httpStatus).toList();
        assertEquals(List.of(500, 409), confirmStatuses);
        assertEquals(id, sandbox.requestLog().stream().filter(c -> c.httpStatus() == 500)
                .findFirst().orElseThrow().submissionId());
    }

    @Test
    void lostPresignResponseStillCreatesTheSubmission() throws Exception {
        sandbox.settings().setPresignLostResponseRate(1.0);
        String token = client.tokenOf("user-1");
        Resp lost = client.presign(token, "p");
        assertEquals(500, lost.status());
        assertEquals("SOMETHING_WENT_WRONG", lost.error().get("cause").asText());
        assertEquals(1, sandbox.submissionCount());
        assertEquals("INITIATED", sandbox.submissionStatus(sandbox.submissionIds().get(0)));
        assertEquals(1, sandbox.injectedFailures("presign"));

        sandbox.settings().setPresignLostResponseRate(0.0);
        assertEquals(200, client.presign(token, "p").status());
        assertEquals(2, sandbox.submissionCount(), "the retry creates a second submission; the first is orphaned");
    }

    @Test
    void expiredUrlIsDeniedByStorage() throws Exception {
        sandbox.settings().setExpiredUrlRate(1.0);
        String token = client.tokenOf("user-1");
        Resp presign = client.presign(token, "p");
        assertEquals(200, presign.status());
        assertEquals("600", presign.data().get("documents").get("KTP_FRONT").get("expiryInSeconds").asText());
        HttpResponse<String> denied = client.upload(documentUrl(presign));
        assertEquals(403, denied.statusCode());
        assertTrue(denied.body().contains("<Code>AccessDenied</Code>"));
        assertTrue(denied.body().contains("Request has expired"));
        assertEquals(1, sandbox.expiredUrlsIssued());

        sandbox.settings().setExpiredUrlRate(0.0);
        assertEquals(200, client.upload(documentUrl(client.presign(token, "p"))).statusCode());
    }

    /**
     * Semantics: while the rate is 1.0 every token is revoked at its first use, so even a fresh
     * token gets 401; revocation sticks after the rate goes back to 0, and a token minted then works.
     */
    @Test
    void revokedTokenStays401AndAFreshTokenWorksOnceTheFaultStops() throws Exception {
        String first = client.tokenOf("user-1");
        sandbox.settings().setTokenRevocationRate(1.0);
        Resp revoked = client.presign(first, "p");
        assertEquals(401, revoked.status());
        assertEquals("110", revoked.error().get("code").asText());
        assertEquals("UNAUTHORIZED", revoked.error().get("cause").asText());

        String second = client.tokenOf("user-1"); // minting itself is unaffected
        assertEquals(401, client.presign(second, "p").status());
        assertEquals(2, sandbox.tokensRevokedByFaults());
        assertEquals(0, sandbox.submissionCount());

        sandbox.settings().setTokenRevocationRate(0.0);
        assertEquals(401, client.presign(first, "p").status(), "a revoked token stays revoked");
        assertEquals(401, client.status(second, "p", "00000000-0000-4000-8000-000000000000").status());
        assertEquals(200, client.presign(client.tokenOf("user-1"), "p").status());
        assertEquals(2, sandbox.tokensRevokedByFaults());
        assertEquals(0, sandbox.injectedFailures(), "revocations are not counted as injected failures");
    }

    @Test
    void droppedCallbackIsNeverSentButCounted() throws Exception {
        AtomicLong received = startReceiver();
        sandbox.settings().setCallbackDropRate(1.0);
        String token = client.tokenOf("user-1");
        String id = confirmedSubmission(token, "p");
        assertEquals("COMPLETED", client.awaitFinal(token, "p", id));
        // the drop is decided when the submission finishes, in place of sending: counted means never sent
        awaitTrue(Duration.ofSeconds(2), () -> sandbox.callbacksDropped() == 1);
        assertEquals(0, sandbox.callbackAttempts());

        // the same path works for the next one, and what arrives is its callback only
        sandbox.settings().setCallbackDropRate(0.0);
        String id2 = confirmedSubmission(token, "p2");
        assertEquals("COMPLETED", client.awaitFinal(token, "p2", id2));
        awaitTrue(Duration.ofSeconds(5), () -> received.get() == 1);
        assertEquals(1, callbackBodies.size(), callbackBodies.toString());
        assertTrue(callbackBodies.get(0).contains(id2), callbackBodies.toString());
        assertTrue(callbackBodies.stream().noneMatch(b -> b.contains(id)), "the dropped callback arrived after all");
        assertEquals(1, sandbox.callbackAttempts());
        assertEquals(1, sandbox.callbacksDropped());
    }

    @Test
    void lateCallbackArrivesAfterTheConfiguredDelay() throws Exception {
        AtomicLong received = startReceiver();
        sandbox.settings().setCallbackLateMillis(600);
        String token = client.tokenOf("user-1");
        Resp presign = client.presign(token, "p");
        String id = presign.data().get("submissionId").asText();
        assertEquals(200, client.upload(documentUrl(presign)).statusCode());
        // taken before the confirm is sent: the sandbox's delays start when it handles the confirm, so
        // the time its answer takes to come back cannot shorten what is measured
        long confirmedAt = System.nanoTime();
        assertEquals(200, client.confirm(token, "p", id).status());
        awaitTrue(Duration.ofSeconds(5), () -> received.get() == 1);
        long elapsedMillis = (System.nanoTime() - confirmedAt) / 1_000_000;
        // processing delay (200) + late (600); loose lower bound only
        assertTrue(elapsedMillis >= 700, "callback after " + elapsedMillis + " ms");
        assertEquals("COMPLETED", sandbox.submissionStatus(id));
    }

    @Test
    void latencyDelaysEveryRequest() throws Exception {
        sandbox.settings().setLatencyMillis(300);
        sandbox.settings().setLatencyJitterMillis(50);
        long start = System.nanoTime();
        String token = client.tokenOf("user-1");
        long tokenMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(tokenMillis >= 280, "token call took " + tokenMillis + " ms");

        Resp presign = client.presign(token, "p");
        start = System.nanoTime();
        assertEquals(200, client.upload(documentUrl(presign)).statusCode());
        long uploadMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(uploadMillis >= 280, "upload took " + uploadMillis + " ms");
    }

    @Test
    void sameSeedGivesTheSameSequenceOfDecisions() throws Exception {
        String token = client.tokenOf("user-1");
        String id = client.presign(token, "p").data().get("submissionId").asText();
        sandbox.settings().setFailureRate("status", 0.5);

        sandbox.settings().setRandomSeed(42L);
        List<Integer> first = statusSequence(token, id);
        sandbox.settings().setRandomSeed(42L); // setting the seed again restarts the sequence
        List<Integer> second = statusSequence(token, id);
        assertEquals(first, second);
        assertTrue(first.contains(200) && first.stream().anyMatch(s -> s != 200), "mixed: " + first);

        sandbox.settings().setRandomSeed(43L);
        assertNotEquals(first, statusSequence(token, id));
    }

    @Test
    void settingsRejectNonsense() {
        SandboxSettings s = new SandboxSettings();
        assertThrows(IllegalArgumentException.class, () -> s.setFailureRate("upload", 0.5));
        assertThrows(IllegalArgumentException.class, () -> s.setFailureRate("confirm", 1.5));
        assertThrows(IllegalArgumentException.class, () -> s.setFailureRate("confirm", Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> s.setFailureStatuses(List.of(500, 404)));
        assertThrows(IllegalArgumentException.class, () -> s.setFailureStatuses(List.of()));
        assertThrows(IllegalArgumentException.class, () -> s.setCallbackDropRate(-0.1));
        assertThrows(IllegalArgumentException.class, () -> s.setLatencyMillis(-1));
        s.setFailureRates(java.util.Map.of("details", 0.25));
        assertEquals(0.25, s.getFailureRate("details"));
        assertEquals(0.0, s.getFailureRate("status"));
        assertEquals(List.of(500, 503, 429), s.getFailureStatuses());
        assertNull(s.getRandomSeed());
    }

    // ---- helpers ----

    private List<Integer> statusSequence(String token, String id) throws Exception {
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            statuses.add(client.status(token, "p", id).status());
        }
        return statuses;
    }

    /** Presign, upload and confirm; returns the submission id. */
    private String confirmedSubmission(String token, String psid) throws Exception {
        Resp presign = client.presign(token, psid);
        String id = presign.data().get("submissionId").asText();
        assertEquals(200, client.upload(documentUrl(presign)).statusCode());
        assertEquals(200, client.confirm(token, psid, id).status());
        return id;
    }

    /** Starts a callback receiver answering 200 and points the sandbox at it; returns the hit counter. */
    private AtomicLong startReceiver() throws Exception {
        AtomicLong received = new AtomicLong();
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/coe/submissions-callback", ex -> {
            callbackBodies.add(new String(ex.getRequestBody().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            received.incrementAndGet();
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        receiver.start();
        sandbox.settings().setCallbackUrl("http://127.0.0.1:" + receiver.getAddress().getPort()
                + "/coe/submissions-callback");
        return received;
    }
}

package id.ktpbridge.gtf;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.sandbox.ApiCall;
import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.sandbox.SandboxSettings;
import id.ktpbridge.sandbox.StorageRequest;
import id.ktpbridge.testkit.AnswerGateway;
import id.ktpbridge.testkit.AnswerGateway.Answer;
import id.ktpbridge.testkit.ApiCalls;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The OneKYC client against the embedded sandbox over real HTTP. */
class GtfClientTest {

    private static final String PARTNER = "KTPBRIDGE-BE-KTP_SCAN";

    @TempDir
    Path tmp;

    private GtfSandbox sandbox;
    private GtfClient client;

    @BeforeEach
    void start() {
        SandboxSettings settings = new SandboxSettings();
        settings.setOnboardingPartner(PARTNER);
        settings.setCallbackEnabled(false);
        settings.setProcessingDelayMillis(100);
        sandbox = new GtfSandbox(settings).start();
        client = client(sandbox.baseUrl(), Duration.ofMinutes(5));
    }

    @AfterEach
    void stop() {
        sandbox.stop();
    }

    /** The reference paths against one base URL, 3 attempts per call, fast back-off. */
    static GtfSettings settings(String baseUrl, Duration skew, boolean sdkSessionPerCall) {
        return settings(baseUrl, skew, false, sdkSessionPerCall);
    }

    static GtfSettings settings(String baseUrl, Duration skew, boolean partnerSessionPerCall,
                                boolean sdkSessionPerCall) {
        return new GtfSettings(baseUrl, baseUrl, "sandbox-client", "sandbox-pass-key", PARTNER,
                "/v2/coe/authentication", "/v1/coe/partner/authentication", "/coe/v1/submissions/urls",
                "/coe/v1/submissions/urls", "/coe/v1/submissions/{submissionId}/status", "/coe/v1/submissions",
                "KTP_SCAN", "KTP_FRONT", "user", Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10),
                skew, 100, 3, Duration.ofMillis(20), Duration.ofMillis(200), partnerSessionPerCall, sdkSessionPerCall);
    }

    static GtfClient client(String baseUrl, Duration skew) {
        return client(settings(baseUrl, skew, false));
    }

    static GtfClient client(GtfSettings s) {
        ObjectMapper json = new ObjectMapper();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        return new GtfClient(s, new GtfHttp(http, json, s.retryMaxAttempts(), s.retryInitialDelay(),
                s.retryMaxDelay()), json);
    }

    private static CallContext ctx(String user) {
        return new CallContext(new TokenKey(PARTNER, user, "PARTNER_USER_ID"), UUID.randomUUID().toString(),
                UUID.randomUUID().toString());
    }

    @Test
    void aConfirmStoppedByATokenFetchThatGotNoAnswerIsNotTakenAsPossiblyApplied() {
        CallContext ctx = ctx("dave");
        Presigned presigned = client.presign(ctx);
        // the confirm's token is refused (answered: not applied), and every fetch of a new one fails
        sandbox.revokeAllTokens();
        sandbox.settings().setFailureStatuses(List.of(500));
        sandbox.settings().setFailureRate("token", 1.0);
        GtfApiException e = assertThrows(GtfApiException.class, () -> client.confirm(ctx, presigned.submissionId(), null));
        assertEquals("user-token", e.endpoint(), e.getMessage());
        // the token call's own unanswered attempts say nothing about the confirm, which never went out again
        assertFalse(e.mayHaveBeenApplied("confirm"), e.getMessage());
        assertEquals("INITIATED", sandbox.submissionStatus(presigned.submissionId()));
    }

    @Test
    void oneTokenPerUserIsReusedAcrossCalls() {
        for (int i = 0; i < 5; i++) {
            client.presign(ctx("alice"));
        }
        client.presign(ctx("bob"));
        assertEquals(1, sandbox.tokenIssuedCount("alice"));
        assertEquals(1, sandbox.tokenIssuedCount("bob"));
        assertEquals(2, client.tokens().fetches());
        assertEquals(4, client.tokens().hits());
    }

    @Test
    void shortLivedTokensAreReusedThenRenewedWhenTheyExpire() {
        // the 5 minute refresh margin is capped at half the lifetime: a 20 s token is still reused
        // for its first 10 s (9 s at least, as expiry is in whole seconds), ample room for two calls
        // on a busy machine
        sandbox.settings().setTokenTtlSeconds(20);
        client.presign(ctx("carol"));
        client.presign(ctx("carol"));
        assertEquals(1, sandbox.tokenIssuedCount("carol"));
        assertEquals(1, client.tokens().hits(), "the second call reused the token");
        // once it nears its end a new one is fetched, without any 401 first
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
            client.presign(ctx("carol"));
            return sandbox.tokenIssuedCount("carol") == 2;
        });
        assertEquals(0, sandbox.requestLog().stream().filter(c -> c.httpStatus() == 401).count());
    }

    @Test
    void concurrentCallersOfOneUserShareOneTokenFetch() throws Exception {
        int callers = 24;
        ExecutorService pool = Executors.newFixedThreadPool(callers);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Presigned>> calls = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
            calls.add(pool.submit(() -> {
                go.await();
                return client.presign(ctx("erin"));
            }));
        }
        go.countDown();
        try {
            for (Future<Presigned> f : calls) {
                assertTrue(f.get(30, java.util.concurrent.TimeUnit.SECONDS).submissionId().length() > 0);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, sandbox.tokenIssuedCount("erin"));
    }

    @Test
    void refusedTokenIsRefreshedAndTheCallRetriedOnce() {
        client.presign(ctx("frank"));
        sandbox.revokeAllTokens();
        Presigned afterRevoke = client.presign(ctx("frank"));
        assertTrue(afterRevoke.submissionId().length() > 0);
        assertEquals(2, sandbox.tokenIssuedCount("frank"));
        assertEquals(2, client.tokens().fetches());
    }

    @Test
    void persistent401IsNotRetriedForever() {
        GtfClient wrongPartner = client(sandbox.baseUrl(), Duration.ofMinutes(5));
        sandbox.settings().setPassKey("another-pass-key");
        GtfApiException e = assertThrows(GtfApiException.class, () -> wrongPartner.presign(ctx("gina")));
        assertEquals(401, e.httpStatus());
        assertEquals("110", e.code());
        assertFalse(e.getMessage().contains("sandbox-pass-key"));
    }

    @Test
    void uploadUsesThePresignedUrlByteForByteAndSendsNoOneKycHeaders() throws Exception {
        CallContext ctx = ctx("hana");
        Presigned p = client.presign(ctx);
        Presigned.DocumentSlot slot = p.documents().get("KTP_FRONT");
        URI url = URI.create(slot.documentUrl());
        assertTrue(url.getRawQuery().contains("%2F"), "the sandbox URL carries an encoded slash");
        Path image = Files.write(tmp.resolve("hana.png"), SampleImages.card("hana", "png"));

        client.upload(slot, image, "image/png");
        client.confirm(ctx, p.submissionId(), null);

        List<StorageRequest> puts = sandbox.storageRequests();
        assertEquals(1, puts.size());
        StorageRequest put = puts.get(0);
        assertEquals("PUT", put.method());
        assertEquals(url.getRawPath() + "?" + url.getRawQuery(), put.rawUri());
        assertEquals(200, put.httpStatus());
        assertEquals("image/png", put.contentType());
        assertEquals(Files.size(image), put.bodySize());
        for (String forbidden : Set.of("x-onekyc-token", "x-partner-session-id", "x-sdk-session-id", "client-id",
                "pass-key", "authorization", "x-partner-user-id")) {
            assertNull(put.header(forbidden), forbidden + " must not reach storage");
        }
        assertEquals(1, sandbox.confirmCount(p.submissionId()));
        assertEquals(List.of(200), ApiCalls.confirmAnswers(sandbox.requestLog(), p.submissionId()));
    }

    @Test
    void theUploadsContentTypeIsTheImagesNoneOrOneGivenAsTheSettingSays() throws Exception {
        Path image = Files.write(tmp.resolve("ika.jpg"), SampleImages.card("ika", "jpg"));
        java.util.Map<String, String> sent = new java.util.LinkedHashMap<>();
        for (String mode : List.of("detect", "none", "application/octet-stream")) {
            client.uploadContentType(mode);
            Presigned p = client.presign(ctx("ika-" + sent.size()));
            client.upload(p.documents().get("KTP_FRONT"), image, "image/jpeg");
            List<StorageRequest> puts = sandbox.storageRequests();
            StorageRequest put = puts.get(puts.size() - 1);
            assertEquals(200, put.httpStatus(), mode);
            sent.put(mode, String.valueOf(put.header("content-type")));
        }
        assertEquals(java.util.Map.of("detect", "image/jpeg", "none", "null",
                "application/octet-stream", "application/octet-stream"), sent);
    }

    @Test
    void theUploadGoesWithTheMethodTheSettingNames() throws Exception {
        // a presigned URL is signed for one method: the sandbox's for PUT, so a POST to it is refused
        Path image = Files.write(tmp.resolve("lia.png"), SampleImages.card("lia", "png"));
        client.uploadMethod("POST");
        Presigned p = client.presign(ctx("lia"));
        assertThrows(StorageUploadException.class, () -> client.upload(p.documents().get("KTP_FRONT"), image,
                "image/png"));
        List<StorageRequest> sent = sandbox.storageRequests();
        assertEquals("POST", sent.get(sent.size() - 1).method());
        assertEquals("image/png", sent.get(sent.size() - 1).contentType());

        client.uploadMethod("PUT");
        Presigned again = client.presign(ctx("lia-2"));
        client.upload(again.documents().get("KTP_FRONT"), image, "image/png");
        sent = sandbox.storageRequests();
        assertEquals("PUT", sent.get(sent.size() - 1).method());
        assertEquals(200, sent.get(sent.size() - 1).httpStatus());
    }

    @Test
    void aPresignedUrlTheJdkCannotSendFailsTheUploadWithoutQuotingIt() throws Exception {
        Path image = Files.write(tmp.resolve("joko.png"), SampleImages.card("joko", "png"));
        for (String url : List.of("https://storage.test/ktp?X-Amz-Signature=secret sig",
                "ftp://storage.test/ktp?X-Amz-Signature=secretsig", "/ktp?X-Amz-Signature=secretsig")) {
            StorageUploadException e = assertThrows(StorageUploadException.class,
                    () -> client.upload(new Presigned.DocumentSlot(url, "ref", 600), image, "image/png"), url);
            assertFalse(e.getMessage().contains("secret"), e.getMessage());
            assertNull(e.getCause(), "the parser's message would quote the URL");
        }
        assertTrue(sandbox.storageRequests().isEmpty());
    }

    @Test
    void baseUrlsWithATrailingSlashGiveSinglePathSlashes() {
        GtfClient slashed = client(sandbox.baseUrl() + "/", Duration.ofMinutes(5));
        Presigned p = slashed.presign(ctx("kiki"));
        assertEquals(p.submissionId(), slashed.status(ctx("kiki"), p.submissionId()).path("submissionId").asText(),
                "status answered on the single-slash path");
    }

    @Test
    void sdkSessionIdIsKeptPerSubmissionOrFreshPerCallAsConfigured() throws Exception {
        for (boolean perCall : new boolean[] {false, true}) {
            GtfClient c = client(settings(sandbox.baseUrl(), Duration.ofMinutes(5), perCall));
            CallContext ctx = ctx("lala" + perCall);
            Presigned p = c.presign(ctx);
            c.status(ctx, p.submissionId());
            c.status(ctx, p.submissionId());
            List<String> sent = sandbox.requestLog().stream()
                    .filter(call -> ctx.partnerSessionId().equals(call.partnerSessionId()))
                    .map(call -> call.sdkSessionId()).toList();
            assertEquals(3, sent.size(), "presign and two status calls");
            assertEquals(perCall ? 3 : 1, Set.copyOf(sent).size(), "per call: " + perCall);
            if (!perCall) {
                assertEquals(ctx.sdkSessionId(), sent.get(0));
            }
        }
    }

    @Test
    void storageSlowDownIsRetriedAfterItsRetryAfterUnlessThatIsTooLong() throws Exception {
        Path image = Files.write(tmp.resolve("mira.png"), SampleImages.card("mira", "png"));
        sandbox.settings().setFailureStatuses(List.of(429)); // storage answers it as 503 SlowDown + Retry-After
        sandbox.settings().setFailureRate("storage", 1.0);
        ObjectMapper json = new ObjectMapper();
        GtfSettings s = settings(sandbox.baseUrl(), Duration.ofMinutes(5), false);
        GtfHttp http = new GtfHttp(HttpClient.newHttpClient(), json, s.retryMaxAttempts(), s.retryInitialDelay(),
                s.retryMaxDelay());
        http.maxRetryAfter(Duration.ofSeconds(1));
        GtfClient client = new GtfClient(s, http, json);
        sandbox.settings().setRetryAfterSeconds(2);
        Presigned p = client.presign(ctx("mira"));
        StorageUploadException e = assertThrows(StorageUploadException.class,
                () -> client.upload(p.documents().get("KTP_FRONT"), image, "image/png"));
        assertEquals(503, e.httpStatus());
        assertEquals(1, sandbox.storageRequests().size(), "a wait longer than a worker may be held is not waited");

        sandbox.settings().setRetryAfterSeconds(0);
        Presigned q = client.presign(ctx("mira"));
        assertThrows(StorageUploadException.class, () -> client.upload(q.documents().get("KTP_FRONT"), image, "image/png"));
        assertEquals(1 + 3, sandbox.storageRequests().size(), "with a short Retry-After every attempt is made");
    }

    @Test
    void expiredUploadUrlIsReportedAsRejected() throws Exception {
        sandbox.settings().setUrlExpirySeconds(0);
        Presigned p = client.presign(ctx("ivan"));
        Path image = Files.write(tmp.resolve("ivan.jpg"), SampleImages.card("ivan", "jpg"));
        StorageUploadException e = assertThrows(StorageUploadException.class,
                () -> client.upload(p.documents().get("KTP_FRONT"), image, "image/jpeg"));
        assertEquals(403, e.httpStatus());
        assertTrue(e.isUrlRejected());
        assertTrue(e.isUrlExpired(), "the 403's message says the request has expired");
    }

    @Test
    void aStorage403ThatDoesNotSayTheUrlExpiredIsRejectedButNotExpired() throws Exception {
        // a bucket policy: S3's AccessDenied, as for an expired URL, with the message "Access Denied"
        sandbox.settings().setUploadDeniedRate(1.0);
        Path image = Files.write(tmp.resolve("wira.png"), SampleImages.card("wira", "png"));
        Presigned p = client.presign(ctx("wira"));
        StorageUploadException denied = assertThrows(StorageUploadException.class,
                () -> client.upload(p.documents().get("KTP_FRONT"), image, "image/png"));
        assertEquals(403, denied.httpStatus());
        assertEquals("AccessDenied", denied.storageCode());
        assertTrue(denied.isUrlRejected() && !denied.isUrlExpired(), denied.getMessage());
        assertEquals(1, sandbox.uploadsDenied());

        // a signature a proxy broke on the way, adding a parameter of its own
        sandbox.settings().setUploadDeniedRate(0.0);
        String broken = client.presign(ctx("wira")).documents().get("KTP_FRONT").documentUrl() + "&x-proxy-hop=1";
        StorageUploadException mismatch = assertThrows(StorageUploadException.class,
                () -> client.upload(new Presigned.DocumentSlot(broken, "ref", 600), image, "image/png"));
        assertEquals("SignatureDoesNotMatch", mismatch.storageCode());
        assertTrue(mismatch.isUrlRejected() && !mismatch.isUrlExpired(), mismatch.getMessage());
    }

    @Test
    void statusAndDetailsUseTheSubmissionsSessionIds() throws Exception {
        CallContext ctx = ctx("joko");
        Presigned p = client.presign(ctx);
        client.upload(p.documents().get("KTP_FRONT"), Files.write(tmp.resolve("j.png"),
                SampleImages.card("j", "png")), "image/png");
        client.confirm(ctx, p.submissionId(), new ObjectMapper().createObjectNode().put("batch", "b1"));
        GtfApiException again = assertThrows(GtfApiException.class, () -> client.confirm(ctx, p.submissionId(), null));
        assertEquals(409, again.httpStatus());

        long deadline = System.currentTimeMillis() + 5000;
        String status = "";
        while (System.currentTimeMillis() < deadline && !"COMPLETED".equals(status)) {
            status = client.status(ctx, p.submissionId()).path("status").asText();
            Thread.sleep(50);
        }
        assertEquals("COMPLETED", status);
        var details = client.details(ctx, p.submissionId());
        assertEquals("VALID", details.path("result").asText());
        assertEquals(ctx.partnerSessionId(), details.path("partnerSessionId").asText());
        assertNotEquals("", details.path("submissionDetails").path("ktpData").path("nik").asText());
    }

    @Test
    void aStorage400AboutTheUrlsExpiredCredentialsIsReportedAsRejected() throws Exception {
        // S3 answers so when the STS token inside a presigned URL ran out before X-Amz-Expires
        com.sun.net.httpserver.HttpServer storage = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        storage.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>ExpiredToken</Code>"
                    + "<Message>The provided token has expired.</Message></Error>")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/xml");
            ex.sendResponseHeaders(400, body.length);
            try (java.io.OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        storage.start();
        try {
            Path image = Files.write(tmp.resolve("eka.png"), SampleImages.card("eka", "png"));
            String url = "http://127.0.0.1:" + storage.getAddress().getPort()
                    + "/KTP_SCAN/x_KTP_FRONT?X-Amz-Security-Token=t&X-Amz-Expires=600&X-Amz-Signature=s";
            StorageUploadException e = assertThrows(StorageUploadException.class,
                    () -> client.upload(new Presigned.DocumentSlot(url, "ref", 600), image, "image/png"));
            assertEquals(400, e.httpStatus());
            assertEquals("ExpiredToken", e.storageCode());
            assertTrue(e.isUrlRejected() && !e.isTransient(), e.getMessage());
        } finally {
            storage.stop(0);
        }
    }

    @Test
    void aUrlWhoseLifetimeHasPassedIsNotSentTo() throws Exception {
        Presigned p = client.presign(ctx("uma"));
        Path image = Files.write(tmp.resolve("u.png"), SampleImages.card("u", "png"));
        int before = sandbox.storageRequests().size();
        StorageUploadException e = assertThrows(StorageUploadException.class, () -> client.upload(
                p.documents().get("KTP_FRONT"), image, "image/png", System.currentTimeMillis() - 1));
        assertTrue(e.isUrlRejected() && !e.isTransient(), e.getMessage());
        assertEquals(before, sandbox.storageRequests().size(), "nothing sent");
    }

    @Test
    void aUrlWithLessThanASecondLeftIsStillSentToOnce() throws Exception {
        // as a URL given for one second is by the time its upload goes out (the submission's ledger
        // write comes between); the sandbox's URL itself lasts longer, so storage takes it
        Path image = Files.write(tmp.resolve("ulya.png"), SampleImages.card("ulya", "png"));
        Presigned p = client.presign(ctx("ulya"));
        int before = sandbox.storageRequests().size();
        client.upload(p.documents().get("KTP_FRONT"), image, "image/png", System.currentTimeMillis() + 990);
        assertEquals(before + 1, sandbox.storageRequests().size(), "sent once, and stored");
    }

    @Test
    void aRetryIsNotSentAtTheEndOfTheUrlsLifetime() throws Exception {
        Path image = Files.write(tmp.resolve("uli.png"), SampleImages.card("uli", "png"));
        sandbox.settings().setFailureStatuses(List.of(500));
        sandbox.settings().setFailureRate("storage", 1.0);
        Presigned p = client.presign(ctx("uli"));
        int before = sandbox.storageRequests().size();
        // the first attempt fails; the retry would start within the margin of the URL's end
        StorageUploadException e = assertThrows(StorageUploadException.class, () -> client.upload(
                p.documents().get("KTP_FRONT"), image, "image/png", System.currentTimeMillis() + 990));
        assertTrue(e.isUrlRejected() && !e.isTransient(), e.getMessage());
        assertEquals(before + 1, sandbox.storageRequests().size(), "the first attempt only");
    }

    @Test
    void anUploadInterruptedByAStopIsAPassingFailure() throws Exception {
        CallContext ctx = ctx("ida");
        Presigned p = client.presign(ctx);
        Path image = Files.write(tmp.resolve("i.png"), SampleImages.card("i", "png"));
        sandbox.settings().setLatencyMillis(5_000);
        java.util.concurrent.atomic.AtomicReference<RuntimeException> failure = new java.util.concurrent.atomic.AtomicReference<>();
        Thread worker = new Thread(() -> {
            try {
                client.upload(p.documents().get("KTP_FRONT"), image, "image/png");
            } catch (RuntimeException e) {
                failure.set(e);
            }
        });
        worker.start();
        // interrupted while it waits for the sandbox's answer (5 s away)
        await().atMost(Duration.ofSeconds(10)).until(() -> worker.getState() == Thread.State.WAITING
                || worker.getState() == Thread.State.TIMED_WAITING);
        worker.interrupt();
        worker.join(10_000);
        assertFalse(worker.isAlive(), "the upload did not give up on the interrupt");
        assertNotNull(failure.get(), "the interrupted upload reported no failure");
        StorageUploadException e = assertInstanceOf(StorageUploadException.class, failure.get());
        assertTrue(e.isTransient(), "the input waits in its source rather than failing: " + e.getMessage());
    }

    @Test
    void detailsFallBackToThePartnerTokenWhenTheUserTokenIsRefused() throws Exception {
        sandbox.settings().setDetailsAcceptsUserToken(false);
        CallContext ctx = ctx("kiki");
        Presigned p = client.presign(ctx);
        client.upload(p.documents().get("KTP_FRONT"), Files.write(tmp.resolve("k.png"),
                SampleImages.card("k", "png")), "image/png");
        client.confirm(ctx, p.submissionId(), null);
        await().atMost(Duration.ofSeconds(5)).until(() ->
                "COMPLETED".equals(client.status(ctx, p.submissionId()).path("status").asText()));

        assertEquals("VALID", client.details(ctx, p.submissionId()).path("result").asText());
        assertEquals(1, sandbox.partnerTokenIssuedCount());
        // from now on the partner token goes first: no more refused calls
        long refusedBefore = sandbox.requestLog().stream().filter(c -> c.httpStatus() == 403).count();
        client.details(ctx, p.submissionId());
        assertEquals(refusedBefore, sandbox.requestLog().stream().filter(c -> c.httpStatus() == 403).count());
        assertEquals(1, sandbox.partnerTokenIssuedCount());
    }

    // a OneKYC that takes x-partner-session-id as an idempotency key, behind a gateway that loses an
    // answer: the call was applied, and its retry carries the same id

    private static final String PRESIGN = "/coe/v1/submissions/urls";
    private static final Answer LOST_ANSWER = new Answer(502, java.util.Map.of("Content-Type", "text/html"),
            "<html><body><h1>502 Bad Gateway</h1></body></html>");
    private static final Answer DUPLICATE = Answer.json(400, "{\"success\":false,\"data\":null,\"errors\":"
            + "[{\"code\":\"1653\",\"cause\":\"DUPLICATE_PARTNER_SESSION_ID\"}]}");

    private List<ApiCall> calls(String endpoint) {
        return sandbox.requestLog().stream().filter(c -> endpoint.equals(c.endpoint())).toList();
    }

    @Test
    void sessionIdsOnePerCallAreTheSameForEveryAttemptOfOneCall() throws Exception {
        try (AnswerGateway gateway = new AnswerGateway(sandbox.baseUrl())) {
            GtfClient perCall = client(settings(gateway.baseUrl(), Duration.ofMinutes(5), true, true));
            gateway.answerAfterForwarding("GET", PRESIGN, 1, LOST_ANSWER);
            CallContext ctx = ctx("nina");
            perCall.presign(ctx);
            perCall.presign(ctx);
            List<ApiCall> presigns = calls("presign");
            assertEquals(3, presigns.size(), "the lost attempt, its retry, and a second presign: " + presigns);
            ApiCall lost = presigns.get(0);
            ApiCall retry = presigns.get(1);
            ApiCall another = presigns.get(2);
            assertEquals(lost.partnerSessionId(), retry.partnerSessionId(), "the retry is the same request");
            assertEquals(lost.sdkSessionId(), retry.sdkSessionId(), "the retry is the same request");
            assertNotEquals(retry.partnerSessionId(), another.partnerSessionId(), "another call, another id");
            assertNotEquals(retry.sdkSessionId(), another.sdkSessionId(), "another call, another id");
            assertNotEquals(ctx.partnerSessionId(), lost.partnerSessionId(), "one per call, not the submission's");
        }
    }

    @Test
    void aPresignRetryRefusedAsDuplicateAfterALostAnswerPresignsAgainUnderNewIdsWithoutSwitchingToIdsPerCall()
            throws Exception {
        try (AnswerGateway gateway = new AnswerGateway(sandbox.baseUrl())) {
            GtfClient c = client(gateway.baseUrl(), Duration.ofMinutes(5));
            gateway.answerAfterForwarding("GET", PRESIGN, 1, LOST_ANSWER);
            AtomicInteger refused = gateway.answer("GET", PRESIGN, 1, DUPLICATE);
            CallContext ctx = ctx("olga");
            Presigned p = c.presign(ctx);
            assertEquals(1, refused.get());
            assertFalse(c.partnerSessionPerCall(), "the retry repeated its own lost attempt's id: no sign of ids per call");
            List<ApiCall> presigns = calls("presign");
            assertEquals(2, presigns.size(), "the lost one, and the one presigned again: " + presigns);
            assertEquals(ctx.partnerSessionId(), presigns.get(0).partnerSessionId());
            ApiCall again = presigns.get(1);
            assertEquals(p.submissionId(), again.submissionId());
            assertNotEquals(ctx.partnerSessionId(), again.partnerSessionId(), "the lost submission's id names that one");
            // the new submission still goes by one id
            CallContext sessions = new CallContext(ctx.tokenKey(), again.partnerSessionId(), again.sdkSessionId());
            c.status(sessions, p.submissionId());
            c.status(sessions, p.submissionId());
            assertEquals(List.of(again.partnerSessionId(), again.partnerSessionId()),
                    calls("status").stream().map(ApiCall::partnerSessionId).toList());
        }
    }

    @Test
    void aConfirmRetryRefusedAsDuplicateAfterALostAnswerIsNotMadeAgainNorSwitchesToIdsPerCall() throws Exception {
        try (AnswerGateway gateway = new AnswerGateway(sandbox.baseUrl())) {
            GtfClient c = client(gateway.baseUrl(), Duration.ofMinutes(5));
            CallContext ctx = ctx("pia");
            Presigned p = c.presign(ctx);
            c.upload(p.documents().get("KTP_FRONT"), Files.write(tmp.resolve("p.png"), SampleImages.card("p", "png")),
                    "image/png");
            gateway.answerAfterForwarding("PUT", PRESIGN, 1, LOST_ANSWER);
            gateway.answer("PUT", PRESIGN, 1, DUPLICATE);
            GtfApiException e = assertThrows(GtfApiException.class, () -> c.confirm(ctx, p.submissionId(), null));
            // for the caller to take as confirmed (Submitter, Poller): the lost attempt was applied
            assertEquals("DUPLICATE_PARTNER_SESSION_ID", e.errorCause(), e.getMessage());
            assertTrue(e.afterUnansweredAttempt(), e.getMessage());
            assertFalse(c.partnerSessionPerCall());
            assertEquals(1, calls("confirm").size(), "not sent once more under another id");
            assertEquals(1, sandbox.confirmCount(p.submissionId()));
            // the lost attempt, applied; the one refused as its repeat never reached OneKYC
            assertEquals(List.of(200), ApiCalls.confirmAnswers(sandbox.requestLog(), p.submissionId()));
        }
    }

    @Test
    void readsWhoseRetryIsRefusedAsDuplicateAfterALostAnswerAreAskedOnceMoreWithoutSwitchingToIdsPerCall()
            throws Exception {
        try (AnswerGateway gateway = new AnswerGateway(sandbox.baseUrl())) {
            GtfClient c = client(gateway.baseUrl(), Duration.ofMinutes(5));
            CallContext ctx = ctx("sari");
            Presigned p = c.presign(ctx);
            gateway.answerAfterForwarding("GET", "/coe/v1/submissions/.*/status", 1, LOST_ANSWER);
            gateway.answer("GET", "/coe/v1/submissions/.*/status", 1, DUPLICATE);
            gateway.answerAfterForwarding("GET", "/coe/v1/submissions", 1, LOST_ANSWER);
            gateway.answer("GET", "/coe/v1/submissions", 1, DUPLICATE);
            assertEquals("INITIATED", c.status(ctx, p.submissionId()).path("status").asText());
            assertEquals(p.submissionId(), c.details(ctx, p.submissionId()).path("submissionId").asText());
            assertFalse(c.partnerSessionPerCall());
            List<ApiCall> status = calls("status");
            assertEquals(2, status.size(), status.toString());
            assertEquals(ctx.partnerSessionId(), status.get(0).partnerSessionId(), "the lost one");
            assertNotEquals(ctx.partnerSessionId(), status.get(1).partnerSessionId(), "asked once more with its own");
            List<ApiCall> details = calls("details");
            assertEquals(2, details.size(), details.toString());
            assertNull(details.get(1).partnerSessionId(), "asked once more by the submission id alone");
        }
    }

    private static final Answer THROTTLED_FOR_30_S = new Answer(429, java.util.Map.of("Content-Type",
            "application/json", "Retry-After", "30"), "{\"success\":false,\"data\":null,\"errors\":"
            + "[{\"code\":\"429\",\"cause\":\"TOO_MANY_REQUESTS\"}]}");

    /**
     * Confirms in a thread of its own and interrupts it, as a stop does, once it waits out a
     * Retry-After of 30 s.
     */
    private static GtfApiException confirmStoppedInItsRetryAfter(GtfClient c, CallContext ctx, String submissionId)
            throws InterruptedException {
        java.util.concurrent.atomic.AtomicReference<RuntimeException> failure =
                new java.util.concurrent.atomic.AtomicReference<>();
        Thread worker = new Thread(() -> {
            try {
                c.confirm(ctx, submissionId, null);
            } catch (RuntimeException e) {
                failure.set(e);
            }
        });
        try (id.ktpbridge.testkit.LogCapture log = new id.ktpbridge.testkit.LogCapture()) {
            worker.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> log.text().contains("; retrying in 30000 ms")
                    && worker.getState() == Thread.State.TIMED_WAITING);
            worker.interrupt();
            worker.join(10_000);
        }
        assertFalse(worker.isAlive(), "the confirm did not give up on the interrupt");
        return assertInstanceOf(GtfApiException.class, failure.get());
    }

    @Test
    void aConfirmStoppedWhileWaitingOutTheRetryAfterOfA429IsNotTakenAsPossiblyApplied() throws Exception {
        try (AnswerGateway gateway = new AnswerGateway(sandbox.baseUrl())) {
            GtfClient c = client(gateway.baseUrl(), Duration.ofMinutes(5));
            CallContext ctx = ctx("tari");
            Presigned p = c.presign(ctx);
            c.upload(p.documents().get("KTP_FRONT"), Files.write(tmp.resolve("t.png"), SampleImages.card("t", "png")),
                    "image/png");
            AtomicInteger throttled = gateway.answer("PUT", PRESIGN, 1, THROTTLED_FOR_30_S);
            GtfApiException e = confirmStoppedInItsRetryAfter(c, ctx, p.submissionId());
            assertEquals(1, throttled.get());
            // refused, and not sent again: the input waits in its source, uploaded, rather than being taken as confirmed
            assertTrue(e.isTransient(), e.getMessage());
            assertFalse(e.mayHaveBeenApplied("confirm"), e.getMessage());
            assertTrue(calls("confirm").isEmpty(), "the refused attempt never reached OneKYC");
            assertEquals("INITIATED", sandbox.submissionStatus(p.submissionId()));
        }
    }

    @Test
    void aConfirmStoppedWhileWaitingToRetryAnAttemptWithoutAnAnswerMayHaveBeenApplied() throws Exception {
        try (AnswerGateway gateway = new AnswerGateway(sandbox.baseUrl())) {
            GtfClient c = client(gateway.baseUrl(), Duration.ofMinutes(5));
            CallContext ctx = ctx("umi");
            Presigned p = c.presign(ctx);
            c.upload(p.documents().get("KTP_FRONT"), Files.write(tmp.resolve("u.png"), SampleImages.card("u", "png")),
                    "image/png");
            // the confirm is applied, its answer lost in a gateway that asks to come back in 30 s
            gateway.answerAfterForwarding("PUT", PRESIGN, 1, new Answer(502, java.util.Map.of("Content-Type",
                    "text/html", "Retry-After", "30"), "<html><body><h1>502 Bad Gateway</h1></body></html>"));
            GtfApiException lost = confirmStoppedInItsRetryAfter(c, ctx, p.submissionId());
            assertTrue(lost.isTransient() && lost.mayHaveBeenApplied("confirm"), lost.getMessage());
            assertEquals(1, sandbox.confirmCount(p.submissionId()));
            // applied once, and not sent again before the stop
            assertEquals(List.of(200), ApiCalls.confirmAnswers(sandbox.requestLog(), p.submissionId()));

            // a 429 after the lost answer: the stop in its Retry-After still follows an attempt that may have taken
            CallContext other = ctx("umi2");
            Presigned q = c.presign(other);
            c.upload(q.documents().get("KTP_FRONT"), Files.write(tmp.resolve("u2.png"),
                    SampleImages.card("u2", "png")), "image/png");
            gateway.answerAfterForwarding("PUT", PRESIGN, 1, LOST_ANSWER);
            gateway.answer("PUT", PRESIGN, 1, THROTTLED_FOR_30_S);
            GtfApiException afterLost = confirmStoppedInItsRetryAfter(c, other, q.submissionId());
            assertTrue(afterLost.isTransient() && afterLost.mayHaveBeenApplied("confirm"), afterLost.getMessage());
            assertEquals(1, sandbox.confirmCount(q.submissionId()));
            // the gateway's 429 never reached OneKYC
            assertEquals(List.of(200), ApiCalls.confirmAnswers(sandbox.requestLog(), q.submissionId()));
        }
    }

    @Test
    void aPresignWithIdsPerCallKeepsTheIdsItWasSentWithNotTheInputsOwn() throws Exception {
        GtfClient perCall = client(settings(sandbox.baseUrl(), Duration.ofMinutes(5), true, false));
        CallContext ctx = ctx("vina");
        Presigned p = perCall.presign(ctx);
        ApiCall presign = calls("presign").get(0);
        assertNotEquals(ctx.partnerSessionId(), presign.partnerSessionId(), "one of its own");
        // what the ledger and the result keep: the id OneKYC saw the submission made under
        assertEquals(presign.partnerSessionId(), p.sessions().partnerSessionId());
        assertEquals(ctx.sdkSessionId(), p.sessions().sdkSessionId(), "the sdk session id is one per submission");

        // switched to ids per call by the presign's own first sending, refused as a repeat
        try (AnswerGateway gateway = new AnswerGateway(sandbox.baseUrl())) {
            GtfClient learning = client(gateway.baseUrl(), Duration.ofMinutes(5));
            AtomicInteger refused = gateway.answer("GET", PRESIGN, 1, DUPLICATE);
            CallContext other = ctx("vina2");
            Presigned q = learning.presign(other);
            assertEquals(1, refused.get());
            assertTrue(learning.partnerSessionPerCall());
            ApiCall made = calls("presign").get(1);
            assertEquals(q.submissionId(), made.submissionId());
            assertNotEquals(other.partnerSessionId(), made.partnerSessionId());
            assertEquals(made.partnerSessionId(), q.sessions().partnerSessionId());
        }
    }

    @Test
    void detailsNotFoundWhenAskedWithThePartnerSessionIdAreAskedOnceMoreBySubmissionIdAlone() throws Exception {
        try (AnswerGateway gateway = new AnswerGateway(sandbox.baseUrl())) {
            GtfClient c = client(gateway.baseUrl(), Duration.ofMinutes(5));
            CallContext ctx = ctx("wati");
            Presigned p = c.presign(ctx);
            // a OneKYC taking ids as one per call, asked by an instance that has not learned it (restarted)
            AtomicInteger notFound = gateway.answerWhen("GET", "/coe/v1/submissions",
                    h -> h.containsKey("x-partner-session-id"), -1, Answer.json(400, "{\"success\":false,\"data\":"
                            + "null,\"errors\":[{\"code\":\"1552\",\"cause\":\"SUBMISSION_DOES_NOT_EXIST\"}]}"));
            assertEquals(p.submissionId(), c.details(ctx, p.submissionId()).path("submissionId").asText());
            assertEquals(1, notFound.get(), "asked with both ids once");
            List<ApiCall> details = calls("details");
            assertEquals(1, details.size(), details.toString());
            assertNull(details.get(0).partnerSessionId(), "asked once more by the submission id alone");

            // not there by the submission id alone either: it does not exist
            GtfApiException e = assertThrows(GtfApiException.class, () -> c.details(ctx, "no-such-submission"));
            assertTrue(e.isSubmissionNotFound(), e.getMessage());
            assertEquals(2, notFound.get());
        }
    }

    @Test
    void detailsThatNameAnotherSubmissionWhenAskedByBothIdsAreAskedBySubmissionIdAlone() throws Exception {
        try (AnswerGateway gateway = new AnswerGateway(sandbox.baseUrl())) {
            GtfClient c = client(gateway.baseUrl(), Duration.ofMinutes(5));
            CallContext ctx = ctx("rani");
            Presigned p = c.presign(ctx);
            c.upload(p.documents().get("KTP_FRONT"), Files.write(tmp.resolve("r.png"), SampleImages.card("r", "png")),
                    "image/png");
            c.confirm(ctx, p.submissionId(), null);
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    "COMPLETED".equals(c.status(ctx, p.submissionId()).path("status").asText()));
            // a server that goes by the session id when both are sent, which an earlier submission has too
            AtomicInteger bySession = gateway.answerWhen("GET", "/coe/v1/submissions",
                    h -> h.containsKey("x-partner-session-id"), -1, Answer.json(200, "{\"success\":true,\"data\":"
                            + "{\"submissionId\":\"an-earlier-abandoned-one\",\"status\":\"IN_PROGRESS\"}}"));
            com.fasterxml.jackson.databind.JsonNode details = c.details(ctx, p.submissionId());
            assertEquals(p.submissionId(), details.path("submissionId").asText(), details.toString());
            assertEquals("VALID", details.path("result").asText(), details.toString());
            assertEquals(1, bySession.get());
            assertNull(calls("details").get(0).partnerSessionId(), "asked by the submission id alone");
        }
    }
}

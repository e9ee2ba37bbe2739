package id.ktpbridge.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Drives the sandbox over real HTTP, the way the bridge's client does. */
class GtfSandboxTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] IMAGE = "\u00ff\u00d8fake-jpeg-bytes".getBytes(StandardCharsets.ISO_8859_1);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private GtfSandbox sandbox;
    private HttpServer receiver;

    private record Resp(int status, JsonNode json) {
        JsonNode data() { return json.get("data"); }
        JsonNode error() { return json.get("errors").get(0); }
    }

    @BeforeEach
    void start() {
        SandboxSettings settings = new SandboxSettings();
        settings.setProcessingDelayMillis(200);
        sandbox = new GtfSandbox(settings).start();
    }

    @AfterEach
    void stop() {
        sandbox.stop();
        if (receiver != null) {
            receiver.stop(0);
        }
    }

    @Test
    void happyPathFromTokenToOcrDetails() throws Exception {
        Resp tokenResp = token("user-42");
        assertEquals(200, tokenResp.status());
        String token = tokenResp.data().get("token").asText();
        assertTrue(token.startsWith("eyJ") && token.split("\\.").length == 3, "JWT-shaped token");
        assertTrue(tokenResp.data().get("expiry_seconds").isTextual());
        assertEquals("5184000", tokenResp.data().get("expiry_seconds").asText());
        assertTrue(tokenResp.data().get("expires_at").isTextual());
        assertNotEquals(token, token("user-42").data().get("token").asText(), "each call mints a new token");
        assertEquals(2, sandbox.tokenIssuedCount("user-42"));

        Resp presign = presign(token, "psid-1", "sdk-1");
        assertEquals(200, presign.status());
        String id = presign.data().get("submissionId").asText();
        assertEquals("INITIATED", presign.data().get("status").asText());
        JsonNode doc = presign.data().get("documents").get("KTP_FRONT");
        assertEquals(id + "_KTP_FRONT", doc.get("documentReference").asText());
        assertEquals("600", doc.get("expiryInSeconds").asText());
        String url = doc.get("documentUrl").asText();
        assertTrue(url.contains("X-Amz-Credential=SANDBOXKEY%2F"), "credential is percent-encoded");

        assertEquals(200, upload(url).statusCode());
        StorageRequest stored = sandbox.storageRequests().get(0);
        assertEquals("PUT", stored.method());
        assertEquals(url.substring(sandbox.baseUrl().length()), stored.rawUri());
        assertEquals("image/jpeg", stored.contentType());
        assertEquals(IMAGE.length, stored.bodySize());
        assertEquals(null, stored.header("x-onekyc-token"));

        Resp confirm = confirm(token, "psid-1", "sdk-1", id);
        assertEquals(200, confirm.status());
        assertEquals(id, confirm.data().get("submissionId").asText());
        assertEquals(1, sandbox.confirmCount(id));

        Resp status = awaitFinalStatus(token, id, "psid-1", "sdk-1");
        assertEquals("COMPLETED", status.data().get("status").asText());
        assertEquals("KTP_SCAN", status.data().get("submissionType").asText());
        assertTrue(status.data().get("verificationResult").get("isApproved").asBoolean());
        assertEquals("95", status.data().get("verificationResult").get("confidence").asText());
        assertEquals("VERIFIED", status.data().get("documents").get("KTP_FRONT").get("status").asText());
        assertFalse(status.data().get("completedAt").isNull());

        Resp details = details(token, id, null);
        assertEquals(200, details.status());
        JsonNode data = details.data();
        assertEquals("COMPLETED", data.get("status").asText());
        assertEquals("VALID", data.get("result").asText());
        assertEquals("", data.get("reasonCode").asText());
        assertEquals("KTP_SCAN", data.get("flow").asText());
        assertEquals("psid-1", data.get("partnerSessionId").asText());
        JsonNode ktp = data.get("submissionDetails").get("ktpData");
        assertEquals(19, ktp.size());
        assertTrue(ktp.get("nik").asText().matches("\\d{16}"));
        assertTrue(data.get("submissionDetails").get("imageUrls").has("KTP_FRONT"));
        // deterministic per user: a second submission of the same user yields the same card
        assertEquals(ktp, completeSubmission("user-42").get("submissionDetails").get("ktpData"));

        // every API call of the first submission carried the same session ids
        List<ApiCall> calls = sandbox.requestLog().stream().filter(c -> id.equals(c.submissionId())).toList();
        assertTrue(calls.size() >= 3);
        assertTrue(calls.stream().filter(c -> !"details".equals(c.endpoint()))
                .allMatch(c -> "psid-1".equals(c.partnerSessionId()) && "sdk-1".equals(c.sdkSessionId())));
    }

    @Test
    void reEncodedQueryFailsTheSignature() throws Exception {
        String token = token("user-1").data().get("token").asText();
        String url = documentUrl(presign(token, "p", "s"));
        for (String tampered : List.of(url.replace("%2F", "/"), url.replace("%2F", "%252F"))) {
            HttpResponse<String> resp = upload(tampered);
            assertEquals(403, resp.statusCode());
            assertTrue(resp.body().contains("<Code>SignatureDoesNotMatch</Code>"));
        }
        assertEquals(200, upload(url).statusCode());
    }

    @Test
    void expiredUploadUrlIsDenied() throws Exception {
        sandbox.settings().setUrlExpirySeconds(1);
        String token = token("user-1").data().get("token").asText();
        String url = documentUrl(presign(token, "p", "s"));
        AtomicReference<HttpResponse<String>> last = new AtomicReference<>();
        awaitTrue(Duration.ofSeconds(5), () -> {
            last.set(upload(url));
            return last.get().statusCode() == 403;
        });
        assertTrue(last.get().body().contains("<Code>AccessDenied</Code>"));
        assertTrue(last.get().body().contains("Request has expired"));
    }

    @Test
    void confirmWithoutUploadIs422AndDoubleConfirmIs409() throws Exception {
        String token = token("user-1").data().get("token").asText();
        Resp presign = presign(token, "p", "s");
        String id = presign.data().get("submissionId").asText();

        Resp early = confirm(token, "p", "s", id);
        assertEquals(422, early.status());
        assertEquals("422", early.error().get("code").asText());
        assertTrue(early.error().get("code").isTextual());
        assertEquals("INVALID_UPLOAD_ARTIFACT", early.error().get("cause").asText());

        assertEquals(200, upload(documentUrl(presign)).statusCode());
        assertEquals(200, confirm(token, "p", "s", id).status());
        Resp twice = confirm(token, "p", "s", id);
        assertEquals(409, twice.status());
        assertEquals("SUBMISSION_STATE_CONFLICT", twice.error().get("cause").asText());
        assertEquals(1, sandbox.confirmCount(id));
        assertEquals(3, sandbox.confirmAttempts(id));

        assertEquals(404, confirm(token, "p", "s", "00000000-0000-4000-8000-000000000000").status());
        String otherToken = token("user-2").data().get("token").asText();
        assertEquals(403, confirm(otherToken, "p", "s", id).status());
        assertEquals(403, status(otherToken, id).status());
    }

    @Test
    void revokedTokenIs401WithStringCode110() throws Exception {
        String token = token("user-1").data().get("token").asText();
        sandbox.revokeAllTokens();
        Resp resp = presign(token, "p", "s");
        assertEquals(401, resp.status());
        assertTrue(resp.error().get("code").isTextual());
        assertEquals("110", resp.error().get("code").asText());
        assertEquals("UNAUTHORIZED", resp.error().get("cause").asText());
        assertEquals(200, presign(token("user-1").data().get("token").asText(), "p", "s").status());
    }

    @Test
    void missingHeadersAre400With1539() throws Exception {
        String token = token("user-1").data().get("token").asText();
        Resp presign = send(api("GET", "/coe/v1/submissions/urls?submissionType=KTP_SCAN")
                .header("x-onekyc-token", token).header("x-partner-session-id", "p"));
        assertEquals(400, presign.status());
        assertEquals("1539", presign.error().get("code").asText());
        assertEquals("COE_PARTNER_CAN_NOT_BE_EMPTY", presign.error().get("cause").asText());

        Resp confirm = send(api("PUT", "/coe/v1/submissions/urls", "{\"submissionId\":\"x\"}")
                .header("x-onekyc-token", token).header("x-partner-session-id", "p"));
        assertEquals(400, confirm.status());
        assertEquals("X_SDK_SESSION_ID_CAN_NOT_BE_EMPTY", confirm.error().get("cause").asText());

        Resp tokenResp = send(HttpRequest.newBuilder(URI.create(sandbox.baseUrl() + "/v2/coe/authentication"))
                .header("client-id", "sandbox-client"));
        assertEquals(400, tokenResp.status());
        assertEquals(1539, tokenResp.error().get("code").intValue());
        assertTrue(tokenResp.error().get("code").isInt(), "token page uses integer codes");
        assertEquals("MISSING_CLIENT_ID_OR_PASS_KEY", tokenResp.error().get("cause").asText());

        assertEquals(400, presign(token, "p", "s", "PASSPORT").status());
        assertEquals(404, send(api("GET", "/nope")).status());
        assertEquals(405, send(api("DELETE", "/coe/v1/submissions/urls")).status());
    }

    @Test
    void errorAndNotEktpUsersGetTheirScenario() throws Exception {
        JsonNode error = completeSubmission("user-error-1");
        assertEquals("ERROR", error.get("status").asText());
        assertTrue(error.get("result").isNull());
        assertEquals("VERIFICATION_FAILED", error.get("reasonCode").asText());

        JsonNode notEktp = completeSubmission("user-notektp-1");
        assertEquals("COMPLETED", notEktp.get("status").asText());
        assertEquals("INVALID", notEktp.get("result").asText());
        assertEquals("NOT_EKTP", notEktp.get("reasonCode").asText());
        assertFalse(notEktp.get("submissionDetails").has("ktpData"));

        // the partner token reads any submission, the status API shows the error message
        String errorId = error.get("submissionId").asText();
        Resp partner = send(HttpRequest.newBuilder(URI.create(sandbox.baseUrl() + "/v1/coe/partner/authentication"))
                .header("client-id", "sandbox-client").header("pass-key", "sandbox-pass-key"));
        assertEquals("3600", partner.data().get("expiry_seconds").asText());
        Resp viaPartner = details(partner.data().get("token").asText(), errorId, null);
        assertEquals("ERROR", viaPartner.data().get("status").asText());
        String userToken = token("user-error-1").data().get("token").asText();
        Resp status = status(userToken, errorId);
        assertEquals("ERROR", status.data().get("status").asText());
        assertFalse(status.data().get("errorMessage").isNull());
        assertEquals("INVALID", status.data().get("documents").get("KTP_FRONT").get("status").asText());

        Resp foreign = details(token("someone-else").data().get("token").asText(), errorId, null);
        assertEquals(403, foreign.status());
        assertEquals(903, foreign.error().get("code").intValue());
        Resp mismatch = details(userToken, errorId, "wrong-psid");
        assertEquals(1553, mismatch.error().get("code").intValue());
    }

    @Test
    void callbackIsPushedTwiceWithAuthorization() throws Exception {
        List<String> authHeaders = new CopyOnWriteArrayList<>();
        List<JsonNode> bodies = new CopyOnWriteArrayList<>();
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/coe/submissions-callback", ex -> {
            try (InputStream in = ex.getRequestBody()) {
                bodies.add(JSON.readTree(in));
            }
            authHeaders.add(ex.getRequestHeaders().getFirst("Authorization"));
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        receiver.start();
        sandbox.settings().setCallbackUrl("http://127.0.0.1:" + receiver.getAddress().getPort()
                + "/coe/submissions-callback");
        sandbox.settings().setCallbackAuthorization("Bearer cb-secret");
        sandbox.settings().setCallbackDuplicates(2);

        JsonNode details = completeSubmission("user-cb");
        awaitTrue(Duration.ofSeconds(5), () -> sandbox.callbacksDelivered() == 2);
        assertEquals(List.of("Bearer cb-secret", "Bearer cb-secret"), authHeaders);
        for (JsonNode body : bodies) {
            assertEquals(details.get("submissionId").asText(), body.get("submissionId").asText());
            assertEquals("COMPLETED", body.get("status").asText());
            assertEquals("VALID", body.get("result").asText());
            assertTrue(body.get("reasonCode").isNull());
        }
    }

    // ---- helpers ----

    /** Runs token → presign → upload → confirm → wait, returns the details data. */
    private JsonNode completeSubmission(String userId) throws Exception {
        String token = token(userId).data().get("token").asText();
        Resp presign = presign(token, "psid-" + userId, "sdk-" + userId);
        String id = presign.data().get("submissionId").asText();
        assertEquals(200, upload(documentUrl(presign)).statusCode());
        assertEquals(200, confirm(token, "psid-" + userId, "sdk-" + userId, id).status());
        awaitFinalStatus(token, id, "psid-" + userId, "sdk-" + userId);
        Resp details = details(token, null, "psid-" + userId);
        assertEquals(200, details.status());
        return details.data();
    }

    private Resp awaitFinalStatus(String token, String id, String psid, String sdk) throws Exception {
        Resp[] last = new Resp[1];
        awaitTrue(Duration.ofSeconds(5), () -> {
            last[0] = status(token, id, psid, sdk);
            String s = last[0].data().get("status").asText();
            return "COMPLETED".equals(s) || "ERROR".equals(s);
        });
        return last[0];
    }

    private Resp token(String userId) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(sandbox.baseUrl() + "/v2/coe/authentication"))
                .header("client-id", "sandbox-client").header("pass-key", "sandbox-pass-key")
                .header("x-onboarding-partner", "KTPBRIDGE-BE-KTP_SCAN")
                .header("x-partner-user-id", userId).header("x-partner-user-id-type", "TEST_USER_ID"));
    }

    private Resp presign(String token, String psid, String sdk) throws Exception {
        return presign(token, psid, sdk, "KTP_SCAN");
    }

    private Resp presign(String token, String psid, String sdk, String type) throws Exception {
        return send(api("GET", "/coe/v1/submissions/urls?submissionType=" + type)
                .header("x-onekyc-token", token).header("x-partner-session-id", psid).header("x-sdk-session-id", sdk));
    }

    private Resp confirm(String token, String psid, String sdk, String id) throws Exception {
        return send(api("PUT", "/coe/v1/submissions/urls", "{\"submissionId\":\"" + id + "\"}")
                .header("x-onekyc-token", token).header("x-partner-session-id", psid).header("x-sdk-session-id", sdk));
    }

    private Resp status(String token, String id) throws Exception {
        return status(token, id, "p", "s");
    }

    private Resp status(String token, String id, String psid, String sdk) throws Exception {
        return send(api("GET", "/coe/v1/submissions/" + id + "/status")
                .header("x-onekyc-token", token).header("x-partner-session-id", psid).header("x-sdk-session-id", sdk));
    }

    private Resp details(String token, String submissionId, String psid) throws Exception {
        HttpRequest.Builder b = api("GET", "/coe/v1/submissions").header("x-onekyc-token", token);
        if (submissionId != null) {
            b.header("x-submission-id", submissionId);
        }
        if (psid != null) {
            b.header("x-partner-session-id", psid);
        }
        return send(b);
    }

    private static String documentUrl(Resp presign) {
        return presign.data().get("documents").get("KTP_FRONT").get("documentUrl").asText();
    }

    private HttpResponse<String> upload(String url) throws IOException, InterruptedException {
        HttpRequest put = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "image/jpeg")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(IMAGE)).build();
        return http.send(put, HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder api(String method, String path) {
        return api(method, path, null);
    }

    private HttpRequest.Builder api(String method, String path, String json) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(sandbox.baseUrl() + path));
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        return b.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(json));
    }

    private Resp send(HttpRequest.Builder request) throws IOException, InterruptedException {
        HttpResponse<String> resp = http.send(request.timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        return new Resp(resp.statusCode(), JSON.readTree(resp.body()));
    }

    @FunctionalInterface
    private interface Check {
        boolean ok() throws Exception;
    }

    /** Polls every 50 ms until the check passes or the deadline expires. */
    private static void awaitTrue(Duration timeout, Check check) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!check.ok()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + timeout);
            }
            Thread.sleep(50);
        }
    }
}

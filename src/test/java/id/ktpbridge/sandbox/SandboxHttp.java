package id.ktpbridge.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Minimal OneKYC client over real HTTP for the sandbox fault tests. */
final class SandboxHttp {

    static final ObjectMapper JSON = new ObjectMapper();
    static final byte[] IMAGE = "\u00ff\u00d8fake-jpeg-bytes".getBytes(StandardCharsets.ISO_8859_1);

    /** One API answer; {@code retryAfter} is the Retry-After header or null. */
    record Resp(int status, JsonNode json, String retryAfter) {
        JsonNode data() { return json.get("data"); }
        JsonNode error() { return json.get("errors").get(0); }
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final GtfSandbox sandbox;

    SandboxHttp(GtfSandbox sandbox) {
        this.sandbox = sandbox;
    }

    Resp token(String userId) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(sandbox.baseUrl() + "/v2/coe/authentication"))
                .header("client-id", "sandbox-client").header("pass-key", "sandbox-pass-key")
                .header("x-onboarding-partner", "KTPBRIDGE-BE-KTP_SCAN")
                .header("x-partner-user-id", userId).header("x-partner-user-id-type", "TEST_USER_ID"));
    }

    /** A fresh user token; fails the test when minting does not succeed. */
    String tokenOf(String userId) throws Exception {
        Resp resp = token(userId);
        if (resp.status() != 200) {
            throw new AssertionError("token call answered " + resp.status());
        }
        return resp.data().get("token").asText();
    }

    Resp presign(String token, String psid) throws Exception {
        return send(api("GET", "/coe/v1/submissions/urls?submissionType=KTP_SCAN", null)
                .header("x-onekyc-token", token).header("x-partner-session-id", psid).header("x-sdk-session-id", "sdk"));
    }

    Resp confirm(String token, String psid, String id) throws Exception {
        return send(api("PUT", "/coe/v1/submissions/urls", "{\"submissionId\":\"" + id + "\"}")
                .header("x-onekyc-token", token).header("x-partner-session-id", psid).header("x-sdk-session-id", "sdk"));
    }

    Resp status(String token, String psid, String id) throws Exception {
        return send(api("GET", "/coe/v1/submissions/" + id + "/status", null)
                .header("x-onekyc-token", token).header("x-partner-session-id", psid).header("x-sdk-session-id", "sdk"));
    }

    HttpResponse<String> upload(String url) throws IOException, InterruptedException {
        HttpRequest put = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "image/jpeg")
                .timeout(Duration.ofSeconds(5))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(IMAGE)).build();
        return http.send(put, HttpResponse.BodyHandlers.ofString());
    }

    static String documentUrl(Resp presign) {
        return presign.data().get("documents").get("KTP_FRONT").get("documentUrl").asText();
    }

    /** Polls the status API until COMPLETED or ERROR; returns the final status. */
    String awaitFinal(String token, String psid, String id) throws Exception {
        String[] last = new String[1];
        awaitTrue(Duration.ofSeconds(5), () -> {
            Resp resp = status(token, psid, id);
            last[0] = resp.status() == 200 ? resp.data().get("status").asText() : null;
            return "COMPLETED".equals(last[0]) || "ERROR".equals(last[0]);
        });
        return last[0];
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
        return new Resp(resp.statusCode(), JSON.readTree(resp.body()),
                resp.headers().firstValue("Retry-After").orElse(null));
    }

    @FunctionalInterface
    interface Check {
        boolean ok() throws Exception;
    }

    /** Polls every 50 ms until the check passes or the deadline expires. */
    static void awaitTrue(Duration timeout, Check check) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!check.ok()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + timeout);
            }
            Thread.sleep(50);
        }
    }
}

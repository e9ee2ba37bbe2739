package id.ktpbridge.collect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import id.ktpbridge.testkit.BridgeApp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The callback allowlist behind a proxy ({@code ktp.callback.trust-forwarded-for}): the address
 * the proxy appended decides, not an entry the caller wrote itself.
 */
class ForwardedCallerTest {

    @TempDir
    Path dataDir;

    @Test
    void theLastEntryIsTheCaller() {
        assertEquals("192.0.2.7", CallbackReceiver.nearestForwarded("10.1.1.1, 192.0.2.7"));
        assertEquals("10.1.1.1", CallbackReceiver.nearestForwarded("10.1.1.1"));
        assertEquals("192.0.2.7", CallbackReceiver.nearestForwarded(List.of("10.1.1.1", "198.51.100.1, 192.0.2.7")));
        assertNull(CallbackReceiver.nearestForwarded(" "));
        assertNull(CallbackReceiver.nearestForwarded(null));
    }

    @Test
    void aForgedFirstEntryDoesNotPassTheAllowlist() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.callback.auth-mode", "none",
                "ktp.callback.trust-forwarded-for", "true", "ktp.callback.allowed-cidrs", "10.0.0.0/8"))) {
            String body = "{\"submissionId\":\"3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44\",\"status\":\"COMPLETED\"}";
            assertEquals(200, post(app, "10.1.1.1", body), "the proxy saw an allowed caller");
            assertEquals(403, post(app, "10.1.1.1, 192.0.2.7", body), "the caller wrote 10.1.1.1 itself");
        }
    }

    @Test
    void queryParametersCannotStandInForHeaders() throws Exception {
        // the HTTP server hands query parameters over as message headers: they must not pass for a
        // proxy's X-Forwarded-For or for credentials
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.callback.auth-mode", "none",
                "ktp.callback.trust-forwarded-for", "true", "ktp.callback.allowed-cidrs", "10.0.0.0/8"))) {
            String body = "{\"submissionId\":\"3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44\",\"status\":\"COMPLETED\"}";
            assertEquals(403, post(app, "?X-Forwarded-For=10.1.1.1", "192.0.2.7", body));
            assertEquals(403, post(app, "?X-Forwarded-For=10.1.1.1", null, body));
            assertEquals(403, post(app, "?x-forwarded-for=10.1.1.1", "10.1.1.1", body), "its header is not read either");
            assertEquals(403, post(app, "?a=1;X-Forwarded-For=10.1.1.1", "192.0.2.7", body), "after a ';'");
            assertEquals(403, post(app, "?=X-Forwarded-For=10.1.1.1", "192.0.2.7", body), "after a leading '='");
            assertEquals(200, post(app, "?partner=acme", "10.1.1.1", body), "an unrelated parameter");
        }
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.callback.auth-mode", "bearer",
                "ktp.callback.auth-token", "callback-token-1"))) {
            String body = "{\"submissionId\":\"3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44\",\"status\":\"COMPLETED\"}";
            assertEquals(401, post(app, "?Authorization=Bearer%20callback-token-1", null, body));
            assertEquals(401, post(app, "?a=1;Authorization=Bearer%20callback-token-1", null, body));
        }
    }

    @Test
    void formFieldsCannotStandInForHeaders() throws Exception {
        // the HTTP server hands a form body's fields over as message headers, after the real ones
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.callback.auth-mode", "none",
                "ktp.callback.trust-forwarded-for", "true", "ktp.callback.allowed-cidrs", "10.0.0.0/8"))) {
            assertEquals(403, postForm(app, "192.0.2.7", null, "X-Forwarded-For=10.1.1.1"));
            assertEquals(403, postForm(app, null, null, "X-Forwarded-For=10.1.1.1"));
            assertEquals(403, postForm(app, null, null, "x-forwarded-for=10.1.1.1&status=COMPLETED"));
            assertEquals(415, postForm(app, "10.1.1.1", null, "status=COMPLETED"), "the real header is read");
        }
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.callback.auth-mode", "bearer",
                "ktp.callback.auth-token", "callback-token-1"))) {
            assertEquals(401, postForm(app, null, null, "Authorization=Bearer+callback-token-1"));
            assertEquals(401, postForm(app, null, "Bearer wrong", "Authorization=Bearer+callback-token-1"));
            assertEquals(415, postForm(app, null, "Bearer callback-token-1", "status=COMPLETED"),
                    "the real header is read");
        }
    }

    private static int postForm(BridgeApp app, String forwardedFor, String authorization, String form)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(app.callbackUrl()))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form));
        if (forwardedFor != null) {
            request.header("X-Forwarded-For", forwardedFor);
        }
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void aCallbackUrlRegisteredWithAQueryStringIsTaken() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.callback.auth-mode", "bearer",
                "ktp.callback.auth-token", "callback-token-1"))) {
            String body = "{\"submissionId\":\"3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44\",\"status\":\"COMPLETED\"}";
            HttpRequest request = HttpRequest.newBuilder(URI.create(app.callbackUrl() + "?source=onekyc&env"))
                    .header("Content-Type", "application/json").header("Authorization", "Bearer callback-token-1")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build();
            assertEquals(200, HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.discarding())
                    .statusCode());
        }
    }

    @Test
    void queryParameterNamesAreDecoded() {
        assertEquals(java.util.Set.of("X-Forwarded-For", "a b", "flag"),
                CallbackReceiver.queryParameterNames("X%2DForwarded-For=1&a+b=2&flag"));
        // as the HTTP server reads them: ';' separates too, and '=a=1' is a parameter 'a'
        assertEquals(java.util.Set.of("a", "Authorization", "X-Forwarded-For"),
                CallbackReceiver.queryParameterNames("a=1;Authorization=x&=X-Forwarded-For=10.1.1.1"));
        assertThrows(IllegalArgumentException.class, () -> CallbackReceiver.queryParameterNames("%zz=1"));
    }

    private static int post(BridgeApp app, String forwardedFor, String body) throws Exception {
        return post(app, "", forwardedFor, body);
    }

    private static int post(BridgeApp app, String query, String forwardedFor, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(app.callbackUrl() + query))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (forwardedFor != null) {
            request.header("X-Forwarded-For", forwardedFor);
        }
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}

package id.ktpbridge.submit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.sandbox.SandboxSettings;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 4xx without OneKYC's envelope (a gateway's or proxy's own page, say while a route is missing
 * during a rollout) says nothing about the request: on presign it leaves the input in its source
 * for another try, and after a confirm attempt that got no answer it does not undo that confirm,
 * which may have been applied. OneKYC's own 404 there still means the confirm was not applied.
 */
class BareRefusalTest {

    /** What the gateway does with one call. */
    private enum Act { FORWARD, FORWARD_THEN_BAD_GATEWAY, BARE_NOT_FOUND, ENVELOPED_NOT_FOUND }

    @TempDir
    Path dataDir;

    private GtfSandbox sandbox;
    private Gateway gateway;

    @BeforeEach
    void start() throws IOException {
        SandboxSettings settings = new SandboxSettings();
        settings.setCallbackEnabled(false);
        settings.setProcessingDelayMillis(300);
        sandbox = new GtfSandbox(settings).start();
        gateway = new Gateway(sandbox.baseUrl());
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
        p.put("ktp.callback.auth-token", "bare-refusal");
        p.put("gtf.retry.max-attempts", "2");
        p.put("gtf.circuit-breaker.failure-threshold", "1000");
        return p;
    }

    @Test
    void aBareNotFoundAfterAConfirmWithoutAnAnswerIsTakenAsConfirmed() throws Exception {
        // the first confirm reaches OneKYC and is applied, but the gateway answers 502 with its own
        // page; the retry meets the gateway's 404 page
        gateway.script("PUT", Act.FORWARD_THEN_BAD_GATEWAY, Act.BARE_NOT_FOUND);
        try (BridgeApp app = BridgeApp.start(dataDir, props())) {
            Results.drop(app.inbox(), "u3401.png", SampleImages.card("u3401.png", "png"));
            JsonNode result = awaitResult(app);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals(1, gateway.bareNotFound.get());
            List<String> ids = sandbox.submissionIds();
            assertEquals(1, ids.size(), "not presigned again");
            assertEquals(1, sandbox.confirmCount(ids.get(0)));
        }
    }

    @Test
    void oneKycsOwnNotFoundAfterAConfirmWithoutAnAnswerStillFailsTheInput() throws Exception {
        gateway.script("PUT", Act.FORWARD_THEN_BAD_GATEWAY, Act.ENVELOPED_NOT_FOUND);
        try (BridgeApp app = BridgeApp.start(dataDir, props())) {
            Results.drop(app.inbox(), "u3402.png", SampleImages.card("u3402.png", "png"));
            JsonNode result = awaitResult(app);
            assertEquals("FAILED", result.path("status").asText(), result.toString());
            assertEquals("GTF_CONFIRM_FAILED", result.path("reasonCode").asText());
        }
    }

    @Test
    void aBareNotFoundOnPresignLeavesTheInputInItsSourceForAnotherTry() throws Exception {
        gateway.script("GET /coe/v1/submissions/urls", Act.BARE_NOT_FOUND);
        try (BridgeApp app = BridgeApp.start(dataDir, props())) {
            Results.drop(app.inbox(), "u3403.png", SampleImages.card("u3403.png", "png"));
            JsonNode result = awaitResult(app);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals(1, gateway.bareNotFound.get());
            assertEquals(1, sandbox.submissionIds().size());
        }
    }

    private static JsonNode awaitResult(BridgeApp app) {
        await().atMost(Duration.ofSeconds(40)).until(() -> Results.count(app.results()) == 1);
        return Results.read(app.results()).get(0);
    }

    /**
     * Forwards the bundle's OneKYC API calls to the sandbox, except the ones its script says to
     * answer itself. Script keys: a method ("PUT": confirm), or a method and path.
     */
    private static final class Gateway implements AutoCloseable {

        private static final Set<String> NOT_COPIED = Set.of("host", "connection", "content-length", "expect",
                "upgrade", "transfer-encoding");

        private final String upstream;
        private final HttpServer server;
        private final java.util.concurrent.ExecutorService handlers =
                java.util.concurrent.Executors.newCachedThreadPool();
        private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        private final Map<String, Deque<Act>> scripts = new HashMap<>();
        final AtomicInteger bareNotFound = new AtomicInteger();

        Gateway(String upstream) throws IOException {
            this.upstream = upstream.endsWith("/") ? upstream.substring(0, upstream.length() - 1) : upstream;
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/", this::handle);
            server.setExecutor(handlers);
            server.start();
        }

        String baseUrl() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        synchronized void script(String key, Act... acts) {
            scripts.computeIfAbsent(key, k -> new ArrayDeque<>()).addAll(List.of(acts));
        }

        private synchronized Act next(String method, String path) {
            for (String key : new String[] {method + " " + path, method}) {
                Deque<Act> acts = scripts.get(key);
                if (acts != null && !acts.isEmpty()) {
                    return acts.poll();
                }
            }
            return Act.FORWARD;
        }

        private void handle(HttpExchange ex) throws IOException {
            try (ex) {
                byte[] body = ex.getRequestBody().readAllBytes();
                Act act = next(ex.getRequestMethod(), ex.getRequestURI().getPath());
                if (act == Act.BARE_NOT_FOUND) {
                    bareNotFound.incrementAndGet();
                    page(ex, 404, "<html><body><h1>404 Not Found</h1>nginx</body></html>");
                    return;
                }
                if (act == Act.ENVELOPED_NOT_FOUND) {
                    String envelope = "{\"success\":false,\"data\":null,\"errors\":[{\"code\":\"404\","
                            + "\"cause\":\"SUBMISSION_DOES_NOT_EXIST\"}]}";
                    answer(ex, 404, "application/json", envelope.getBytes(StandardCharsets.UTF_8));
                    return;
                }
                HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(upstream + ex.getRequestURI()))
                        .timeout(Duration.ofSeconds(20))
                        .method(ex.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofByteArray(body));
                ex.getRequestHeaders().forEach((name, values) -> {
                    if (!NOT_COPIED.contains(name.toLowerCase(java.util.Locale.ROOT))) {
                        values.forEach(v -> b.header(name, v));
                    }
                });
                HttpResponse<byte[]> response;
                try {
                    response = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException(e);
                }
                if (act == Act.FORWARD_THEN_BAD_GATEWAY) {
                    page(ex, 502, "<html><body><h1>502 Bad Gateway</h1>nginx</body></html>");
                    return;
                }
                answer(ex, response.statusCode(),
                        response.headers().firstValue("Content-Type").orElse("application/json"), response.body());
            }
        }

        private static void page(HttpExchange ex, int status, String html) throws IOException {
            answer(ex, status, "text/html", html.getBytes(StandardCharsets.UTF_8));
        }

        private static void answer(HttpExchange ex, int status, String contentType, byte[] body) throws IOException {
            ex.getResponseHeaders().set("Content-Type", contentType);
            ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            if (body.length > 0) {
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
            }
        }

        @Override
        public void close() {
            server.stop(0);
            handlers.shutdownNow();
        }
    }
}

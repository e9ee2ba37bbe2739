package id.ktpbridge;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.sandbox.SandboxSettings;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.testkit.ApiCalls;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code POST /coe/submissions-callback} on the running application. */
class CallbackTest {

    private static final String TOKEN = "test-callback-token";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dataDir;

    private BridgeApp app;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() {
        app = BridgeApp.start(dataDir, Map.of("ktp.poll.enabled", "false", "ktp.callback.auth-token", TOKEN,
                "gtf.sandbox.callback.duplicates", "3"));
    }

    @AfterEach
    void stop() {
        app.close();
    }

    @Test
    void duplicateCallbacksGiveOneResult() throws Exception {
        Results.drop(app.inbox(), "u2001.png", SampleImages.card("u2001", "png"));
        Results.drop(app.inbox(), "u2002.jpg", SampleImages.card("u2002", "jpg"));
        await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);
        // the sandbox sends every callback three times; wait until all arrived, then replay one more
        await().atMost(Duration.ofSeconds(10)).until(() -> app.sandbox().callbacksDelivered() == 6);
        JsonNode first = Results.read(app.results()).get(0);
        HttpResponse<String> replay = post("Bearer " + TOKEN, JSON.createObjectNode()
                .put("submissionId", first.path("submissionId").asText()).put("status", "COMPLETED")
                .put("result", "VALID").putNull("reasonCode").toString());
        assertEquals(200, replay.statusCode());
        await().during(Duration.ofMillis(800)).atMost(Duration.ofMillis(10_800))
                .until(() -> Results.count(app.results()) == 2);
        assertEquals(2, app.sandbox().submissionCount());
        assertEquals(first.toString(), Results.read(app.results()).get(0).toString(), "result unchanged");
        // a duplicate collected again would give the same document under the same name: the details
        // calls count the collections
        for (String submissionId : app.sandbox().submissionIds()) {
            assertEquals(1, ApiCalls.detailsAnswered(app.sandbox().requestLog(), submissionId),
                    "collections of " + submissionId);
        }
    }

    @Test
    void withPollingOffACallbackWhoseDetailsWereNotReadyIsCollectedLater() throws Exception {
        app.close();
        app = BridgeApp.start(dataDir, Map.of("ktp.poll.enabled", "false", "ktp.callback.auth-token", TOKEN,
                "gtf.retry.max-attempts", "1", "ktp.poll.initial-backoff", "500ms"));
        app.sandbox().settings().setFailureStatuses(List.of(503));
        app.sandbox().settings().setFailureRate("details", 1.0);
        Results.drop(app.inbox(), "u2005.png", SampleImages.card("u2005", "png"));
        // the callback came and was answered, but its details were not available
        await().atMost(Duration.ofSeconds(30)).until(() -> app.sandbox().injectedFailures("details") >= 1);
        app.sandbox().settings().setFailureRate("details", 0.0);

        await().atMost(Duration.ofSeconds(15)).until(() -> Results.count(app.results()) == 1);
        JsonNode result = Results.read(app.results()).get(0);
        assertEquals("COMPLETED", result.path("status").asText(), result.toString());
        assertEquals("callback", result.path("receivedVia").asText());
        assertEquals(1, app.sandbox().callbacksDelivered(), "one callback: the retry came from the tick");
        assertTrue(app.sandbox().requestLog().stream().noneMatch(c -> c.endpoint().equals("status")),
                "no status asked with polling off");
    }

    @Test
    void withPollingOffASubmissionWhoseCallbackNeverCameGetsOneLastLookAtItsDeadline() throws Exception {
        app.close();
        app = BridgeApp.start(dataDir, Map.of("ktp.poll.enabled", "false", "ktp.callback.auth-token", TOKEN,
                "gtf.sandbox.callback.enabled", "false", "ktp.poll.deadline", "4s",
                // a poller would ask from 0.2 s after the confirm, every 0.2 s and more
                "ktp.poll.first-delay", "200ms", "ktp.poll.initial-backoff", "200ms"));
        Results.drop(app.inbox(), "u2006.png", SampleImages.card("u2006", "png"));

        // before, it stayed CONFIRMED for ever: nothing looked at it again
        await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
        JsonNode result = Results.read(app.results()).get(0);
        assertEquals("COMPLETED", result.path("status").asText(), result.toString());
        assertEquals("poll", result.path("receivedVia").asText());
        LedgerRecord row = app.ledger().findById(result.path("ledgerId").asText()).orElseThrow();
        assertTrue(row.deliveredAt() >= row.deadlineAt(), "looked at before its deadline");
        assertEquals(0, app.sandbox().callbacksDelivered());
        assertEquals(1, app.sandbox().requestLog().stream().filter(c -> c.endpoint().equals("status")).count(),
                "one status call, at the deadline");
    }

    @Test
    void withPollingOffACallbackTheQueueHadNoRoomForIsStillCollected() throws Exception {
        app.close();
        try (LogCapture log = new LogCapture()) {
            app = BridgeApp.start(dataDir, Map.of("ktp.poll.enabled", "false", "ktp.callback.auth-token", TOKEN,
                    "ktp.callback.queue-size", "1"));
            // no worker takes from the queue: the first callback fills it, the second finds no room
            app.context().getRouteController().stopRoute("collect-callback");
            Results.drop(app.inbox(), "u2010.png", SampleImages.card("u2010", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> app.sandbox().callbacksDelivered() == 1);
            Results.drop(app.inbox(), "u2011.png", SampleImages.card("u2011", "png"));

            // both were noted before they were answered: the tick collects them with the queue still stuck
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);
            for (JsonNode result : Results.read(app.results())) {
                assertEquals("COMPLETED", result.path("status").asText(), result.toString());
                assertEquals("callback", result.path("receivedVia").asText());
            }
            assertTrue(log.text().contains("Callback queue full"), log.text());

            // the queued callback, taken at last, finds its submission done
            app.context().getRouteController().startRoute("collect-callback");
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
                    .until(() -> Results.count(app.results()) == 2);
        }
    }

    @Test
    void aCallbackPastTheQueueAndTheWaitingNotesIs503AndNoAnswerWaitsOnTheLedger() throws Exception {
        app.close();
        app = BridgeApp.start(dataDir, Map.of("ktp.callback.auth-token", TOKEN, "ktp.callback.queue-size", "1",
                "ktp.callback.note-queue-size", "1"));
        // no worker takes from the queue, and every update of the submissions table waits: a slow ledger
        app.context().getRouteController().stopRoute("collect-callback");
        HeldUpdates.hold(app);
        List<Integer> answers = new java.util.ArrayList<>();
        HttpResponse<String> refused;
        try {
            HttpClient timed = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            do {
                // an answer that waited on the held ledger would time out here
                refused = timed.send(HttpRequest.newBuilder(URI.create(app.callbackUrl()))
                        .timeout(Duration.ofSeconds(10))
                        .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(JSON.createObjectNode()
                                .put("submissionId", java.util.UUID.randomUUID().toString())
                                .put("status", "COMPLETED").put("result", "VALID").toString()))
                        .build(), HttpResponse.BodyHandlers.ofString());
                answers.add(refused.statusCode());
            } while (refused.statusCode() == 200 && answers.size() < 20);
        } finally {
            HeldUpdates.release();
        }
        // one in the queue, two notes held by the ledger, one waiting for a note thread; the fifth is refused
        assertEquals(List.of(200, 200, 200, 200, 503), answers);
        assertEquals("5", refused.headers().firstValue("Retry-After").orElse(null));
        assertEquals("TEMPORARILY_UNAVAILABLE", JSON.readTree(refused.body()).path("error").asText());
        // the held notes go through, and a callback sent again then finds room
        await().atMost(Duration.ofSeconds(30)).until(() -> post("Bearer " + TOKEN, JSON.createObjectNode()
                .put("submissionId", java.util.UUID.randomUUID().toString()).put("status", "COMPLETED")
                .toString()).statusCode() == 200);
    }

    /** Holds every update of the submissions table, statement by statement, until released (30 s at most). */
    public static final class HeldUpdates implements org.h2.api.Trigger {

        private static volatile java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(0);

        static void hold(BridgeApp app) throws java.sql.SQLException {
            held = new java.util.concurrent.CountDownLatch(1);
            try (java.sql.Connection c = app.bean("ktpDataSource", javax.sql.DataSource.class).getConnection();
                 java.sql.Statement s = c.createStatement()) {
                s.execute("CREATE TRIGGER held_updates BEFORE UPDATE ON ktp_submission FOR EACH STATEMENT CALL '"
                        + HeldUpdates.class.getName() + "'");
            }
        }

        static void release() {
            held.countDown();
        }

        @Override
        public void fire(java.sql.Connection conn, Object[] oldRow, Object[] newRow) throws java.sql.SQLException {
            try {
                held.await(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void withPollingOffACallbackStillQueuedAtAStopIsCollectedAfterTheRestart() throws Exception {
        app.close();
        SandboxSettings settings = new SandboxSettings();
        settings.setCallbackEnabled(false);
        GtfSandbox sandbox = new GtfSandbox(settings).start();
        try {
            Map<String, String> props = Map.of("ktp.poll.enabled", "false", "ktp.callback.auth-token", TOKEN,
                    "gtf.sandbox.enabled", "false", "gtf.token-url", sandbox.baseUrl(), "gtf.api-url", sandbox.baseUrl());
            app = BridgeApp.start(dataDir, props);
            // no worker takes from the queue: the callback is answered and waits there when the bundle stops
            app.context().getRouteController().stopRoute("collect-callback");
            Results.drop(app.inbox(), "u2012.png", SampleImages.card("u2012", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> app.ledger().createdSince(0).stream()
                    .anyMatch(r -> r.state() == SubmissionState.CONFIRMED));
            String submissionId = app.ledger().createdSince(0).get(0).submissionId();
            HttpResponse<String> callback = post("Bearer " + TOKEN, JSON.createObjectNode()
                    .put("submissionId", submissionId).put("status", "COMPLETED").put("result", "VALID")
                    .putNull("reasonCode").toString());
            assertEquals(200, callback.statusCode());
            app.close();

            app = BridgeApp.start(dataDir, props);
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals("callback", result.path("receivedVia").asText());
        } finally {
            sandbox.stop();
        }
    }

    @Test
    void aStatusWordInAnotherCaseStillEndsTheSubmission() throws Exception {
        app.close();
        SandboxSettings settings = new SandboxSettings();
        settings.setCallbackEnabled(false);
        settings.setProcessingDelayMillis(300);
        GtfSandbox sandbox = new GtfSandbox(settings).start();
        try {
            app = BridgeApp.start(dataDir, Map.of("ktp.poll.enabled", "false", "ktp.callback.auth-token", TOKEN,
                    "gtf.sandbox.enabled", "false", "gtf.token-url", sandbox.baseUrl(), "gtf.api-url", sandbox.baseUrl()));
            Results.drop(app.inbox(), "u2013.png", SampleImages.card("u2013", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> app.ledger().createdSince(0).stream()
                    .anyMatch(r -> r.state() == SubmissionState.CONFIRMED));
            String submissionId = app.ledger().createdSince(0).get(0).submissionId();
            await().atMost(Duration.ofSeconds(10)).until(() -> "COMPLETED".equals(sandbox.submissionStatus(submissionId)));
            HttpResponse<String> callback = post("Bearer " + TOKEN, JSON.createObjectNode()
                    .put("submissionId", submissionId).put("status", " completed").put("result", "VALID")
                    .putNull("reasonCode").toString());
            assertEquals(200, callback.statusCode(), callback.body());
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals("callback", result.path("receivedVia").asText());
        } finally {
            sandbox.stop();
        }
    }

    @Test
    void wrongOrMissingAuthorizationIs401AndWritesNothing() throws Exception {
        String body = "{\"submissionId\":\"3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44\",\"status\":\"COMPLETED\"}";
        try (LogCapture log = new LogCapture()) {
            for (String auth : new String[] {null, "Bearer wrong-0d1f7c", TOKEN, "Basic " + TOKEN}) {
                HttpResponse<String> r = post(auth, body);
                assertEquals(401, r.statusCode(), "auth " + auth);
                assertEquals("UNAUTHORIZED", JSON.readTree(r.body()).path("error").asText());
                assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
            }
            // after a credential rotated at OneKYC and not here every callback is refused: the log says
            // so, once a minute at most, without what was presented or expected
            assertEquals(1, log.count("Callback refused with 401"), log.text());
            assertTrue(log.text().contains("ktp.callback.auth-mode bearer"), log.text());
            assertNoCallbackContentIn(log.text(), TOKEN, "wrong-0d1f7c", "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44");
        }
        assertNothingWritten();
    }

    /** None of what a callback presented, nor the expected credential, is in the log. */
    private static void assertNoCallbackContentIn(String log, String... values) {
        for (String value : values) {
            assertTrue(!log.contains(value), "'" + value + "' logged: " + log);
        }
    }

    @Test
    void malformedBodiesAre400WithAClearMessage() throws Exception {
        String[] bodies = {
            "", "not json", "[1,2]", "{\"status\":\"COMPLETED\"}",
            "{\"submissionId\":\"../../etc/passwd\",\"status\":\"COMPLETED\"}",
            "{\"submissionId\":\"abc\",\"status\":42}",
            "{\"submissionId\":\"abc\",\"status\":\"COMPLETED\",\"result\":42}",
            "{\"submissionId\":\"abc\",\"status\":\"COMPLETED\"}garbage",
            "{\"submissionId\":\"abc\",\"status\":\"COMPLETED\"}{\"submissionId\":\"def\",\"status\":\"ERROR\"}"
        };
        try (LogCapture log = new LogCapture()) {
            for (String body : bodies) {
                HttpResponse<String> r = post("Bearer " + TOKEN, body);
                assertEquals(400, r.statusCode(), body);
                JsonNode error = JSON.readTree(r.body());
                assertEquals("MALFORMED_CALLBACK", error.path("error").asText(), body);
                assertTrue(error.path("message").asText().length() > 10, body);
            }
            assertEquals(1, log.count("Callback refused with 400: "), log.text());
            assertNoCallbackContentIn(log.text(), TOKEN, "not json", "etc/passwd", "garbage", "\"def\"");
        }
        assertNothingWritten();
    }

    @Test
    void wrongContentTypeIs415AndOversizedBodyIsRefused() throws Exception {
        try (LogCapture log = new LogCapture()) {
            for (int i = 0; i < 2; i++) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(app.callbackUrl()))
                        .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "text/x-ktp-probe")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"submissionId\":\"a\",\"status\":\"ERROR\"}"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(415, r.statusCode());
                assertEquals("UNSUPPORTED_MEDIA_TYPE", JSON.readTree(r.body()).path("error").asText());
                String huge = "{\"submissionId\":\"a\",\"status\":\"ERROR\",\"pad\":\"" + "x".repeat(200_000) + "\"}";
                HttpResponse<String> big = post("Bearer " + TOKEN, huge);
                assertEquals(413, big.statusCode());
            }
            assertEquals(1, log.count("Callback refused with 415"), log.text());
            // refused by the HTTP server's body limit, before the route
            assertEquals(1, log.count("Callback refused with 413"), log.text());
            assertNoCallbackContentIn(log.text(), TOKEN, "text/x-ktp-probe", "xxxxxxxx");
        }
        assertNothingWritten();

        // a server limit set above the callback's: the route refuses, and says so too
        app.close();
        app = BridgeApp.start(dataDir, Map.of("ktp.poll.enabled", "false", "ktp.callback.auth-token", TOKEN,
                "camel.server.max-body-size", "1048576"));
        try (LogCapture log = new LogCapture()) {
            String huge = "{\"submissionId\":\"a\",\"status\":\"ERROR\",\"pad\":\"" + "x".repeat(200_000) + "\"}";
            assertEquals(413, post("Bearer " + TOKEN, huge).statusCode());
            assertEquals(413, post("Bearer " + TOKEN, huge).statusCode());
            assertEquals(1, log.count("Callback refused with 413: its body is larger than ktp.callback.max-body-size"
                    + " (65536 bytes)"), log.text());
            assertNoCallbackContentIn(log.text(), TOKEN, "xxxxxxxx");
        }
        assertNothingWritten();
    }

    @Test
    void aCallbackWithoutContentTypeIsReadAsJson() throws Exception {
        Results.drop(app.inbox(), "u2003.png", SampleImages.card("u2003", "png"));
        await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
        String submissionId = Results.read(app.results()).get(0).path("submissionId").asText();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(app.callbackUrl()))
                .header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString("{\"submissionId\":\"" + submissionId
                        + "\",\"status\":\"COMPLETED\",\"result\":\"VALID\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        HttpResponse<String> notJson = http.send(HttpRequest.newBuilder(URI.create(app.callbackUrl()))
                .header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString("submissionId=" + submissionId)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(400, notJson.statusCode());
        assertEquals(1, Results.count(app.results()));
    }

    @Test
    void aBodyWithAByteOrderMarkOrInTheCharsetItsContentTypeNamesIsRead() throws Exception {
        String json = "{\"submissionId\":\"00000000-0000-0000-0000-000000000000\",\"status\":\"ERROR\"}";
        byte[] utf8 = json.getBytes(UTF_8);
        byte[] marked = new byte[utf8.length + 3];
        marked[0] = (byte) 0xEF;
        marked[1] = (byte) 0xBB;
        marked[2] = (byte) 0xBF;
        System.arraycopy(utf8, 0, marked, 3, utf8.length);
        assertEquals(200, postBytes("application/json", marked).statusCode(), "a UTF-8 byte order mark");
        assertEquals(200, postBytes("application/json", json.getBytes(java.nio.charset.StandardCharsets.UTF_16))
                .statusCode(), "UTF-16, which its byte order mark says");
        assertEquals(200, postBytes("application/json;charset=utf-16le",
                json.getBytes(java.nio.charset.StandardCharsets.UTF_16LE)).statusCode(), "UTF-16LE, no mark");
        assertEquals(200, postBytes("application/json; charset=x-no-such-charset", utf8).statusCode(),
                "a charset this JVM does not know: UTF-8");
        assertEquals(400, postBytes("application/json; charset=utf-16le", utf8).statusCode(), "the charset named");
    }

    @Test
    void aCompressedBodyIsReadAndAnUnknownCodingIs415() throws Exception {
        // an unknown submission: acknowledged once read, so a 200 says the body was understood
        byte[] json = "{\"submissionId\":\"00000000-0000-0000-0000-000000000001\",\"status\":\"ERROR\"}"
                .getBytes(UTF_8);
        java.io.ByteArrayOutputStream gzipped = new java.io.ByteArrayOutputStream();
        try (var out = new java.util.zip.GZIPOutputStream(gzipped)) {
            out.write(json);
        }
        java.io.ByteArrayOutputStream deflated = new java.io.ByteArrayOutputStream();
        try (var out = new java.util.zip.DeflaterOutputStream(deflated)) {
            out.write(json);
        }
        assertEquals(200, postCoded("gzip", gzipped.toByteArray()).statusCode(), "gzip");
        assertEquals(200, postCoded("deflate", deflated.toByteArray()).statusCode(), "deflate");
        java.io.ByteArrayOutputStream bare = new java.io.ByteArrayOutputStream();
        try (var out = new java.util.zip.DeflaterOutputStream(bare, new java.util.zip.Deflater(
                java.util.zip.Deflater.DEFAULT_COMPRESSION, true))) {
            out.write(json);
        }
        assertEquals(200, postCoded("deflate", bare.toByteArray()).statusCode(), "deflate without its zlib wrapping");
        HttpResponse<String> br = postCoded("br", json);
        assertEquals(415, br.statusCode(), br.body());
        assertTrue(br.body().contains("Content-Encoding must be identity, gzip or deflate"), br.body());
        assertEquals(400, postCoded("gzip", json).statusCode(), "not gzip at all");
        // small on the wire, past ktp.callback.max-body-size (64 KB) once inflated
        java.io.ByteArrayOutputStream bomb = new java.io.ByteArrayOutputStream();
        try (var out = new java.util.zip.GZIPOutputStream(bomb)) {
            out.write(new byte[4 << 20]);
        }
        assertTrue(bomb.size() < 64 << 10, "compressed: " + bomb.size());
        assertEquals(413, postCoded("gzip", bomb.toByteArray()).statusCode());
    }

    private HttpResponse<String> postCoded(String coding, byte[] body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(app.callbackUrl()))
                .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/json")
                .header("Content-Encoding", coding)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> postBytes(String contentType, byte[] body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(app.callbackUrl()))
                .header("Authorization", "Bearer " + TOKEN).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void putIsRefusedUnlessConfiguredThenAccepted() throws Exception {
        String body = "{\"submissionId\":\"00000000-0000-0000-0000-000000000000\",\"status\":\"ERROR\"}";
        try (LogCapture log = new LogCapture()) {
            HttpResponse<String> put = send("PUT", body);
            assertEquals(405, put.statusCode());
            assertEquals("POST", put.headers().firstValue("Allow").orElse(null));
            assertEquals(405, send("PUT", body).statusCode());
            assertTrue(log.text().contains("A callback came with method PUT, which ktp.callback.methods (POST)"
                    + " does not name"), log.text());
            assertEquals(1, log.text().split("A callback came with method", -1).length - 1, "once a minute at most");
        }
        app.close();
        app = BridgeApp.start(dataDir, Map.of("ktp.poll.enabled", "false", "ktp.callback.auth-token", TOKEN,
                "ktp.callback.methods", "POST,PUT"));
        assertEquals(200, send("PUT", body).statusCode());
        assertEquals(405, send("PATCH", body).statusCode());
        assertEquals(200, send("POST", body).statusCode());
    }

    private HttpResponse<String> send(String method, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(app.callbackUrl()))
                .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void callersOutsideTheAllowlistAre403() throws Exception {
        app.close();
        app = BridgeApp.start(dataDir, Map.of("ktp.poll.enabled", "false", "ktp.callback.auth-token", TOKEN,
                "ktp.callback.allowed-cidrs", "10.99.0.0/16"));
        HttpResponse<String> r = post("Bearer " + TOKEN, "{\"submissionId\":\"a\",\"status\":\"ERROR\"}");
        assertEquals(403, r.statusCode());
        assertEquals("FORBIDDEN", JSON.readTree(r.body()).path("error").asText());
        assertNothingWritten();
    }

    @Test
    void aCallbackThatDoesNotEndTheSubmissionIsAcknowledgedAndLeftAlone() throws Exception {
        app.sandbox().settings().setProcessingDelayMillis(60_000);
        Results.drop(app.inbox(), "u2101.png", SampleImages.card("u2101", "png"));
        LedgerRecord confirmed = await().atMost(Duration.ofSeconds(20)).until(() -> app.ledger().createdSince(0)
                .stream().filter(r -> r.state() == SubmissionState.CONFIRMED).findFirst().orElse(null), r -> r != null);
        // a word the reference does not name for a callback too: refused, it would be sent again and again
        for (String status : new String[] {"IN_PROGRESS", "PARTIALLY_COMPLETED", "in_progress", "INITIATED",
                "REJECTED"}) {
            HttpResponse<String> r = post("Bearer " + TOKEN, JSON.createObjectNode()
                    .put("submissionId", confirmed.submissionId()).put("status", status).putNull("result").toString());
            assertEquals(200, r.statusCode(), status);
        }
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(11)).until(() -> {
            LedgerRecord now = app.ledger().findById(confirmed.id()).orElseThrow();
            return now.state() == SubmissionState.CONFIRMED && now.callbackAt() == null;
        });
        assertTrue(app.sandbox().requestLog().stream().noneMatch(c -> "details".equals(c.endpoint())),
                "no details asked for a submission still in progress");
    }

    @Test
    void aRefusedCallbackForARealSubmissionTouchesNothing() throws Exception {
        app.sandbox().settings().setProcessingDelayMillis(60_000);
        Results.drop(app.inbox(), "u2102.png", SampleImages.card("u2102", "png"));
        LedgerRecord confirmed = await().atMost(Duration.ofSeconds(20)).until(() -> app.ledger().createdSince(0)
                .stream().filter(r -> r.state() == SubmissionState.CONFIRMED).findFirst().orElse(null), r -> r != null);
        String body = JSON.createObjectNode().put("submissionId", confirmed.submissionId()).put("status", "COMPLETED")
                .put("result", "VALID").putNull("reasonCode").toString();
        for (String auth : new String[] {null, "Bearer wrong-0d1f7c", "Basic " + TOKEN}) {
            assertEquals(401, post(auth, body).statusCode(), "auth " + auth);
        }
        assertEquals(400, post("Bearer " + TOKEN, body.replace("\"COMPLETED\"", "42")).statusCode());
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(11)).until(() -> {
            LedgerRecord now = app.ledger().findById(confirmed.id()).orElseThrow();
            return now.state() == SubmissionState.CONFIRMED && now.callbackAt() == null;
        });
        assertTrue(app.sandbox().requestLog().stream().noneMatch(c -> "details".equals(c.endpoint())),
                "no details asked for a refused callback");

        // the same callback from outside the allowlist (a new start on the same ledger)
        app.close();
        app = BridgeApp.start(dataDir, Map.of("ktp.poll.enabled", "false", "ktp.callback.auth-token", TOKEN,
                "ktp.callback.allowed-cidrs", "10.99.0.0/16"));
        assertEquals(403, post("Bearer " + TOKEN, body).statusCode());
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(11)).until(() ->
                app.ledger().findById(confirmed.id()).orElseThrow().callbackAt() == null);

        // the control: the same callback, let in, is noted at once
        app.close();
        app = BridgeApp.start(dataDir, Map.of("ktp.poll.enabled", "false", "ktp.callback.auth-token", TOKEN));
        assertEquals(200, post("Bearer " + TOKEN, body).statusCode());
        await().atMost(Duration.ofSeconds(10)).until(() ->
                app.ledger().findById(confirmed.id()).orElseThrow().callbackAt() != null);
    }

    @Test
    void eachAuthModeTakesItsOwnSettingsThroughTheRunningApp() throws Exception {
        String body = "{\"submissionId\":\"00000000-0000-0000-0000-000000000000\",\"status\":\"ERROR\",\"result\":null}";
        app.close();
        app = BridgeApp.start(dataDir, Map.of("ktp.poll.enabled", "false", "ktp.callback.auth-mode", "basic",
                "ktp.callback.username", "gtf-sender", "ktp.callback.password", "s3cret-pw"));
        String basic = java.util.Base64.getEncoder().encodeToString("gtf-sender:s3cret-pw".getBytes(UTF_8));
        String swapped = java.util.Base64.getEncoder().encodeToString("s3cret-pw:gtf-sender".getBytes(UTF_8));
        assertEquals(200, post("Basic " + basic, body).statusCode());
        assertEquals(401, post("Basic " + swapped, body).statusCode());

        app.close();
        app = BridgeApp.start(dataDir, Map.of("ktp.poll.enabled", "false", "ktp.callback.auth-mode", "api-key",
                "ktp.callback.api-key-header", "X-Gtf-Key", "ktp.callback.api-key", "key-71c3"));
        assertEquals(200, postWith("X-Gtf-Key", "key-71c3", body).statusCode());
        assertEquals(401, postWith("X-API-Key", "key-71c3", body).statusCode(), "the default header name");
        assertEquals(401, postWith("X-Gtf-Key", "key-71c4", body).statusCode());

        app.close();
        app = BridgeApp.start(dataDir, Map.of("ktp.poll.enabled", "false", "ktp.callback.auth-mode", "hmac",
                "ktp.callback.hmac-header", "X-Gtf-Signature", "ktp.callback.hmac-secret", "hmac-secret-9f"));
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec("hmac-secret-9f".getBytes(UTF_8), "HmacSHA256"));
        String signature = "sha256=" + java.util.HexFormat.of().formatHex(mac.doFinal(body.getBytes(UTF_8)));
        assertEquals(200, postWith("X-Gtf-Signature", signature, body).statusCode());
        // the signature is over the bytes as sent: the same JSON spaced otherwise does not match
        assertEquals(401, postWith("X-Gtf-Signature", signature, body.replace(",", ", ")).statusCode());
        assertEquals(401, postWith("X-Signature", signature, body).statusCode(), "the default header name");
        assertNothingWritten();
    }

    private HttpResponse<String> postWith(String header, String value, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(app.callbackUrl())).header("Content-Type", "application/json")
                .header(header, value).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void unknownSubmissionIsAcknowledgedAndIgnored() throws Exception {
        try (LogCapture log = new LogCapture()) {
            HttpResponse<String> r = post("Bearer " + TOKEN,
                    "{\"submissionId\":\"00000000-0000-0000-0000-000000000000\",\"status\":\"ERROR\",\"result\":null}");
            assertEquals(200, r.statusCode());
            // collected asynchronously after the answer: wait until the collection has looked it up and let it go
            await().atMost(Duration.ofSeconds(20)).until(() -> log.text()
                    .contains("Callback for unknown submission 00000000-0000-0000-0000-000000000000 ignored"));
        }
        assertNothingWritten();
    }

    @Test
    void aCallbackWhileTheRouteTakesNoRequestsIs503WithRetryAfter() throws Exception {
        String body = "{\"submissionId\":\"3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44\",\"status\":\"COMPLETED\"}";
        // as while the bundle starts or stops: the server listens, the route does not take requests
        app.context().getRouteController().stopRoute("callback-http");
        HttpResponse<String> early = post("Bearer " + TOKEN, body);
        assertEquals(503, early.statusCode(), "not 404: a sender may give a callback up on that");
        assertEquals("5", early.headers().firstValue("Retry-After").orElse(null));
        assertEquals("NOT_READY", JSON.readTree(early.body()).path("error").asText());
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(app.callbackUrl()))
                .PUT(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, put.statusCode(), "a method the callback does not take keeps its answer");

        app.context().getRouteController().startRoute("callback-http");
        HttpResponse<String> later = post("Bearer wrong", body);
        assertEquals(401, later.statusCode(), "the route answers again");
        assertNothingWritten();
    }

    private void assertNothingWritten() {
        assertEquals(0, Results.count(app.results()));
        assertEquals(0, app.ledger().createdSince(0).size());
    }

    private HttpResponse<String> post(String authorization, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(app.callbackUrl()))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}

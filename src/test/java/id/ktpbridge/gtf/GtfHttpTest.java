package id.ktpbridge.gtf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How refusals are retried: a used-up submission quota with the back-off unless configured to
 * fail at once (and then only when the server says when), and a
 * Retry-After is honoured as written (seconds or an HTTP date), or not waited for in place when it
 * is longer than a worker may be held.
 */
class GtfHttpTest {

    /** One scripted answer: status, Retry-After (or null), error cause (or null for success), or a whole body. */
    private record Answer(int status, String retryAfter, String cause, String body) {
    }

    private final Deque<Answer> script = new ArrayDeque<>();
    private final AtomicInteger requests = new AtomicInteger();
    /** Holds the stalled answers until the test ends. */
    private final java.util.concurrent.CountDownLatch stalled = new java.util.concurrent.CountDownLatch(1);
    private HttpServer server;
    private java.util.concurrent.ExecutorService serverThreads;
    private GtfHttp http;
    private final java.util.concurrent.atomic.AtomicLong hugeBytesSent = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong endlessBytesSent = new java.util.concurrent.atomic.AtomicLong();
    /** Answers of /endless whose writing failed: the client went away before their end. */
    private final AtomicInteger endlessCutOff = new AtomicInteger();
    /** One permit for each answer of /endless over, written whole or cut off. */
    private final java.util.concurrent.Semaphore endlessOver = new java.util.concurrent.Semaphore(0);

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            requests.incrementAndGet();
            Answer a;
            synchronized (script) {
                a = script.isEmpty() ? new Answer(200, null, null, null) : script.poll();
            }
            String body = a.body() != null ? a.body()
                    : a.cause() == null ? "{\"success\":true,\"data\":{\"ok\":true},\"errors\":[]}"
                    : "{\"success\":false,\"data\":{},\"errors\":[{\"code\":\"" + a.status() + "\",\"cause\":\""
                    + a.cause() + "\"}]}";
            if (a.retryAfter() != null) {
                ex.getResponseHeaders().set("Retry-After", a.retryAfter());
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(a.status(), bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        });
        // an answer whose body stops half-way: headers promise 100 bytes, 10 come, then nothing
        server.createContext("/stalled", ex -> {
            requests.incrementAndGet();
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, 100);
            OutputStream out = ex.getResponseBody();
            out.write("{\"success\"".getBytes(StandardCharsets.UTF_8));
            out.flush();
            try {
                stalled.await(60, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.close();
        });
        // an answer declaring 64 MB, written as fast as the client takes it
        server.createContext("/huge", ex -> {
            requests.incrementAndGet();
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, 64L << 20);
            byte[] chunk = new byte[64 << 10];
            try (OutputStream out = ex.getResponseBody()) {
                for (int i = 0; i < 1024; i++) {
                    out.write(chunk);
                    hugeBytesSent.addAndGet(chunk.length);
                }
            } catch (IOException closedByTheClient) {
                // what the test expects
            }
        });
        // a chunked answer (no length: sendResponseHeaders with 0) of 3 MB in ISO-8859-1, in pieces
        server.createContext("/chunked", ex -> {
            requests.incrementAndGet();
            ex.getResponseHeaders().set("Content-Type", "application/json; charset=ISO-8859-1");
            ex.sendResponseHeaders(200, 0);
            byte[] chunk = new byte[64 << 10];
            java.util.Arrays.fill(chunk, (byte) 'a');
            try (OutputStream out = ex.getResponseBody()) {
                out.write("{\"success\":true,\"data\":{\"word\":\"caf\u00e9\",\"filler\":\""
                        .getBytes(StandardCharsets.ISO_8859_1));
                for (int i = 0; i < 48; i++) {
                    out.write(chunk);
                    out.flush();
                }
                out.write("\"},\"errors\":[]}".getBytes(StandardCharsets.ISO_8859_1));
            }
        });
        // a chunked answer that goes on as fast as the client takes it: 32 MB, a whole envelope in the end
        server.createContext("/endless", ex -> {
            requests.incrementAndGet();
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, 0);
            byte[] chunk = new byte[64 << 10];
            java.util.Arrays.fill(chunk, (byte) 'a');
            try (OutputStream out = ex.getResponseBody()) {
                out.write("{\"success\":true,\"data\":{\"filler\":\"".getBytes(StandardCharsets.UTF_8));
                for (int i = 0; i < 512; i++) {
                    out.write(chunk);
                    endlessBytesSent.addAndGet(chunk.length);
                }
                out.write("\"},\"errors\":[]}".getBytes(StandardCharsets.UTF_8));
            } catch (IOException closedByTheClient) {
                endlessCutOff.incrementAndGet(); // what the test expects
            } finally {
                endlessOver.release();
            }
        });
        serverThreads = java.util.concurrent.Executors.newCachedThreadPool();
        server.setExecutor(serverThreads);
        server.start();
        http = new GtfHttp(HttpClient.newHttpClient(), new ObjectMapper(), 4, Duration.ofMillis(10),
                Duration.ofMillis(50));
    }

    @AfterEach
    void stop() {
        stalled.countDown();
        server.stop(0);
        serverThreads.shutdownNow();
    }

    private void answer(int status, String retryAfter, String cause) {
        synchronized (script) {
            script.add(new Answer(status, retryAfter, cause, null));
        }
    }

    private java.util.function.Supplier<HttpRequest> get() {
        URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/coe/v1/submissions/urls");
        return () -> HttpRequest.newBuilder(uri).GET().build();
    }

    @Test
    void theFirstErrorDecidesAndFurtherCausesAreNamed() {
        synchronized (script) {
            script.add(new Answer(400, null, null, "{\"success\":false,\"data\":null,\"errors\":["
                    + "{\"code\":1539,\"entity\":\"COE\",\"cause\":\"X_SDK_SESSION_ID_CAN_NOT_BE_EMPTY\"},"
                    + "{\"code\":\"1539\",\"cause\":\"X_PARTNER_SESSION_ID_CAN_NOT_BE_EMPTY\"},{\"code\":1542}]}"));
        }
        GtfApiException e = assertThrows(GtfApiException.class, () -> http.call("confirm", get()));
        assertEquals("1539", e.code());
        assertEquals("X_SDK_SESSION_ID_CAN_NOT_BE_EMPTY", e.errorCause());
        assertEquals("confirm answered HTTP 400 (code 1539, X_SDK_SESSION_ID_CAN_NOT_BE_EMPTY; also"
                + " X_PARTNER_SESSION_ID_CAN_NOT_BE_EMPTY, 1542)", e.getMessage());
        assertEquals(1, requests.get());
    }

    @Test
    void anErrorsObjectRatherThanAListIsReadAsTheOneError() {
        String body = "{\"success\":false,\"errors\":{\"code\":\"900\",\"cause\":\"SOMETHING_WENT_WRONG\"}}";
        synchronized (script) {
            for (int i = 0; i < 4; i++) {
                script.add(new Answer(500, null, null, body));
            }
        }
        // a server error, retried as one and then handed on as one: a confirm so answered may have been applied
        GtfApiException e = assertThrows(GtfApiException.class, () -> http.call("confirm", get()));
        assertEquals(500, e.httpStatus());
        assertEquals("900", e.code());
        assertEquals("SOMETHING_WENT_WRONG", e.errorCause());
        assertTrue(e.isTransient());
        assertTrue(e.mayHaveBeenApplied("confirm"));
        requests.set(0);
        synchronized (script) {
            script.add(new Answer(400, null, null, "{\"success\":false,\"errors\":{\"code\":1541,"
                    + "\"cause\":\"INVALID_SUBMISSION_ID\"}}"));
        }
        GtfApiException refused = assertThrows(GtfApiException.class, () -> http.call("status", get()));
        assertEquals("1541", refused.code());
        assertFalse(refused.isTransient());
        assertEquals(1, requests.get());
        synchronized (script) {
            script.add(new Answer(200, null, null, "{\"success\":false,\"data\":null,\"errors\":{\"code\":\"110\","
                    + "\"cause\":\"UNAUTHORIZED\"}}"));
        }
        assertTrue(assertThrows(GtfApiException.class, () -> http.call("presign", get())).refusesToken());
    }

    @Test
    void errorsInA2xxWhoseSuccessIsNotTrueAreARefusal() {
        String error = "\"errors\":[{\"code\":\"1542\",\"cause\":\"SUBMISSION_CAN_NOT_BE_CONFIRMED\"}]";
        for (String body : new String[] {"{\"data\":null," + error + "}", "{" + error + "}",
                "{\"success\":null,\"data\":{}," + error + "}", "{\"success\":0," + error + "}",
                "{\"success\":\"no\",\"data\":null," + error + "}"}) {
            requests.set(0);
            synchronized (script) {
                script.add(new Answer(200, null, null, body));
            }
            GtfApiException e = assertThrows(GtfApiException.class, () -> http.call("confirm", get()), body);
            assertEquals("1542", e.code(), body);
            assertEquals(400, e.httpStatus(), body);
            assertFalse(e.isTransient(), body);
            assertEquals(1, requests.get(), body);
        }
        synchronized (script) {
            script.add(new Answer(200, null, null, "{\"errors\":[{\"code\":110,\"cause\":\"UNAUTHORIZED\"}]}"));
        }
        assertTrue(assertThrows(GtfApiException.class, () -> http.call("status", get())).refusesToken());
        // success true, or no error at all, is still a success
        synchronized (script) {
            script.add(new Answer(200, null, null, "{\"success\":true,\"data\":{\"ok\":true}," + error + "}"));
            script.add(new Answer(200, null, null, "{\"success\":null,\"data\":{\"ok\":true},\"errors\":[]}"));
        }
        assertTrue(http.call("status", get()).path("ok").asBoolean());
        assertTrue(http.call("status", get()).path("ok").asBoolean());
    }

    @Test
    void noBodyOfAnyShapeEscapesTheCallAsAnotherException() {
        String[] bodies = {"{\"success\":false,\"errors\":[1,null,[2],{\"code\":{\"a\":1}}]}",
                "{\"success\":false,\"errors\":\"X\"}", "[1,2]", "\"text\"", "null", "",
                "{\"success\":false,\"errors\":{\"1\":2,\"3\":4,\"5\":6}}"};
        for (String body : bodies) {
            for (int status : new int[] {200, 400, 503}) {
                synchronized (script) {
                    script.clear();
                    for (int i = 0; i < 4; i++) {
                        script.add(new Answer(status, null, null, body));
                    }
                }
                GtfApiException e = assertThrows(GtfApiException.class, () -> http.call("status", get()),
                        status + " " + body);
                assertEquals(status == 503, e.isTransient() && e.httpStatus() == 503, status + " " + body);
            }
        }
    }

    @Test
    void aUsedUpQuotaWithoutRetryAfterIsNotRetriedWhenConfiguredToFailAtOnce() {
        http.retryUsedUpQuota(false);
        answer(429, null, "SUBMISSION_QUOTA_EXCEEDED");
        GtfApiException e = assertThrows(GtfApiException.class, () -> http.call("presign", get()));
        assertTrue(e.isQuotaExceeded());
        assertFalse(e.isTransient());
        assertEquals(1, requests.get());
    }

    @Test
    void aUsedUpQuotaWithoutRetryAfterIsRetriedWithTheBackOffByDefault() {
        // the reference: 429 is retried with back-off; whether Retry-After comes is open (question 13)
        answer(429, null, "SUBMISSION_QUOTA_EXCEEDED");
        answer(429, null, "SUBMISSION_QUOTA_EXCEEDED");
        assertTrue(http.call("presign", get()).path("ok").asBoolean());
        assertEquals(3, requests.get());
    }

    @Test
    void aUsedUpQuotaWithRetryAfterIsTriedAgainThenEvenWhenConfiguredToFailAtOnce() {
        http.retryUsedUpQuota(false);
        answer(429, "0", "SUBMISSION_QUOTA_EXCEEDED");
        assertTrue(http.call("presign", get()).path("ok").asBoolean());
        assertEquals(2, requests.get());
    }

    @Test
    void aNegativeRetryAfterIsReadAsNone() {
        // not as "at once": a used-up quota without a usable Retry-After fails at once when so configured
        http.retryUsedUpQuota(false);
        answer(429, "-1", "SUBMISSION_QUOTA_EXCEEDED");
        GtfApiException e = assertThrows(GtfApiException.class, () -> http.call("presign", get()));
        assertTrue(e.isQuotaExceeded());
        assertEquals(-1, e.retryAfterMillis());
        assertEquals(1, requests.get());
    }

    @Test
    void otherThrottlingIsRetriedAndAnHttpDateIsUnderstood() {
        answer(429, "Wed, 21 Oct 2015 07:28:00 GMT", "TOO_MANY_REQUESTS");
        answer(503, null, "SERVICE_UNAVAILABLE");
        assertTrue(http.call("confirm", get()).path("ok").asBoolean());
        assertEquals(3, requests.get());
    }

    @Test
    void aRefusalAfterAServerErrorSaysTheCallMayHaveBeenApplied() {
        answer(403, null, "FORBIDDEN");
        GtfApiException plain = assertThrows(GtfApiException.class, () -> http.call("confirm", get()));
        assertFalse(plain.afterUnansweredAttempt(), "the only attempt was answered with a refusal");

        answer(500, null, "GENERIC_SERVICE_ERROR");
        answer(403, null, "FORBIDDEN");
        GtfApiException after = assertThrows(GtfApiException.class, () -> http.call("confirm", get()));
        assertEquals(403, after.httpStatus());
        assertTrue(after.afterUnansweredAttempt(), "the first attempt may have been applied before it failed");

        // a refusal inside a 2xx after a server error, too
        answer(503, null, "SERVICE_UNAVAILABLE");
        synchronized (script) {
            script.add(new Answer(200, null, null, "{\"success\":false,\"errors\":[{\"code\":\"1542\"}]}"));
        }
        assertTrue(assertThrows(GtfApiException.class, () -> http.call("confirm", get())).afterUnansweredAttempt());

        // a failure marked for one caller stays unmarked for others holding the same instance
        assertFalse(plain.followingUnansweredAttempt() == plain);
        assertFalse(plain.afterUnansweredAttempt());
    }

    private void body(int status, String body) {
        synchronized (script) {
            script.add(new Answer(status, null, null, body));
        }
    }

    @Test
    void aTwoHundredWhoseBodyIsNoEnvelopeCountsAsNoAnswerAndIsRetried() {
        // a proxy's page, a body cut off, a bare value: the call may or may not have been applied
        body(200, "<html><body>Service temporarily unavailable</body></html>");
        body(200, "{\"success\":true,\"data\":{\"submissionId\":\"3f1c");
        body(200, "42");
        assertTrue(http.call("status", get()).path("ok").asBoolean());
        assertEquals(4, requests.get());
        // JSON, but not the envelope
        body(200, "{\"message\":\"upstream ok\"}");
        assertTrue(http.call("presign", get()).path("ok").asBoolean());
        assertEquals(6, requests.get());

        requests.set(0);
        for (int i = 0; i < 4; i++) {
            body(200, "<html>bad gateway</html>");
        }
        GtfApiException e = assertThrows(GtfApiException.class, () -> http.call("confirm", get()));
        assertEquals(4, requests.get(), "every attempt made");
        assertEquals(0, e.httpStatus());
        assertTrue(e.isTransient(), "left to the caller's own retry, as an unanswered call is");
        assertTrue(e.getMessage().contains("HTTP 200 (code null, MALFORMED_JSON)"), e.getMessage());
    }

    @Test
    void aRefusalInsideATwoHundredCountsAsTheStatusItsErrorStandsFor() {
        java.util.List<Integer> observed = new java.util.concurrent.CopyOnWriteArrayList<>();
        http.observer((endpoint, status, nanos) -> observed.add(status));
        body(200, "{\"success\":false,\"errors\":[{\"code\":\"900\",\"cause\":\"SOMETHING_WENT_WRONG\"}]}");
        body(200, "{\"success\":false,\"errors\":[{\"code\":\"429\",\"cause\":\"TOO_MANY_REQUESTS\"}]}");
        body(200, "{\"success\":false}");
        assertTrue(http.call("status", get()).path("ok").asBoolean(), "server errors and throttling are retried");
        assertEquals(4, requests.get());
        // the metrics see what each answer counts as, not the 2xx it came in: only the last was ok
        assertEquals(4, observed.size(), observed.toString());
        assertTrue(observed.get(0) >= 500 && observed.get(2) >= 500, observed.toString());
        assertEquals(429, observed.get(1));
        assertEquals(200, observed.get(3));
        observed.clear();
        body(200, "{\"message\":\"upstream ok\"}");
        http.call("status", get());
        assertEquals(java.util.List.of(0, 200), observed, "a 2xx that is no envelope: as good as no answer");
        requests.addAndGet(-2);
        body(200, "{\"success\":false,\"errors\":[{\"code\":903,\"cause\":\"SERVICE_UNAVAILABLE\"}]}");
        assertTrue(http.call("status", get()).path("ok").asBoolean());
        assertEquals(6, requests.get());

        body(200, "{\"success\":false,\"errors\":[{\"code\":110,\"cause\":\"UNAUTHORIZED\"}]}");
        assertTrue(assertThrows(GtfApiException.class, () -> http.call("confirm", get())).isUnauthorized());
        body(200, "{\"success\":false,\"errors\":[{\"code\":\"409\",\"cause\":\"SUBMISSION_STATE_CONFLICT\"}]}");
        assertEquals(409, assertThrows(GtfApiException.class, () -> http.call("confirm", get())).httpStatus());
        // "false" as a string, as this API writes its numbers
        body(200, "{\"success\":\"false\",\"errors\":[{\"code\":\"409\",\"cause\":\"SUBMISSION_STATE_CONFLICT\"}]}");
        assertEquals(409, assertThrows(GtfApiException.class, () -> http.call("confirm", get())).httpStatus());
        body(200, "{\"success\":false,\"errors\":[{\"code\":\"1543\",\"cause\":\"SUBMISSION_DOES_NOT_EXIST\"}]}");
        GtfApiException notFound = assertThrows(GtfApiException.class, () -> http.call("status", get()));
        assertEquals(404, notFound.httpStatus());
        assertFalse(notFound.isTransient());
        assertTrue(notFound.getMessage().startsWith("status answered HTTP 200 (code 1543"), notFound.getMessage());
    }

    @Test
    void anAnswerWhoseBodyStallsEndsTheCallAsUnanswered() {
        URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/stalled");
        GtfApiException e = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(30),
                () -> assertThrows(GtfApiException.class, () -> http.call("status",
                        () -> HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(1)).GET().build())));
        assertEquals(0, e.httpStatus(), "no answer: " + e.getMessage());
        assertTrue(e.isTransient());
        assertTrue(e.getMessage().contains("HttpTimeoutException (127.0.0.1:" + server.getAddress().getPort() + ")"),
                "names the server that did not answer, not the path: " + e.getMessage());
        assertEquals(4, requests.get(), "each attempt cut off after twice its 1 s timeout, then tried again");
    }

    @Test
    void anAnswerDeclaringMoreThanFourMegabytesIsNotReadAndCountsAsNoAnswer() {
        URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/huge");
        GtfApiException e = assertThrows(GtfApiException.class, () -> http.call("status",
                () -> HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).GET().build()));
        assertEquals(0, e.httpStatus(), "no answer: " + e.getMessage());
        assertTrue(e.isTransient());
        assertEquals(4, requests.get(), "tried again like any unanswered call");
        // each attempt's connection closed at the headers: what the sockets' buffers took, not 4 x 64 MB
        assertTrue(hugeBytesSent.get() < 32L << 20, hugeBytesSent.get() + " bytes sent");
    }

    @Test
    void aChunkedAnswerGoingPastFourMegabytesIsCutOffAndCountsAsNoAnswer() throws InterruptedException {
        int port = server.getAddress().getPort();
        URI uri = URI.create("http://127.0.0.1:" + port + "/endless");
        // a 20 s timeout: only the size limit, not the time limit, ends these attempts within 10 s
        GtfApiException e = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(GtfApiException.class, () -> http.call("status",
                        () -> HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).GET().build())));
        assertEquals(0, e.httpStatus(), "no answer: " + e.getMessage());
        assertTrue(e.isTransient());
        assertTrue(e.getMessage().contains("IOException (127.0.0.1:" + port + ")"), e.getMessage());
        assertTrue(e.getCause().getMessage().contains("went past " + GtfHttp.MAX_ANSWER_BYTES + " bytes"),
                e.getCause().getMessage());
        assertEquals(4, requests.get(), "tried again like any unanswered call");
        assertTrue(endlessOver.tryAcquire(4, 10, java.util.concurrent.TimeUnit.SECONDS), "every answer over");
        // each attempt's connection closed past 4 MB: the server could not write on, nor 32 MB each
        assertEquals(4, endlessCutOff.get(), "answers cut off by the client");
        assertTrue(endlessBytesSent.get() < 4 * (16L << 20), endlessBytesSent.get() + " bytes sent");
    }

    @Test
    void aChunkedAnswerUnderTheLimitIsReadWholeInItsCharset() {
        URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/chunked");
        com.fasterxml.jackson.databind.JsonNode data = http.call("status",
                () -> HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).GET().build());
        assertEquals("caf\u00e9", data.path("word").asText());
        assertEquals(3 << 20, data.path("filler").asText().length());
        assertEquals(1, requests.get());
    }

    @Test
    void aRetryAfterLongerThanAWorkerMayWaitIsLeftToTheCaller() {
        http.maxRetryAfter(Duration.ofSeconds(5));
        for (String tooLong : new String[] {"6", "99999999999999999"}) {
            requests.set(0);
            answer(503, tooLong, "SERVICE_UNAVAILABLE");
            GtfApiException e = assertThrows(GtfApiException.class, () -> http.call("confirm", get()));
            assertTrue(e.isTransient(), "still transient: the caller may come back later");
            assertEquals(1, requests.get(), tooLong);
        }
        // what the caller adds to its clock for its next try stays within a day
        answer(503, String.valueOf(Long.MAX_VALUE), "SERVICE_UNAVAILABLE");
        GtfApiException e = assertThrows(GtfApiException.class, () -> http.call("status", get()));
        assertEquals(86_400_000L, e.retryAfterMillis());
    }

    @Test
    void aCallMadeUnderAClaimWaitsLessThanTheGeneralLongestWait() {
        answer(503, "2", "SERVICE_UNAVAILABLE");
        GtfApiException e = assertThrows(GtfApiException.class, () -> http.call("details", get(), 1_000));
        assertEquals(503, e.httpStatus());
        assertEquals(1, requests.get(), "2 s asked, 1 s allowed: handed back, not waited");
    }

    @Test
    void aCallWhoseTokenIsFetchedFirstTakesItsRateLimitSlotAfterTheTokenCall() {
        // the call's slot was taken before its token's: by the time the token came that slot had
        // passed, and the two went out together, twice the configured rate
        java.util.List<String> events = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        RateLimiter recording = new RateLimiter(0) {
            @Override
            public void acquire() throws InterruptedException {
                events.add("slot");
                super.acquire();
            }
        };
        GtfHttp limited = new GtfHttp(HttpClient.newHttpClient(), new ObjectMapper(), 1, Duration.ofMillis(10),
                Duration.ofMillis(50), new CircuitBreaker(5, Duration.ofMinutes(1)), recording);
        server.createContext("/token", ex -> {
            events.add("token sent");
            byte[] bytes = "{\"success\":true,\"data\":{\"ok\":true},\"errors\":[]}".getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        });
        String base = "http://127.0.0.1:" + server.getAddress().getPort();
        limited.call("presign", () -> {
            limited.call("user-token", () -> HttpRequest.newBuilder(URI.create(base + "/token")).build());
            return HttpRequest.newBuilder(URI.create(base + "/coe/v1/submissions/urls")).build();
        });
        assertEquals(java.util.List.of("slot", "token sent", "slot"), events,
                "the token call's slot, the token call, then the call's own slot");
    }

    @Test
    void throttledAnswersPauseTheEndpointWithoutTakingItForDown() {
        CircuitBreaker breaker = new CircuitBreaker(2, Duration.ofHours(1));
        GtfHttp guarded = new GtfHttp(HttpClient.newHttpClient(), new ObjectMapper(), 2, Duration.ofMillis(10),
                Duration.ofMillis(50), breaker, new RateLimiter(0));
        answer(429, "0", "TOO_MANY_REQUESTS");
        answer(429, "0", "TOO_MANY_REQUESTS");
        GtfApiException e = assertThrows(GtfApiException.class, () -> guarded.call("status", get()));
        assertEquals(429, e.httpStatus());
        assertTrue(breaker.isOpen("status"), "a run of throttled answers pauses the endpoint's calls");
        assertEquals(java.util.List.of(), breaker.downEndpoints(), "it answered: not down, readiness stays up");

        // a server failure after the pause's start: that endpoint is down
        breaker.onSuccess("status");
        answer(503, "0", "SERVICE_UNAVAILABLE");
        answer(503, "0", "SERVICE_UNAVAILABLE");
        assertThrows(GtfApiException.class, () -> guarded.call("status", get()));
        assertEquals(java.util.List.of("status"), breaker.downEndpoints());
    }

    @Test
    void aCallStoppedWhileItsCircuitIsOpenWasNeverSentAndCannotHaveBeenApplied() throws InterruptedException {
        CircuitBreaker breaker = new CircuitBreaker(1, Duration.ofMinutes(5));
        GtfHttp paused = new GtfHttp(HttpClient.newHttpClient(), new ObjectMapper(), 4, Duration.ofMillis(10),
                Duration.ofMillis(50), breaker, new RateLimiter(0));
        breaker.onTransientFailure("confirm");
        java.util.concurrent.atomic.AtomicReference<RuntimeException> failure =
                new java.util.concurrent.atomic.AtomicReference<>();
        Thread worker = new Thread(() -> {
            try {
                paused.call("confirm", get());
            } catch (RuntimeException e) {
                failure.set(e);
            }
        });
        worker.start();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> worker.getState() == Thread.State.TIMED_WAITING);
        worker.interrupt(); // a stop, while the call waits for the circuit to close
        worker.join(10_000);
        GtfApiException e = org.junit.jupiter.api.Assertions.assertInstanceOf(GtfApiException.class, failure.get());
        assertTrue(e.isTransient(), "the input waits in its source: " + e.getMessage());
        assertFalse(e.mayHaveBeenApplied("confirm"), e.getMessage());
        assertEquals(0, requests.get());
    }

    @Test
    void aCallStoppedWhileItsAnswerWasAwaitedIsObservedAsUnansweredOnce() throws InterruptedException {
        java.util.List<String> observed = new java.util.concurrent.CopyOnWriteArrayList<>();
        http.observer((endpoint, status, nanos) -> observed.add(endpoint + " " + status));
        URI stalled = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/stalled");
        java.util.concurrent.atomic.AtomicReference<RuntimeException> failure =
                new java.util.concurrent.atomic.AtomicReference<>();
        Thread worker = new Thread(() -> {
            try {
                http.call("confirm", () -> HttpRequest.newBuilder(stalled).timeout(Duration.ofSeconds(30))
                        .PUT(HttpRequest.BodyPublishers.ofString("{}")).build());
            } catch (RuntimeException e) {
                failure.set(e);
            }
        });
        worker.start();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> requests.get() == 1);
        worker.interrupt(); // a stop, while the answer is on its way
        worker.join(10_000);
        GtfApiException e = org.junit.jupiter.api.Assertions.assertInstanceOf(GtfApiException.class, failure.get());
        assertTrue(e.mayHaveBeenApplied("confirm"), e.getMessage());
        // as an upload so stopped is: the metrics count the call, under no answer
        assertEquals(java.util.List.of("confirm 0"), observed);
        assertEquals(1, requests.get());
    }

    @Test
    void aHeaderValueHttpRefusesFailsAtOnceWithoutQuotingIt() {
        URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/coe/v1/submissions/urls");
        // a token with a control character in it, as a misbehaving token endpoint could hand out
        GtfApiException e = assertThrows(GtfApiException.class, () -> http.call("presign",
                () -> HttpRequest.newBuilder(uri).header("Authorization", "Bearer secret-token\u0001").GET().build()));
        assertFalse(e.isTransient(), "it would fail the same way every time");
        assertFalse(e.isEnveloped(), "OneKYC said nothing: the cause is this side's text");
        assertFalse(e.getMessage().contains("secret-token"), e.getMessage());
        assertEquals(null, e.getCause());
        assertEquals(0, requests.get());
    }

    @Test
    void aCallNoServerTookTheConnectionOfWasNeverSentAndCannotHaveBeenApplied() throws IOException {
        int closed;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            closed = free.getLocalPort();
        }
        URI uri = URI.create("http://127.0.0.1:" + closed + "/coe/v1/submissions/urls");

        GtfApiException e = assertThrows(GtfApiException.class, () -> http.call("confirm",
                () -> HttpRequest.newBuilder(uri).PUT(HttpRequest.BodyPublishers.ofString("{}")).build()));

        assertTrue(e.isTransient(), "tried again, and later by the caller: " + e.getMessage());
        assertTrue(e.getMessage().contains("ConnectException (127.0.0.1:" + closed + ")"), e.getMessage());
        assertFalse(e.mayHaveBeenApplied("confirm"), "no connection, so no byte of it went out");
    }

    @Test
    void aCallRefusedAConnectionAfterAnAttemptThatWentUnansweredMayStillHaveBeenApplied() {
        // the first attempt reaches the server and gets no answer; then the server is gone
        URI stalled = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/stalled");
        int[] attempts = {0};
        GtfApiException e = assertThrows(GtfApiException.class, () -> http.call("confirm", () -> {
            if (attempts[0]++ == 1) {
                server.stop(0);
            }
            return HttpRequest.newBuilder(stalled).timeout(Duration.ofSeconds(1))
                    .PUT(HttpRequest.BodyPublishers.ofString("{}")).build();
        }));

        assertTrue(e.mayHaveBeenApplied("confirm"), "the first attempt may have been applied: " + e.getMessage());
    }
}

package id.ktpbridge.gtf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import id.ktpbridge.testkit.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Which token each attempt of a call carries: retries read the cache again, so one that expired
 * during a back-off is not sent; a token refused twice is not kept for the next call; and a token
 * is kept for the shorter of {@code expires_at} (the server's clock) and {@code expiry_seconds},
 * or for {@code expiry_seconds} when {@code expires_at} has passed on arrival (that clock is behind).
 * And a status call, made in a poll tick, does not wait out a long {@code Retry-After} in place.
 */
class TokenPerAttemptTest {

    private final AtomicInteger issued = new AtomicInteger();
    private final Deque<Integer> statusAnswers = new ArrayDeque<>();
    /** What the token endpoint answers next (200 when empty); 429 comes with {@link #retryAfterSeconds}. */
    private final Deque<Integer> tokenAnswers = new ArrayDeque<>();
    private final List<String> tokensSeen = new ArrayList<>();
    private volatile int expirySeconds = 3600;
    /** The token answer's expiry_seconds member as written ("" for none), or null for {@link #expirySeconds}. */
    private volatile String expirySecondsMember;
    private volatile String retryAfterSeconds = "1";
    /** How far the token server's clock runs ahead of ours ({@code expires_at} is on its clock). */
    private volatile int serverClockAheadSeconds;
    /** The code a status 403 comes with. */
    private volatile String forbiddenCode = "110";
    private final AtomicInteger tokenRequests = new AtomicInteger();
    /** Token values (JSON string content) the token endpoint hands out before its own "t1", "t2", ... */
    private final Deque<String> oddTokens = new ArrayDeque<>();
    private HttpServer server;
    private GtfClient client;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v2/coe/authentication", ex -> {
            Integer answer;
            synchronized (tokenAnswers) {
                answer = tokenAnswers.poll();
            }
            tokenRequests.incrementAndGet();
            if (answer != null && answer == 429) {
                ex.getResponseHeaders().set("Retry-After", retryAfterSeconds);
                send(ex, 429, "{\"success\":false,\"data\":null,\"errors\":[{\"code\":\"429\","
                        + "\"cause\":\"TOO_MANY_REQUESTS\"}]}");
                return;
            }
            if (answer != null && answer == 403) {
                send(ex, 403, "{\"success\":false,\"data\":null,\"errors\":[{\"code\":110,"
                        + "\"entity\":\"ONEKYC_TOKEN_SERVICE\",\"cause\":\"FORBIDDEN\"}]}");
                return;
            }
            long now = System.currentTimeMillis() / 1000 + serverClockAheadSeconds;
            String odd;
            synchronized (oddTokens) {
                odd = oddTokens.poll();
            }
            String token = odd != null ? odd : "t" + issued.incrementAndGet();
            String member = expirySecondsMember != null ? expirySecondsMember
                    : "\"expiry_seconds\":\"" + expirySeconds + "\",";
            send(ex, 200, "{\"success\":true,\"data\":{\"token\":\"" + token
                    + "\"," + member + "\"expires_at\":\"" + (now + expirySeconds)
                    + "\"},\"errors\":[]}");
        });
        server.createContext("/coe/v1/submissions/", ex -> {
            int status;
            synchronized (tokensSeen) {
                tokensSeen.add(ex.getRequestHeaders().getFirst("x-onekyc-token"));
                status = statusAnswers.isEmpty() ? 200 : statusAnswers.poll();
            }
            if (status == 429) {
                ex.getResponseHeaders().set("Retry-After", retryAfterSeconds);
            }
            String code = status == 401 ? "110" : status == 403 ? forbiddenCode : "429";
            String cause = status == 401 ? "UNAUTHORIZED" : status == 403 ? "FORBIDDEN" : "TOO_MANY_REQUESTS";
            send(ex, status, status == 200
                    ? "{\"success\":true,\"data\":{\"status\":\"IN_PROGRESS\"},\"errors\":[]}"
                    : "{\"success\":false,\"data\":null,\"errors\":[{\"code\":\"" + code
                    + "\",\"cause\":\"" + cause + "\"}]}");
        });
        server.start();
        client = GtfClientTest.client("http://127.0.0.1:" + server.getAddress().getPort(), Duration.ofMinutes(5));
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    /** A stub server's JSON answer (shared with the other stub-server tests of this package). */
    static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static CallContext ctx() {
        return new CallContext(new TokenKey("PARTNER", "user-1", "PARTNER_USER_ID"), UUID.randomUUID().toString(),
                UUID.randomUUID().toString());
    }

    @Test
    void aRetryAfterABackOffTakesATokenThatIsStillFresh() {
        // a 2 s token is usable for its first second (the margin is half its life); the two
        // throttled attempts wait a second each, so the third must carry a new token
        expirySeconds = 2;
        synchronized (tokensSeen) {
            statusAnswers.add(429);
            statusAnswers.add(429);
        }
        client.status(ctx(), "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44");
        assertEquals(3, tokensSeen.size());
        assertEquals("t1", tokensSeen.get(0));
        assertNotEquals("t1", tokensSeen.get(2), "the last attempt is not made with the first token: " + tokensSeen);
    }

    @Test
    void aTokenRefusedAfterTheRefreshIsNotKeptForTheNextCall() {
        synchronized (tokensSeen) {
            for (int i = 0; i < 4; i++) {
                statusAnswers.add(401);
            }
        }
        assertThrows(GtfApiException.class, () -> client.status(ctx(), "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44"));
        assertThrows(GtfApiException.class, () -> client.status(ctx(), "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44"));
        assertEquals(List.of("t1", "t2", "t3", "t4"), tokensSeen);
    }

    @Test
    void theShorterOfExpiresAtAndExpirySecondsDecides() throws Exception {
        // the server's clock runs an hour ahead: expires_at promises an hour, expiry_seconds two seconds
        serverClockAheadSeconds = 3600;
        expirySeconds = 2;
        TokenKey key = new TokenKey("PARTNER", "user-1", "PARTNER_USER_ID");
        long before = System.currentTimeMillis();
        client.withToken(key, t -> t.get());
        // the token as kept (a slow machine may already have fetched another: the same bounds hold)
        UserToken kept = client.tokens().get(key);
        long after = System.currentTimeMillis();
        // kept until two seconds after its fetch on our clock (rounded up to the second), not for the hour
        assertTrue(kept.expiresAtEpochSeconds() >= before / 1000 + 2
                        && kept.expiresAtEpochSeconds() <= Math.floorDiv(after + 999, 1000) + 2,
                kept + " fetched between " + before + " and " + after + " ms");
        assertEquals(2, kept.lifetimeSeconds());
        assertTrue(kept.usableAt(before / 1000, client.settings().tokenRefreshSkew().toSeconds()),
                "usable when fetched: reused while fresh");
        Thread.sleep(2_100); // past the two seconds expiry_seconds gave, far from the hour expires_at claims
        int issuedBefore = issued.get();
        assertNotEquals(kept.value(), client.withToken(key, t -> t.get()));
        assertEquals(issuedBefore + 1, issued.get(), "the expired token replaced by one new fetch");
    }

    @Test
    void aTokenServerWhoseClockIsBehindDoesNotGetATokenCallPerCall() {
        // its clock two hours behind: every token's expires_at is an hour past on arrival, expiry_seconds an hour
        serverClockAheadSeconds = -7200;
        expirySeconds = 3600;
        try (LogCapture log = new LogCapture()) {
            for (int i = 0; i < 5; i++) {
                client.status(ctx(), "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44");
            }
            assertEquals(1, issued.get(), "one token for the five calls");
            assertEquals(List.of("t1", "t1", "t1", "t1", "t1"), tokensSeen);
            UserToken kept = client.tokens().get(new TokenKey("PARTNER", "user-1", "PARTNER_USER_ID"));
            assertTrue(kept.expiresAtEpochSeconds() >= System.currentTimeMillis() / 1000 + 3590,
                    "kept for expiry_seconds on this host's clock: " + kept);
            assertEquals(1, log.count("taking the token server's clock to be behind"), log.text());
            String warning = log.text().lines().filter(l -> l.contains("clock to be behind")).findFirst().orElseThrow();
            assertTrue(warning.startsWith("WARN") && warning.contains("expires_at -3"), warning);
            assertFalse(warning.contains("t1"), "the token stays out of the log: " + warning);
        }
    }

    @Test
    void aTokenWhoseExpiresAtHasPassedAndNoUsableExpirySecondsIsKeptForTheFallbackLifetime() {
        // an hour past on arrival, with expiry_seconds missing or of no use
        serverClockAheadSeconds = -7200;
        String[] members = {"", "\"expiry_seconds\":\"soon\",", "\"expiry_seconds\":0,",
                "\"expiry_seconds\":\"-5\",", "\"expiry_seconds\":null,"};
        try (LogCapture log = new LogCapture()) {
            for (String member : members) {
                expirySecondsMember = member;
                issued.set(0);
                client = GtfClientTest.client("http://127.0.0.1:" + server.getAddress().getPort(), Duration.ofMinutes(5));
                long before = System.currentTimeMillis() / 1000;
                for (int i = 0; i < 5; i++) {
                    client.status(ctx(), "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44");
                }
                assertEquals(1, issued.get(), "one token for the five calls with " + member);
                UserToken kept = client.tokens().get(new TokenKey("PARTNER", "user-1", "PARTNER_USER_ID"));
                // the lifetime taken when a token answer gives none at all: five minutes
                assertTrue(kept.expiresAtEpochSeconds() >= before + 300
                        && kept.expiresAtEpochSeconds() <= before + 302, member + kept);
            }
            // one line per client (each is a new bundle here), not one per call
            assertEquals(members.length, log.count("its end is taken as unknown"), log.text());
            assertFalse(log.text().contains("\"t1\""), log.text());
        }
    }

    @Test
    void aTokenHandedBackNearItsEndIsTakenAtItsWord() {
        // a server handing back its cached token two minutes before its end, with the nominal 60 days
        expirySeconds = 5_184_000;
        serverClockAheadSeconds = 120 - 5_184_000;
        try (LogCapture log = new LogCapture()) {
            long before = System.currentTimeMillis() / 1000;
            client.status(ctx(), "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44");
            UserToken kept = client.tokens().get(new TokenKey("PARTNER", "user-1", "PARTNER_USER_ID"));
            assertTrue(kept.expiresAtEpochSeconds() <= before + 122, "kept no longer than its expires_at: " + kept);
            assertEquals(0, log.count("taking the token server's clock to be behind"), log.text());
        }
    }

    @Test
    void aTokenWhoseExpiresAtComesSoonerThanItsExpirySecondsIsUsableWhenFetched() {
        // the token server's clock 117 s behind, 120 s tokens: expires_at three seconds ahead by ours
        expirySeconds = 120;
        serverClockAheadSeconds = -117;
        TokenKey key = new TokenKey("PARTNER", "user-1", "PARTNER_USER_ID");
        long before = System.currentTimeMillis();
        client.withToken(key, t -> t.get());
        UserToken kept = client.tokens().get(key);
        assertTrue(kept.expiresAtEpochSeconds() <= System.currentTimeMillis() / 1000 + 3,
                "kept no longer than its expires_at: " + kept);
        // its margin measured against what was left of it, not the 120 s: not fetched anew for every call
        assertTrue(kept.usableAt(before / 1000, client.settings().tokenRefreshSkew().toSeconds()),
                "usable when fetched: " + kept + ", fetched from " + before + " ms");
    }

    @Test
    void aStatusCallLeavesALongRetryAfterToTheNextPoll() {
        retryAfterSeconds = "120";
        synchronized (tokensSeen) {
            statusAnswers.add(429);
        }
        // the poll tick waits for every status call of its batch: one must not hold it for minutes
        GtfApiException e = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> assertThrows(GtfApiException.class,
                        () -> client.status(ctx(), "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44")));
        assertEquals(429, e.httpStatus());
        assertEquals(1, tokensSeen.size(), "asked once, not again after the wait");
    }

    @Test
    void aTokenFetchLeavesALongRetryAfterToTheCaller() {
        retryAfterSeconds = "120";
        synchronized (tokenAnswers) {
            tokenAnswers.add(429);
        }
        // made inside a status call of a poll tick, and shared by every caller of that user: it must
        // not wait two minutes in place either
        GtfApiException e = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> assertThrows(GtfApiException.class,
                        () -> client.status(ctx(), "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44")));
        assertEquals("user-token", e.endpoint());
        assertEquals(429, e.httpStatus());
        assertEquals(120_000, e.retryAfterMillis(), "the wait it asked for goes to the caller");
        assertEquals(0, tokensSeen.size(), "no status call without a token");
    }
    @Test
    void aLongRetryAfterFromTheTokenEndpointHoldsBackEveryTokenFetchUntilItPasses() {
        retryAfterSeconds = "120";
        synchronized (tokenAnswers) {
            tokenAnswers.add(429);
        }
        assertThrows(GtfApiException.class, () -> client.status(ctx(), "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44"));
        assertEquals(1, tokenRequests.get());
        // the same user again, and another: neither calls the endpoint before its wait is over
        GtfApiException again = assertThrows(GtfApiException.class,
                () -> client.status(ctx(), "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44"));
        GtfApiException other = assertThrows(GtfApiException.class, () -> client.status(new CallContext(
                new TokenKey("PARTNER", "user-2", "PARTNER_USER_ID"), UUID.randomUUID().toString(),
                UUID.randomUUID().toString()), "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44"));
        assertEquals(1, tokenRequests.get(), "the token endpoint was not called during its wait");
        for (GtfApiException e : List.of(again, other)) {
            assertEquals("user-token", e.endpoint());
            assertEquals(429, e.httpStatus());
            assertTrue(e.retryAfterMillis() > 100_000 && e.retryAfterMillis() <= 120_000,
                    "what is left of the wait: " + e.retryAfterMillis());
            assertFalse(e.mayHaveBeenApplied("status"), "no status call was sent");
        }
        assertEquals(0, tokensSeen.size());
    }

    @Test
    void aForbiddenWithCode110GetsAFreshTokenOnce() {
        // the reference's glossary: 110 is "unauthorized / invalid token in headers"; confirm lists 403 110
        synchronized (tokensSeen) {
            statusAnswers.add(403);
        }
        assertEquals("IN_PROGRESS",
                client.status(ctx(), "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44").path("status").asText());
        assertEquals(List.of("t1", "t2"), tokensSeen, "the refused token dropped, the call made once more");

        // refused again with a fresh token: not asked a third time; the fresh token is kept, as the
        // refusal is about the call (each later take would otherwise fetch two tokens to no end)
        synchronized (tokensSeen) {
            tokensSeen.clear();
            statusAnswers.add(403);
            statusAnswers.add(403);
        }
        GtfApiException e = assertThrows(GtfApiException.class,
                () -> client.status(ctx(), "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44"));
        assertEquals(403, e.httpStatus());
        assertEquals(List.of("t2", "t3"), tokensSeen);
        client.status(ctx(), "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44");
        assertEquals("t3", tokensSeen.get(2), "the token fetched for the retry is used again");
        assertEquals(3, issued.get());
    }

    @Test
    void aForbiddenWithAnotherCodeGetsNoFreshToken() {
        forbiddenCode = "903";
        synchronized (tokensSeen) {
            statusAnswers.add(403);
        }
        GtfApiException e = assertThrows(GtfApiException.class,
                () -> client.status(ctx(), "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44"));
        assertEquals(403, e.httpStatus());
        assertEquals(List.of("t1"), tokensSeen);
        assertEquals(1, issued.get());
    }

    @Test
    void theTokenEndpointsOwnForbiddenWithCode110IsNotMetWithAnotherFetch() {
        // the first attempt's token runs out during a back-off; fetching its successor is refused 403 110:
        // the bundle's credentials, not a token, were refused, so no second fetch follows at once
        expirySeconds = 2;
        synchronized (tokensSeen) {
            statusAnswers.add(429);
            statusAnswers.add(429);
        }
        synchronized (tokenAnswers) {
            tokenAnswers.add(200);
            tokenAnswers.add(403);
            tokenAnswers.add(403);
        }
        GtfApiException e = assertThrows(GtfApiException.class,
                () -> client.status(ctx(), "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44"));
        assertEquals("user-token", e.endpoint());
        assertEquals(403, e.httpStatus());
        assertEquals(2, tokenRequests.get());
    }
    @Test
    void aTokenThatCannotBeSentAsAHeaderIsNotKeptButAskedForAgain() {
        // CR/LF (a header injected), a space, a character outside Latin-1, one outside ASCII
        for (String odd : new String[] {"eyJ.a\\r\\nX-Injected: 1", "eyJ a.b", "eyJ.\\u20ac", "eyJ.\\u00e9"}) {
            synchronized (oddTokens) {
                oddTokens.add(odd);
            }
            int before = tokenRequests.get();
            TokenKey key = new TokenKey("PARTNER", "user-" + before, "PARTNER_USER_ID");
            CallContext ctx = new CallContext(key, UUID.randomUUID().toString(), UUID.randomUUID().toString());
            // asked again in place, like an answer cut off on the way; the call goes out with the good one
            assertEquals("IN_PROGRESS",
                    client.status(ctx, "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44").path("status").asText(), odd);
            assertEquals(before + 2, tokenRequests.get(), odd);
            assertTrue(client.tokens().get(key).value().matches("t[0-9]+"), odd);
        }
        synchronized (tokensSeen) {
            assertTrue(tokensSeen.stream().allMatch(t -> t.matches("t[0-9]+")), tokensSeen.toString());
        }
    }

    @Test
    void aTokenServerThatKeepsHandingOutSuchTokensIsAnOutageToItsCircuit() {
        CircuitBreaker breaker = new CircuitBreaker(3, Duration.ofMinutes(5));
        GtfSettings s = GtfClientTest.settings("http://127.0.0.1:" + server.getAddress().getPort(),
                Duration.ofMinutes(5), false);
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        GtfClient guarded = new GtfClient(s, new GtfHttp(java.net.http.HttpClient.newHttpClient(), json,
                s.retryMaxAttempts(), s.retryInitialDelay(), s.retryMaxDelay(), breaker, new RateLimiter(0)), json);
        synchronized (oddTokens) {
            for (int i = 0; i < 3; i++) {
                oddTokens.add("secret\\r\\ntoken");
            }
        }
        GtfApiException e = assertThrows(GtfApiException.class,
                () -> guarded.status(ctx(), "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44"));
        assertEquals("user-token", e.endpoint());
        assertEquals("UNUSABLE_TOKEN_IN_RESPONSE", e.errorCause());
        assertTrue(e.isTransient(), "counts as no answer: the input waits rather than fails");
        assertFalse(e.getMessage().contains("secret"), e.getMessage());
        assertEquals(3, tokenRequests.get(), "every attempt made");
        assertTrue(breaker.isOpen("user-token"), "three unusable answers in a row open the token endpoint's circuit");
        assertTrue(tokensSeen.isEmpty(), "nothing sent with it");
    }
}

package id.ktpbridge.gtf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Which token the details call sends (reference, open question 2): the one in use, then the other
 * when the details endpoint refuses it; a refusal by the token endpoint switches nothing.
 */
class DetailsTokenTest {

    private static final String PARTNER = "KTPBRIDGE-BE-KTP_SCAN";

    private final AtomicInteger userTokensIssued = new AtomicInteger();
    private final AtomicInteger partnerTokensIssued = new AtomicInteger();
    private final AtomicInteger detailsCalls = new AtomicInteger();
    private volatile boolean userTokenEndpointRefuses;
    /** The token value the details endpoint takes: "user" or "partner". */
    private volatile String detailsTakes = "user";
    /** The details endpoint wants x-partner-user-id and its type, as ESIGN's does. */
    private volatile boolean detailsNeedUser;
    /** The details endpoint refuses with 1550 for another missing or invalid parameter. */
    private volatile boolean detailsRefuseParams;
    private final java.util.List<String> detailsUsers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private HttpServer server;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v2/coe/authentication", ex -> {
            if (userTokenEndpointRefuses || !PARTNER.equals(ex.getRequestHeaders().getFirst("x-onboarding-partner"))) {
                TokenPerAttemptTest.send(ex, 401, "{\"success\":false,\"data\":null,\"errors\":[{\"code\":110,\"entity\":"
                        + "\"ONEKYC_TOKEN_SERVICE\",\"cause\":\"UNAUTHORIZED\"}]}");
                return;
            }
            userTokensIssued.incrementAndGet();
            TokenPerAttemptTest.send(ex, 200, token("user"));
        });
        server.createContext("/v1/coe/partner/authentication", ex -> {
            partnerTokensIssued.incrementAndGet();
            TokenPerAttemptTest.send(ex, 200, token("partner"));
        });
        server.createContext("/coe/v1/submissions", ex -> {
            detailsCalls.incrementAndGet();
            String user = ex.getRequestHeaders().getFirst("x-partner-user-id");
            if (detailsNeedUser && (user == null || ex.getRequestHeaders().getFirst("x-partner-user-id-type") == null)) {
                TokenPerAttemptTest.send(ex, 400, "{\"success\":false,\"data\":null,\"errors\":[{\"code\":1550,"
                        + "\"cause\":\"PARTNER_USER_ID_CAN_NOT_BE_EMPTY\"}]}");
                return;
            }
            if (detailsRefuseParams) {
                TokenPerAttemptTest.send(ex, 400, "{\"success\":false,\"data\":null,\"errors\":[{\"code\":1550,"
                        + "\"cause\":\"INVALID_REQUEST_PARAMS\"}]}");
                return;
            }
            detailsUsers.add(String.valueOf(user));
            if (!detailsTakes.equals(ex.getRequestHeaders().getFirst("x-onekyc-token"))) {
                TokenPerAttemptTest.send(ex, 403, "{\"success\":false,\"data\":null,\"errors\":[{\"code\":903,\"cause\":\"FORBIDDEN\"}]}");
                return;
            }
            TokenPerAttemptTest.send(ex, 200, "{\"success\":true,\"data\":{\"status\":\"COMPLETED\",\"submissionId\":\""
                    + ex.getRequestHeaders().getFirst("x-submission-id") + "\",\"result\":\"VALID\",\"reasonCode\":\"\"}}");
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void aRefusedUserTokenFetchDoesNotSwitchDetailsToThePartnerToken() {
        GtfClient client = client("user");
        userTokenEndpointRefuses = true;
        GtfApiException e;
        try (id.ktpbridge.testkit.LogCapture logs = new id.ktpbridge.testkit.LogCapture()) {
            e = assertThrows(GtfApiException.class, () -> client.details(ctx(), "sub-1"));
            org.junit.jupiter.api.Assertions.assertTrue(logs.text().contains("The token endpoint refused the bundle's"
                    + " credentials (HTTP 401): check gtf.client-id and gtf.pass-key"), logs.text());
        }
        assertEquals("user-token", e.endpoint());
        assertEquals(0, partnerTokensIssued.get(), "the details endpoint refused nothing: no partner token");
        assertEquals(0, detailsCalls.get());

        userTokenEndpointRefuses = false;
        assertEquals("VALID", client.details(ctx(), "sub-2").path("result").asText());
        assertEquals(0, partnerTokensIssued.get(), "the user token is still the one in use");
    }

    @Test
    void aUserTokenRefusedForAnotherOnboardingPartnerDoesNotPauseTheOthers() {
        GtfSettings s = settings("user");
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        // a refusal of the credentials pauses that token endpoint's fetches for the cool-down
        GtfClient client = new GtfClient(s, new GtfHttp(java.net.http.HttpClient.newHttpClient(), json,
                s.retryMaxAttempts(), s.retryInitialDelay(), s.retryMaxDelay(),
                new CircuitBreaker(Integer.MAX_VALUE, Duration.ofMinutes(1)), new RateLimiter(0)), json);
        // a row from before gtf.onboarding-partner was changed: its user token is refused
        CallContext old = new CallContext(new TokenKey("OLD-PARTNER", "u9", "PARTNER_USER_ID"),
                UUID.randomUUID().toString(), UUID.randomUUID().toString());
        assertEquals("user-token", assertThrows(GtfApiException.class, () -> client.details(old, "sub-0")).endpoint());

        // every other user's token is still fetched, at once
        assertEquals("VALID", client.details(ctx(), "sub-1").path("result").asText());
        assertEquals(1, userTokensIssued.get());
        // while the refused partner's is not asked again for now
        assertThrows(GtfApiException.class, () -> client.details(old, "sub-2"));
    }

    @Test
    void aDetailsEndpointAskingForTheUsersIdGetsItFromThenOn() {
        detailsNeedUser = true;
        GtfClient client = client("user");
        client.detailsUserHeaders("auto");

        assertEquals("VALID", client.details(ctx(), "sub-1").path("result").asText());
        assertEquals(2, detailsCalls.get(), "refused 1550 once, then asked again with the user's id");
        assertEquals("VALID", client.details(ctx(), "sub-2").path("result").asText());
        assertEquals(3, detailsCalls.get(), "sent with it from then on");
        assertEquals(java.util.List.of("u1", "u1"), detailsUsers);
    }

    @Test
    void a1550ForAnotherParameterDoesNotSendTheUsersIdFromThenOn() {
        GtfClient client = client("user");
        client.detailsUserHeaders("auto");
        detailsRefuseParams = true;
        GtfApiException e = assertThrows(GtfApiException.class, () -> client.details(ctx(), "sub-1"));
        assertEquals("1550", e.code());
        assertEquals(1, detailsCalls.get(), "not asked again with the user's id");

        detailsRefuseParams = false;
        assertEquals("VALID", client.details(ctx(), "sub-2").path("result").asText());
        assertEquals(java.util.List.of("null"), detailsUsers, "the user's id is not sent where it was not asked for");
    }

    @Test
    void theUsersIdIsNotSentOnDetailsUnlessAskedFor() {
        GtfClient client = client("user");
        assertEquals("VALID", client.details(ctx(), "sub-1").path("result").asText());
        assertEquals(java.util.List.of("null"), detailsUsers, "the COE page's headers only");

        // by default (never) a refusal asking for it does not change that
        detailsNeedUser = true;
        GtfApiException e = assertThrows(GtfApiException.class, () -> client.details(ctx(), "sub-2"));
        assertEquals("1550", e.code());
        assertEquals(2, detailsCalls.get(), "not asked again with the user's id");

        GtfClient always = client("user");
        always.detailsUserHeaders("always");
        assertEquals("VALID", always.details(ctx(), "sub-3").path("result").asText());
    }

    @Test
    void aConfiguredPartnerTokenTheDetailsEndpointRefusesGivesWayToTheUserToken() {
        GtfClient client = client("partner");
        assertEquals("VALID", client.details(ctx(), "sub-1").path("result").asText());
        assertEquals(1, partnerTokensIssued.get());
        assertEquals(1, userTokensIssued.get());

        int before = detailsCalls.get();
        assertEquals("VALID", client.details(ctx(), "sub-2").path("result").asText());
        assertEquals(before + 1, detailsCalls.get(), "the user token goes first from now on");

        // and back again when the endpoint changes its mind
        detailsTakes = "partner";
        assertEquals("VALID", client.details(ctx(), "sub-3").path("result").asText());
        before = detailsCalls.get();
        assertEquals("VALID", client.details(ctx(), "sub-4").path("result").asText());
        assertEquals(before + 1, detailsCalls.get());
    }

    private GtfClient client(String tokenSource) {
        return GtfClientTest.client(settings(tokenSource));
    }

    private GtfSettings settings(String tokenSource) {
        String base = "http://127.0.0.1:" + server.getAddress().getPort();
        GtfSettings s = new GtfSettings(base, base, "client", "pass-key", PARTNER, "/v2/coe/authentication",
                "/v1/coe/partner/authentication", "/coe/v1/submissions/urls", "/coe/v1/submissions/urls",
                "/coe/v1/submissions/{submissionId}/status", "/coe/v1/submissions", "KTP_SCAN", "KTP_FRONT",
                tokenSource, Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10),
                Duration.ofMinutes(5), 100, 1, Duration.ofMillis(20), Duration.ofMillis(200), false, false);
        return s;
    }

    private static CallContext ctx() {
        return new CallContext(new TokenKey(PARTNER, "u1", "PARTNER_USER_ID"), UUID.randomUUID().toString(),
                UUID.randomUUID().toString());
    }

    private static String token(String value) {
        long now = System.currentTimeMillis() / 1000;
        return "{\"success\":true,\"data\":{\"token\":\"" + value + "\",\"expiry_seconds\":\"3600\",\"expires_at\":\""
                + (now + 3600) + "\"}}";
    }
}

package id.ktpbridge.gtf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A token server whose clock runs an hour ahead: its {@code expires_at} promises an hour, its
 * {@code expiry_seconds} two seconds. The client keeps the token for the shorter of the two.
 */
class TokenClockTest {

    private final AtomicInteger issued = new AtomicInteger();
    private HttpServer server;
    private GtfClient client;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v2/coe/authentication", ex -> {
            long serverNow = System.currentTimeMillis() / 1000 + 3600;
            byte[] body = ("{\"success\":true,\"data\":{\"token\":\"t" + issued.incrementAndGet()
                    + "\",\"expiry_seconds\":\"2\",\"expires_at\":\"" + (serverNow + 2) + "\"},\"errors\":[]}")
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        String url = "http://127.0.0.1:" + server.getAddress().getPort();
        GtfSettings s = new GtfSettings(url, url, "client", "key", "PARTNER", "/v2/coe/authentication",
                "/v1/coe/partner/authentication", "/coe/v1/submissions/urls", "/coe/v1/submissions/urls",
                "/coe/v1/submissions/{submissionId}/status", "/coe/v1/submissions", "KTP_SCAN", "KTP_FRONT", "user",
                Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofMinutes(5), 100, 2,
                Duration.ofMillis(20), Duration.ofMillis(100), false);
        ObjectMapper json = new ObjectMapper();
        client = new GtfClient(s, new GtfHttp(HttpClient.newHttpClient(), json, 2, Duration.ofMillis(20),
                Duration.ofMillis(100)), json);
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void theShorterOfExpiresAtAndExpirySecondsDecides() throws Exception {
        TokenKey key = new TokenKey("PARTNER", "user-1", "PARTNER_USER_ID");
        String first = client.withToken(key, t -> t.get());
        assertEquals(first, client.withToken(key, t -> t.get()), "reused while fresh");
        Thread.sleep(2_100); // past the two seconds expiry_seconds gave, far from the hour expires_at claims
        assertNotEquals(first, client.withToken(key, t -> t.get()));
        assertEquals(2, issued.get());
    }
}

package id.ktpbridge.gtf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

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
        client = GtfClientTest.client("http://127.0.0.1:" + server.getAddress().getPort(), Duration.ofMinutes(5));
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

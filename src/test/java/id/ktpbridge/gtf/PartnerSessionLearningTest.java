package id.ktpbridge.gtf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import id.ktpbridge.testkit.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A OneKYC that takes x-partner-session-id as unique per call (ESIGN's reading: a repeat is
 * refused as DUPLICATE_PARTNER_SESSION_ID): the client learns it from the first refusal.
 */
class PartnerSessionLearningTest {

    private HttpServer server;
    private final Set<String> seen = new HashSet<>();
    private final List<String> sent = new ArrayList<>();
    private int refusals;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::answer);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private synchronized void answer(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String body;
        int status = 200;
        if (path.startsWith("/v2/coe/authentication")) {
            body = "{\"success\":true,\"data\":{\"token\":\"t-1\",\"expiry_seconds\":\"3600\"}}";
        } else {
            String session = ex.getRequestHeaders().getFirst("x-partner-session-id");
            if (session != null) {
                sent.add(path + " " + session);
            }
            if (session != null && !seen.add(session)) {
                refusals++;
                status = 400;
                body = "{\"success\":false,\"errors\":[{\"code\":\"1653\",\"cause\":\"DUPLICATE_PARTNER_SESSION_ID\"}]}";
            } else if (path.endsWith("/urls") && "GET".equals(ex.getRequestMethod())) {
                body = "{\"success\":true,\"data\":{\"submissionId\":\"s-1\",\"status\":\"INITIATED\",\"documents\":"
                        + "{\"KTP_FRONT\":{\"documentUrl\":\"http://127.0.0.1/upload\",\"expiryInSeconds\":\"600\"}}}}";
            } else if (path.endsWith("/status")) {
                body = "{\"success\":true,\"data\":{\"submissionId\":\"s-1\",\"status\":\"IN_PROGRESS\"}}";
            } else {
                body = "{\"success\":true,\"data\":{\"submissionId\":\"s-1\"}}";
            }
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Test
    void aRepeatedSessionIdRefusedAsDuplicateSwitchesToOnePerCall() {
        String base = "http://127.0.0.1:" + server.getAddress().getPort();
        GtfClient client = GtfClientTest.client(GtfClientTest.settings(base, Duration.ofMinutes(5), false));
        CallContext ctx = new CallContext(new TokenKey("KTPBRIDGE-BE-KTP_SCAN", "u1", "PARTNER_USER_ID"),
                UUID.randomUUID().toString(), UUID.randomUUID().toString());
        assertFalse(client.partnerSessionPerCall(), "one per submission by default");
        try (LogCapture log = new LogCapture()) {
            client.presign(ctx);
            client.confirm(ctx, "s-1", null);
            client.status(ctx, "s-1");
            client.status(ctx, "s-1");
            assertTrue(log.text().contains("refused a repeated x-partner-session-id"), log.text());
        }
        assertTrue(client.partnerSessionPerCall());
        assertEquals(1, refusals, "refused once (the confirm), then every call had an id of its own: " + sent);
        assertEquals(5, sent.size(), sent.toString());
    }
}

package id.ktpbridge.gtf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A presign answer is not trusted blindly: its submission id names result files and S3 keys and
 * goes into headers, so one with anything but letters, digits, '-' and '_' fails the input.
 */
class PresignAnswerTest {

    private HttpServer server;
    private volatile String submissionId;
    /** When set, the presign answer's data as it is. */
    private volatile String presignData;
    /** When set, the token answer's data as it is. */
    private volatile String tokenData;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            String data = ex.getRequestURI().getPath().contains("authentication")
                    ? tokenData != null ? tokenData : "{\"token\":\"t-1\",\"expiry_seconds\":300}"
                    : presignData != null ? presignData : "{\"submissionId\":\"" + submissionId + "\",\"documents\":{\"KTP_FRONT\":{\"documentUrl\":"
                            + "\"http://127.0.0.1/upload\",\"expiryInSeconds\":300}}}";
            byte[] body = ("{\"success\":true,\"data\":" + data + ",\"errors\":null}").getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void aSubmissionIdThatIsNotAPlainNameIsRefused() {
        GtfClient client = GtfClientTest.client("http://127.0.0.1:" + server.getAddress().getPort(),
                Duration.ofSeconds(30));
        CallContext ctx = new CallContext(new TokenKey("P", "u1", "PARTNER_USER_ID"), UUID.randomUUID().toString(),
                UUID.randomUUID().toString());
        submissionId = "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44";
        assertEquals(submissionId, client.presign(ctx).submissionId());
        for (String hostile : new String[] {"../../etc/x", "sub/inner", "a b", "x\\r\\nX-Injected: 1"}) {
            submissionId = hostile;
            GtfApiException e = assertThrows(GtfApiException.class, () -> client.presign(ctx), hostile);
            assertEquals("SUBMISSION_ID_NOT_USABLE", e.errorCause());
            assertFalse(e.isTransient());
        }
    }

    @Test
    void anAnswerWithoutItsSubmissionIdOrTokenCountsAsNoAnswerAndIsAskedAgain() {
        GtfClient client = GtfClientTest.client("http://127.0.0.1:" + server.getAddress().getPort(),
                Duration.ofSeconds(30));
        CallContext ctx = new CallContext(new TokenKey("P", "u2", "PARTNER_USER_ID"), UUID.randomUUID().toString(),
                UUID.randomUUID().toString());
        for (String answer : new String[] {"{}", "null", "{\"status\":\"INITIATED\"}"}) {
            presignData = answer;
            GtfApiException e = assertThrows(GtfApiException.class, () -> client.presign(ctx), answer);
            assertEquals(GtfApiException.NO_SUBMISSION_ID, e.errorCause());
            assertTrue(e.isTransient(), answer + " is read as an answer that did not arrive whole");
        }
        // a submission without a place to upload to: handed on with no documents, for the submit step to
        // judge after its status (Submitter); failing it there is not asked again, as each presign could
        // leave another submission behind
        for (String answer : new String[] {"{\"submissionId\":\"3f1c2a9e\",\"documents\":{}}",
                "{\"submissionId\":\"3f1c2a9e\"}"}) {
            presignData = answer;
            assertTrue(client.presign(ctx).documents().isEmpty(), answer);
        }
        assertFalse(new GtfApiException("presign", 200, null, GtfApiException.NO_DOCUMENTS).isTransient());
        presignData = null;
        tokenData = "{\"expiry_seconds\":300}";
        CallContext other = new CallContext(new TokenKey("P", "u3", "PARTNER_USER_ID"), UUID.randomUUID().toString(),
                UUID.randomUUID().toString());
        GtfApiException e = assertThrows(GtfApiException.class, () -> client.presign(other));
        assertEquals(GtfApiException.NO_TOKEN, e.errorCause());
        assertTrue(e.isTransient());
        // a slot without its upload URL (Submitter's check) as one without documents
        assertFalse(new GtfApiException("presign", 200, null, GtfApiException.NO_DOCUMENT_URL).isTransient());
    }
}

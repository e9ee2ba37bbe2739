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
    /** Presign answers' data given before {@link #presignData}, each once. */
    private final java.util.Queue<String> nextPresignData = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicInteger presigns = new java.util.concurrent.atomic.AtomicInteger();

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            boolean token = ex.getRequestURI().getPath().contains("authentication");
            String next = token ? null : nextPresignData.poll();
            if (!token) {
                presigns.incrementAndGet();
            }
            String data = token
                    ? tokenData != null ? tokenData : "{\"token\":\"t-1\",\"expiry_seconds\":300}"
                    : next != null ? next
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
        // judge after its status (Submitter, in the call through presign's usable); failing it there is
        // not asked again, as each presign could leave another submission behind
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

    @Test
    void aPresignAnswerThatCannotBeUsedIsObservedAsWhatItCountsAsAndAskedAgainInTheCall() {
        GtfClient client = GtfClientTest.client("http://127.0.0.1:" + server.getAddress().getPort(),
                Duration.ofSeconds(30));
        java.util.List<Integer> observed = new java.util.concurrent.CopyOnWriteArrayList<>();
        client.http().observer((endpoint, status, nanos) -> {
            if (endpoint.equals("presign")) {
                observed.add(status);
            }
        });
        CallContext ctx = new CallContext(new TokenKey("P", "u4", "PARTNER_USER_ID"), UUID.randomUUID().toString(),
                UUID.randomUUID().toString());
        submissionId = "3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44";
        // one without its submission id, then a whole one: as the token endpoint's answer without its
        // token, it is no answer to the metrics and asked again with the back-off in the same call
        nextPresignData.add("{\"status\":\"INITIATED\"}");
        assertEquals(submissionId, client.presign(ctx).submissionId());
        assertEquals(2, presigns.get());
        assertEquals(java.util.List.of(0, 200), observed);

        // every attempt so: each one observed, and the call's attempts used up (3)
        observed.clear();
        presigns.set(0);
        presignData = "{}";
        GtfApiException e = assertThrows(GtfApiException.class, () -> client.presign(ctx));
        assertEquals(GtfApiException.NO_SUBMISSION_ID, e.errorCause());
        assertTrue(e.isTransient());
        assertEquals(3, presigns.get());
        assertEquals(java.util.List.of(0, 0, 0), observed);

        // a submission id that cannot be taken: refused, counted as the refusal (400) it is, not asked again
        observed.clear();
        presigns.set(0);
        presignData = null;
        submissionId = "../../etc/x";
        e = assertThrows(GtfApiException.class, () -> client.presign(ctx));
        assertEquals("SUBMISSION_ID_NOT_USABLE", e.errorCause());
        assertEquals(1, presigns.get());
        assertEquals(java.util.List.of(400), observed);
    }
}

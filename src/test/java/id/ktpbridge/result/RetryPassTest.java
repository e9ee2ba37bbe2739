package id.ktpbridge.result;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.NewInput;
import id.ktpbridge.ledger.SchemaMigrator;
import id.ktpbridge.ledger.SubmissionState;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.http.base.HttpOperationFailedException;
import org.apache.camel.impl.DefaultCamelContext;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** Which failures end a retry pass: a target that is down, not one that answered about a single document. */
class RetryPassTest {

    private JdbcConnectionPool ds;
    private Ledger ledger;
    private DeliveryStore store;
    private DefaultCamelContext camel;
    private Outbox outbox;
    /** The target is unreachable while true. */
    private volatile boolean down;
    /** Documents the target answers 500 to, every time. */
    private final Set<String> poison = ConcurrentHashMap.newKeySet();
    private final List<String> attempted = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        ds = JdbcConnectionPool.create("jdbc:h2:mem:retry-pass-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "");
        SchemaMigrator.migrate(ds);
        ledger = new Ledger(ds);
        store = new DeliveryStore(ds);
        camel = new DefaultCamelContext();
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from(Outbox.DELIVER_ENDPOINT).process(e -> {
                    String id = e.getMessage().getHeader(ResultPublisher.LEDGER_ID, String.class);
                    attempted.add(id);
                    if (down) {
                        throw new ConnectException("Connection refused");
                    }
                    if (poison.contains(id)) {
                        throw http(500);
                    }
                });
            }
        });
        camel.start();
        // no back-off: every failed delivery is due again at once, ahead of newer ones
        outbox = new Outbox(store, ledger, camel.createProducerTemplate(), List.of("http"), Duration.ZERO,
                Duration.ZERO, 10, Duration.ofMinutes(5));
    }

    @AfterEach
    void tearDown() throws Exception {
        camel.stop();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("SHUTDOWN");
        }
        ds.dispose();
    }

    @Test
    void documentsTheTargetKeepsFailingDoNotHoldUpTheOthers() {
        down = true;
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            bad.add(publish());
        }
        String good1 = publish();
        String good2 = publish();
        poison.addAll(bad);
        down = false;

        // the oldest due rows are the three the target answers 500 to: the pass goes on past them
        outbox.retryDue();
        assertEquals(DeliveryStore.DELIVERED, store.state(good1, "http"));
        assertEquals(DeliveryStore.DELIVERED, store.state(good2, "http"));
        for (String id : bad) {
            assertEquals(DeliveryStore.PENDING, store.state(id, "http"), "kept for a later try");
        }

        // and a 500 does not hold new results back from their immediate attempt
        attempted.clear();
        poison.add(publish());
        String next = publish();
        assertTrue(attempted.contains(next), attempted.toString());
        assertEquals(DeliveryStore.DELIVERED, store.state(next, "http"));
    }

    @Test
    void aTargetThatIsDownEndsThePassAtItsFirstAttempt() {
        down = true;
        for (int i = 0; i < 3; i++) {
            publish();
        }
        attempted.clear();
        // every row is due (no back-off); one attempt finds the target down, the others keep their turn
        outbox.retryDue();
        assertEquals(1, attempted.size(), attempted.toString());
    }

    @Test
    void downIsAnythingButAServerErrorAboutOneDocument() {
        // no answer, busy, or wrong address or credentials: every document would meet the same
        for (int code : new int[] {301, 308, 401, 403, 404, 408, 429, 502, 503, 504}) {
            assertTrue(Outbox.targetDown(http(code)), "HTTP " + code);
        }
        // a server error about this one document
        for (int code : new int[] {500, 501}) {
            assertFalse(Outbox.targetDown(http(code)), "HTTP " + code);
        }
        assertTrue(Outbox.targetDown(new IOException("Read timed out")));
        assertTrue(Outbox.targetDown(new RuntimeException(new java.sql.SQLTransientConnectionException("gone"))));
        assertTrue(Outbox.targetDown(S3Exception.builder().statusCode(503).build()));
        assertTrue(Outbox.targetDown(S3Exception.builder().statusCode(403).build()));
        // the answer is found under Camel's wrapping
        assertFalse(Outbox.targetDown(new org.apache.camel.CamelExecutionException("wrapped", null, http(500))));
    }

    /** Stores a result for a new ledger row and delivers it as the publisher does. */
    private String publish() {
        String id = UUID.randomUUID().toString();
        ledger.insert(new NewInput(id, "FILE", "/in/" + id, id + ".png", "ab".repeat(32), 10L, "image/png",
                "partner-a", "user-" + id, "PARTNER_USER_ID", UUID.randomUUID().toString(),
                UUID.randomUUID().toString(), "{}"), SubmissionState.FAILED);
        List<String> queued = new ArrayList<>();
        assertTrue(ledger.recordResult(id, "FAILED", null, "TEST", 1L, "{\"ledgerId\":\"" + id + "\"}",
                c -> queued.addAll(outbox.enqueue(c, id))));
        outbox.deliverNow(id, "local-" + id, "FAILED", "{}", queued);
        return id;
    }

    private static HttpOperationFailedException http(int code) {
        return new HttpOperationFailedException("http://partner.test/results", code, "status " + code, null, null, "");
    }
}

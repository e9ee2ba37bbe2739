package id.ktpbridge.result;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
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

/** The outbox's decisions, against a target route that fails on demand. */
class OutboxTest {

    private JdbcConnectionPool ds;
    private Ledger ledger;
    private DeliveryStore store;
    private DefaultCamelContext camel;
    private Outbox outbox;
    /** What the target does next: null = take it, else throw this. */
    private volatile Exception answer;
    private final List<String> attempted = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        ds = JdbcConnectionPool.create("jdbc:h2:mem:outbox-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "");
        SchemaMigrator.migrate(ds);
        ledger = new Ledger(ds);
        store = new DeliveryStore(ds);
        camel = new DefaultCamelContext();
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from(Outbox.DELIVER_ENDPOINT).process(e -> {
                    attempted.add(e.getMessage().getHeader(ResultPublisher.LEDGER_ID, String.class));
                    if (answer != null) {
                        throw answer;
                    }
                });
            }
        });
        camel.start();
        outbox = new Outbox(store, ledger, camel.createProducerTemplate(), List.of("http"), Duration.ofMinutes(1),
                Duration.ofMinutes(1), 10, Duration.ofMinutes(5));
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
    void whileATargetIsFailingNewResultsGoToTheRetryScheduleInsteadOfTheWorkerThread() {
        answer = new IOException("connect timed out");
        String first = publish();
        assertEquals(List.of(first), attempted, "the first result is tried at once");

        String second = publish();
        assertEquals(List.of(first), attempted, "the second is not tried on the publishing thread");
        assertEquals(DeliveryStore.PENDING, store.state(second, "http"));

        // the retry schedule takes it at once, and its success ends the failing spell
        answer = null;
        outbox.retryDue();
        assertEquals(List.of(first, second), attempted);
        assertEquals(DeliveryStore.DELIVERED, store.state(second, "http"));
        String third = publish();
        assertEquals(List.of(first, second, third), attempted, "tried at once again");
        assertEquals(DeliveryStore.DELIVERED, store.state(third, "http"));
    }

    @Test
    void credentialsAndAddressErrorsAreRetriedOtherClientErrorsRefused() {
        for (int code : new int[] {401, 403, 404, 408, 425, 429, 500, 503}) {
            assertFalse(Outbox.isPermanent(http(code)), "HTTP " + code + " is retried");
        }
        for (int code : new int[] {400, 410, 413, 415, 422}) {
            assertTrue(Outbox.isPermanent(http(code)), "HTTP " + code + " is final");
        }
        assertFalse(Outbox.isPermanent(new IOException("reset")));
        assertTrue(Outbox.isPermanent(new PermanentDeliveryFailure("no such bucket")));

        answer = http(401);
        String retried = publish();
        assertEquals(DeliveryStore.PENDING, store.state(retried, "http"));
    }

    @Test
    void aConflictMeansTheReceiverAlreadyHasIt() {
        answer = http(409);
        String id = publish();
        assertEquals(DeliveryStore.DELIVERED, store.state(id, "http"));
    }

    @Test
    void aRefusalIsFinal() {
        answer = http(422);
        String id = publish();
        assertEquals(DeliveryStore.REFUSED, store.state(id, "http"));
    }

    /** Stores a result for a new ledger row and delivers it as the publisher does. */
    private String publish() {
        String id = UUID.randomUUID().toString();
        ledger.insert(new NewInput(id, "FILE", "/in/" + id, id + ".png", "ab".repeat(32), 10L, "image/png",
                "partner-a", "user-" + id, "PARTNER_USER_ID", UUID.randomUUID().toString(),
                UUID.randomUUID().toString(), "{}"), SubmissionState.FAILED);
        List<String> queued = new java.util.ArrayList<>();
        assertTrue(ledger.recordResult(id, "FAILED", null, "TEST", 1L, "{\"ledgerId\":\"" + id + "\"}",
                c -> queued.addAll(outbox.enqueue(c, id))));
        outbox.deliverNow(id, "local-" + id, "FAILED", "{}", queued);
        return id;
    }

    private static HttpOperationFailedException http(int code) {
        return new HttpOperationFailedException("http://partner.test/results", code, "status " + code, null, null,
                "{\"input\":{\"nik\":\"3201010101010001\"}}");
    }
}

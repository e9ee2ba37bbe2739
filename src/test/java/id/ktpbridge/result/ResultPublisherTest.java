package id.ktpbridge.result;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import id.ktpbridge.collect.Collector;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerException;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.NewInput;
import id.ktpbridge.ledger.SchemaMigrator;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.testkit.LogCapture;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Storing a result: the ledger's columns get OneKYC's values without a NUL (PostgreSQL refuses it
 * in text), and a result whose flush fails after its store committed is still delivered at once,
 * not reported as lost.
 */
class ResultPublisherTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private JdbcConnectionPool ds;
    /** What the next flush throws; null: it works. */
    private volatile LedgerException flushFails;
    private Ledger ledger;
    private DefaultCamelContext camel;
    private Outbox outbox;
    private ResultPublisher publisher;
    /** Ledger ids the target was handed. */
    private final List<String> delivered = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        ds = JdbcConnectionPool.create("jdbc:h2:mem:publisher-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "");
        SchemaMigrator.migrate(ds);
        ledger = new Ledger(ds) {
            @Override
            public void flush() {
                LedgerException failure = flushFails;
                if (failure != null) {
                    throw failure;
                }
                super.flush();
            }
        };
        camel = new DefaultCamelContext();
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from(Outbox.DELIVER_ENDPOINT).process(e -> delivered.add(
                        e.getMessage().getHeader(ResultPublisher.LEDGER_ID, String.class)));
            }
        });
        camel.start();
        outbox = new Outbox(new DeliveryStore(ds), ledger, camel.createProducerTemplate(), List.of("http"),
                Duration.ofMinutes(1), Duration.ofMinutes(1), 10, Duration.ofMinutes(5));
        publisher = new ResultPublisher(ledger, JSON, outbox);
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
    void aReasonCodeOrResultWithANulIsStoredWithoutIt() {
        LedgerRecord r = confirmedRow();
        ObjectNode details = finalDetails(r);
        details.put("result", "INVA\u0000LID");
        details.put("reasonCode", "NOT_\u0000EKTP");

        publisher.publishOutcome(r, details, Collector.VIA_CALLBACK);

        LedgerRecord stored = ledger.findById(r.id()).orElseThrow();
        assertEquals("NOT_EKTP", stored.reasonCode());
        assertEquals("INVALID", stored.result());
        assertEquals(List.of(r.id()), delivered);
    }

    @Test
    void aResultWhoseFlushFailsForGoodAfterItsStoreIsDeliveredAtOnceAsOneKycStatedIt() {
        assertDeliveredDespiteTheFlush(new LedgerException(new SQLException("a ledger statement or transaction has"
                + " been in progress for more than 60 s: the ledger cannot be flushed")));
    }

    @Test
    void aResultWhoseFlushFailsForNowAfterItsStoreIsDeliveredAtOnceNotPublishedAgain() {
        assertDeliveredDespiteTheFlush(new LedgerException(new SQLTransientConnectionException("connection lost")));
    }

    /** A callback's final record, collected while the ledger's flush fails with {@code failure}. */
    private void assertDeliveredDespiteTheFlush(LedgerException failure) {
        LedgerRecord r = confirmedRow();
        Collector collector = new Collector(ledger, null, publisher, Duration.ofSeconds(1), 2, Duration.ofMillis(1));
        flushFails = failure;
        try (LogCapture log = new LogCapture()) {
            assertTrue(collector.collect(r, Collector.VIA_CALLBACK, finalDetails(r)));

            assertEquals(List.of(r.id()), delivered, "delivered at once, not after the delivery lease");
            assertEquals(DeliveryStore.DELIVERED, outbox.store().state(r.id(), "http"));
            LedgerRecord stored = ledger.findById(r.id()).orElseThrow();
            assertEquals("COMPLETED", stored.resultStatus(), "OneKYC's outcome, not RESULT_NOT_STORED");
            assertEquals("VALID", stored.result());
            assertEquals(1, log.count("could not flush it to disk yet"), log.text());
            assertFalse(log.text().contains("could not be stored"), log.text());
            assertFalse(log.text().contains("already has a result"), log.text());
            assertFalse(log.text().contains("could not be delivered"), log.text());
        }
    }

    private LedgerRecord confirmedRow() {
        String id = UUID.randomUUID().toString();
        ledger.insert(new NewInput(id, "FILE", "/in/" + id, id + ".png", "ab".repeat(32), 10L, "image/png",
                "partner-a", "user-" + id, "PARTNER_USER_ID", UUID.randomUUID().toString(),
                UUID.randomUUID().toString(), "{}"), SubmissionState.RECEIVED);
        ledger.markUploaded(id, UUID.randomUUID().toString(), UUID.randomUUID().toString(),
                UUID.randomUUID().toString(), null, null);
        long now = System.currentTimeMillis();
        ledger.markConfirmed(id, now, now + 60_000, now + 600_000);
        return ledger.findById(id).orElseThrow();
    }

    private static ObjectNode finalDetails(LedgerRecord r) {
        ObjectNode details = JSON.createObjectNode();
        details.put("submissionId", r.submissionId());
        details.put("status", "COMPLETED");
        details.put("result", "VALID");
        return details;
    }
}

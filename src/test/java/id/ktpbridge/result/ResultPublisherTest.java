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
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import id.ktpbridge.collect.Collector;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerException;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.LedgerRetries;
import id.ktpbridge.ledger.NewInput;
import id.ktpbridge.ledger.SchemaMigrator;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.ops.BridgeMetrics;
import id.ktpbridge.ops.LedgerSnapshot;
import id.ktpbridge.testkit.IdleGtfClient;
import id.ktpbridge.testkit.LogCapture;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.h2.api.ErrorCode;
import org.h2.jdbcx.JdbcConnectionPool;
import org.h2.message.DbException;
import org.h2.mvstore.DataUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Storing a result: the ledger's columns get OneKYC's values without a NUL (PostgreSQL refuses it
 * in text), and a result whose flush fails after its store committed is still delivered at once,
 * not reported as lost, unless the flush found H2's file failing: then the commit may be gone, and
 * the result waits.
 */
class ResultPublisherTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private JdbcConnectionPool ds;
    /** What the next flush throws; null: it works. */
    private volatile LedgerException flushFails;
    /** How many result writes to come commit and then fail, as when the commit's reply is lost. */
    private final AtomicInteger repliesLost = new AtomicInteger();
    private Ledger ledger;
    private DefaultCamelContext camel;
    private Outbox outbox;
    private ResultPublisher publisher;
    private SimpleMeterRegistry meters;
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

            @Override
            public boolean recordResult(String id, String resultStatus, String result, String reasonCode,
                                        Long completedAt, String resultJson, Long claimToken,
                                        InTransaction alsoInTransaction) {
                return replyLost(super.recordResult(id, resultStatus, result, reasonCode, completedAt, resultJson,
                        claimToken, alsoInTransaction));
            }

            @Override
            public boolean recordVerdict(String id, String resultStatus, String reasonCode, Long completedAt,
                                         String resultJson, long claimToken, InTransaction alsoInTransaction) {
                return replyLost(super.recordVerdict(id, resultStatus, reasonCode, completedAt, resultJson, claimToken,
                        alsoInTransaction));
            }

            private boolean replyLost(boolean stored) {
                if (repliesLost.getAndDecrement() > 0) {
                    throw new LedgerException(new SQLTransientConnectionException("connection lost"));
                }
                return stored;
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
        meters = new SimpleMeterRegistry();
        publisher.metrics(new BridgeMetrics(meters, new LedgerSnapshot(camel, ledger, outbox.store(),
                Duration.ofMinutes(1), Duration.ofMinutes(1)), IdleGtfClient.create(), List.of("FILE"), List.of("http")));
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

    @Test
    void aResultWhoseFlushFindsTheLedgerClosedAfterAFailedWriteIsNotDelivered() {
        // H2 closed the database after a write to its file failed: the commit may be gone
        assertNotDeliveredWhileTheFileFails(new LedgerException(
                DbException.get(ErrorCode.DATABASE_IS_CLOSED).getSQLException()));
    }

    @Test
    void aResultWhoseFlushCannotWriteTheLedgersFileIsNotDelivered() {
        // CHECKPOINT SYNC on a full disk
        assertNotDeliveredWhileTheFileFails(new LedgerException(DbException.convert(DataUtils.newMVStoreException(
                DataUtils.ERROR_WRITING_FAILED, "Writing to {0} failed", "async:/data/ledger.mv.db",
                new java.io.IOException("No space left on device"))).getSQLException()));
    }

    @Test
    void aResultWhoseCommitsReplyIsLostIsCountedAndDeliveredAtOnceByTheTryAgain() {
        LedgerRecord r = confirmedRow();
        // the ledger retries as the collector makes them: each try builds its document anew
        Collector collector = new Collector(ledger, null, publisher, Duration.ofSeconds(1), 2, Duration.ofMillis(1));
        repliesLost.set(1);
        try (LogCapture log = new LogCapture()) {
            assertTrue(collector.collect(r, Collector.VIA_CALLBACK, finalDetails(r)));

            assertFinishedOnce(r, "COMPLETED", log);
            assertEquals("VALID", ledger.findById(r.id()).orElseThrow().result());
        }
    }

    @Test
    void aVerdictWhoseCommitsReplyIsLostIsCountedAndDeliveredAtOnceByTheTryAgain() {
        LedgerRecord r = confirmedRow();
        long claim = ledger.claim(r.id(), Collector.VIA_POLL);
        repliesLost.set(1);
        boolean[] stored = {false};
        try (LogCapture log = new LogCapture()) {
            // as the poller's verdict is tried again (Collector.publishClaimed); its document is dated
            // anew by each try, so the second is not the text the first stored
            LedgerRetries.run(() -> stored[0] = publisher.publishVerdict(r, ResultStatus.TIMED_OUT, "POLL_DEADLINE",
                    "no outcome by the deadline", claim), 2, 5, (e, wait) -> { });

            assertTrue(stored[0], "the verdict is stored: its caller must not take it for refused");
            assertFinishedOnce(r, "TIMED_OUT", log);
        }
    }

    @Test
    void aTryAgainLeavesADeliveryTheRetryScheduleHasTakenMeanwhileToIt() {
        LedgerRecord r = confirmedRow();
        long claim = ledger.claim(r.id(), Collector.VIA_POLL);
        repliesLost.set(1);
        boolean[] stored = {false};
        LedgerRetries.run(() -> stored[0] = publisher.publishVerdict(r, ResultStatus.TIMED_OUT, "POLL_DEADLINE",
                "no outcome by the deadline", claim), 2, 5, (e, wait) -> {
                    // between the tries, the retry schedule takes the row under a lease of its own
                    try (Connection c = ds.getConnection(); var ps = c.prepareStatement(
                            "UPDATE ktp_delivery SET next_attempt_at = ? WHERE ledger_id = ?")) {
                        ps.setLong(1, System.currentTimeMillis() + Duration.ofMinutes(10).toMillis());
                        ps.setString(2, r.id());
                        assertEquals(1, ps.executeUpdate());
                    } catch (SQLException failed) {
                        throw new IllegalStateException(failed);
                    }
                });

        assertTrue(stored[0]);
        assertEquals(List.of(), delivered, "not sent alongside the schedule's attempt");
        assertEquals(DeliveryStore.PENDING, outbox.store().state(r.id(), "http"));
        assertEquals(1.0, meters.get("ktp_inputs").tag("source", "FILE").tag("outcome", "TIMED_OUT").counter().count());
    }

    /** Counted once, delivered at once (the lease is 5 min), and not reported as someone else's. */
    private void assertFinishedOnce(LedgerRecord r, String status, LogCapture log) {
        assertEquals(List.of(r.id()), delivered, "delivered at once, not after the delivery lease");
        assertEquals(DeliveryStore.DELIVERED, outbox.store().state(r.id(), "http"));
        assertEquals(status, ledger.findById(r.id()).orElseThrow().resultStatus());
        assertEquals(1.0, meters.get("ktp_inputs").tag("source", "FILE").tag("outcome", status).counter().count(),
                "ktp_inputs_total counts it once");
        assertEquals(1, log.count("stored by an earlier try whose reply was lost"), log.text());
        assertFalse(log.text().contains("already has a result"), log.text());
        assertFalse(log.text().contains("could not be delivered"), log.text());
    }

    /**
     * A callback's final record, collected while the ledger's file fails ({@code failure} at every
     * flush): not delivered, not counted, and the collector sees the failure (its claim goes stale).
     * Once the file can be written, a try again that finds this very result stored delivers it.
     */
    private void assertNotDeliveredWhileTheFileFails(LedgerException failure) {
        assertTrue(failure.isStoreFailure(), failure.getMessage());
        LedgerRecord r = confirmedRow();
        Collector collector = new Collector(ledger, null, publisher, Duration.ofSeconds(1), 2, Duration.ofMillis(1));
        flushFails = failure;
        try (LogCapture log = new LogCapture()) {
            collector.collect(r, Collector.VIA_CALLBACK, finalDetails(r));

            assertEquals(List.of(), delivered, "no target gets a result the ledger may have lost");
            assertEquals(DeliveryStore.PENDING, outbox.store().state(r.id(), "http"));
            assertEquals(0.0, meters.find("ktp_inputs").counters().stream().mapToDouble(c -> c.count()).sum(),
                    "not counted yet");
            assertTrue(log.count("is not delivered: the ledger's file could not be written") >= 1, log.text());
            assertEquals(0, log.count("delivered all the same"), log.text());
            assertEquals(0, log.count("could not be stored"), log.text());
            // tried again and then given up: the claim goes stale and the poller collects it again
            assertEquals(1, log.count("could not be delivered"), log.text());
        }

        // the file is written again, the commit held: the next try finishes it
        flushFails = null;
        publisher.publishOutcome(r, finalDetails(r), Collector.VIA_CALLBACK);
        assertEquals(List.of(r.id()), delivered);
        assertEquals(DeliveryStore.DELIVERED, outbox.store().state(r.id(), "http"));
        assertEquals(1.0, meters.get("ktp_inputs").tag("source", "FILE").tag("outcome", "COMPLETED").counter().count());
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

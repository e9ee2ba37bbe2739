package id.ktpbridge.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.NewInput;
import id.ktpbridge.ledger.SchemaMigrator;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.result.DeliveryStore;
import id.ktpbridge.result.Outbox;
import id.ktpbridge.result.PermanentDeliveryFailure;
import id.ktpbridge.testkit.IdleGtfClient;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The bundle's metrics about the poll backlog and result deliveries, against a real ledger and outbox. */
class BridgeMetricsTest {

    private static final List<String> TARGETS = List.of("http", "file");
    private static final List<String> SOURCES = List.of("file", "s3");

    private JdbcConnectionPool ds;
    private Ledger ledger;
    private DeliveryStore store;
    private DefaultCamelContext camel;
    private LedgerSnapshot snapshot;
    private PrometheusMeterRegistry registry;
    private BridgeMetrics metrics;
    /** What each target does next: absent = take it, else throw this. */
    private final Map<String, Exception> answers = new ConcurrentHashMap<>();

    @BeforeEach
    void setUp() throws Exception {
        ds = JdbcConnectionPool.create("jdbc:h2:mem:metrics-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "");
        SchemaMigrator.migrate(ds);
        ledger = new Ledger(ds);
        store = new DeliveryStore(ds);
        camel = new DefaultCamelContext();
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from(Outbox.DELIVER_ENDPOINT).process(e -> {
                    Exception answer = answers.get(e.getMessage().getHeader(Outbox.TARGET, String.class));
                    if (answer != null) {
                        throw answer;
                    }
                });
            }
        });
        camel.start();
        // read by hand (refresh), not by its task
        snapshot = new LedgerSnapshot(camel, ledger, store, Duration.ofMinutes(1), Duration.ofMinutes(1));
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        metrics = new BridgeMetrics(registry, snapshot, IdleGtfClient.create(), SOURCES, TARGETS);
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
    void thePollGaugesShowTheDueAndOverdueConfirmedSubmissions() {
        assertTrue(Double.isNaN(gauge("ktp_polls_due")), "nothing shown before the first reading");
        long now = System.currentTimeMillis();
        long hour = 3_600_000;
        // an hour either side of now: the reading's own clock cannot move a row across
        confirmed(now - hour, now + hour);          // due
        confirmed(now - hour, now - hour / 2);      // due and past its deadline
        confirmed(now + hour, now - hour / 2);      // past its deadline, next poll not yet
        confirmed(now + hour, now + 2 * hour);      // neither
        confirmed(now - 2 * hour, now + hour);      // due
        snapshot.refresh();
        assertEquals(3.0, gauge("ktp_polls_due"));
        assertEquals(2.0, gauge("ktp_polls_overdue"));
        String scrape = registry.scrape();
        assertTrue(scrape.contains("ktp_polls_due 3.0") && scrape.contains("ktp_polls_overdue 2.0"), scrape);

        confirmed(now - hour, now - hour / 2);
        assertEquals(3.0, gauge("ktp_polls_due"), "the last reading until the next one");
        snapshot.refresh();
        assertEquals(4.0, gauge("ktp_polls_due"));
        assertEquals(3.0, gauge("ktp_polls_overdue"));
    }

    @Test
    void eachFailedDeliveryAttemptIsCountedByTargetAndKindAndRefusalsShowInTheGauge() {
        Outbox outbox = new Outbox(store, ledger, camel.createProducerTemplate(), TARGETS, Duration.ofMinutes(1),
                Duration.ofMinutes(1), 10, Duration.ofMinutes(5));
        outbox.metrics(metrics);
        answers.put("http", new IOException("connect timed out"));
        answers.put("file", new PermanentDeliveryFailure("no such folder"));
        String first = publish(outbox);
        assertEquals(1.0, failures("http", "retry"));
        assertEquals(1.0, failures("file", "refused"));
        assertEquals(0.0, failures("http", "refused"), "a passing failure is not a refusal");
        assertEquals(0.0, failures("file", "retry"), "a refusal is not retried");

        // http is failing: the second result waits for the retry schedule, no attempt to count
        String second = publish(outbox);
        assertEquals(1.0, failures("http", "retry"));
        assertEquals(2.0, failures("file", "refused"));
        assertTrue(registry.scrape().contains("ktp_delivery_failures_total{kind=\"refused\",target=\"file\"} 2.0"),
                registry.scrape());

        snapshot.refresh();
        assertEquals(2.0, refusedGauge("file"));
        assertEquals(0.0, refusedGauge("http"));
        assertEquals(2.0, registry.get("ktp_deliveries_pending").tag("target", "http").gauge().value());

        // http takes both on the retry schedule: no failure counted, nothing left pending
        answers.remove("http");
        store.release(first, "http", 0);
        store.release(second, "http", 0);
        outbox.retryDue();
        assertEquals(DeliveryStore.DELIVERED, store.state(first, "http"));
        assertEquals(DeliveryStore.DELIVERED, store.state(second, "http"));
        assertEquals(1.0, failures("http", "retry"));
        snapshot.refresh();
        assertEquals(0.0, registry.get("ktp_deliveries_pending").tag("target", "http").gauge().value());
        assertEquals(2.0, refusedGauge("file"), "refused rows stay refused");
    }

    @Test
    void theCountersOfEventsShowZeroFromTheStartAndTheirFirstEventCountsInTheSameSeries() {
        String scrape = registry.scrape();
        for (String source : SOURCES) {
            for (String outcome : List.of("COMPLETED", "ERROR", "REJECTED", "FAILED", "TIMED_OUT")) {
                assertEquals(1, lines(scrape, "ktp_inputs_total{outcome=\"" + outcome + "\",source=\"" + source
                        + "\"} 0.0"), scrape);
            }
        }
        assertFalse(scrape.contains("source=\"sftp\""), "no series of a source this instance does not run: " + scrape);
        for (String target : TARGETS) {
            for (String kind : List.of("retry", "refused")) {
                assertEquals(1, lines(scrape, "ktp_delivery_failures_total{kind=\"" + kind + "\",target=\"" + target
                        + "\"} 0.0"), scrape);
            }
        }

        metrics.inputFinished("s3", "ERROR");
        metrics.deliveryFailed("http", false);
        scrape = registry.scrape();
        assertEquals(1, lines(scrape, "ktp_inputs_total{outcome=\"ERROR\",source=\"s3\"} 1.0"), scrape);
        assertEquals(1, lines(scrape, "ktp_delivery_failures_total{kind=\"retry\",target=\"http\"} 1.0"), scrape);
        // one series each, not a second beside the one made at the start
        assertEquals(10, lines(scrape, "ktp_inputs_total{"), scrape);
        assertEquals(4, lines(scrape, "ktp_delivery_failures_total{"), scrape);
    }

    /** Scrape lines that begin with this text. */
    private static long lines(String scrape, String start) {
        return scrape.lines().filter(l -> l.startsWith(start)).count();
    }

    private double gauge(String name) {
        return registry.get(name).gauge().value();
    }

    private double refusedGauge(String target) {
        return registry.get("ktp_deliveries_refused").tag("target", target).gauge().value();
    }

    private Counter counter(String target, String kind) {
        return registry.find("ktp_delivery_failures").tag("target", target).tag("kind", kind).counter();
    }

    private double failures(String target, String kind) {
        Counter c = counter(target, kind);
        assertTrue(c != null, "ktp_delivery_failures{target=" + target + ",kind=" + kind + "} registered");
        return c.count();
    }

    /** A submission taken through upload and confirm, with its next poll and deadline. */
    private void confirmed(long nextPollAt, long deadlineAt) {
        String id = UUID.randomUUID().toString();
        ledger.insert(input(id), SubmissionState.RECEIVED);
        ledger.markUploaded(id, "sub-" + id, "psid-" + id, "sdk-" + id, "https://storage.test/" + id,
                System.currentTimeMillis() + 600_000);
        ledger.markConfirmed(id, System.currentTimeMillis(), nextPollAt, deadlineAt);
    }

    /** Stores a result for a new ledger row and delivers it as the publisher does. */
    private String publish(Outbox outbox) {
        String id = UUID.randomUUID().toString();
        ledger.insert(input(id), SubmissionState.FAILED);
        List<String> queued = new ArrayList<>();
        long[] queuedAt = {0};
        assertTrue(ledger.recordResult(id, "FAILED", null, "TEST", 1L, "{\"ledgerId\":\"" + id + "\"}",
                c -> {
                    queued.addAll(outbox.enqueue(c, id));
                    queuedAt[0] = System.currentTimeMillis();
                }));
        outbox.deliverNow(id, "local-" + id, "FAILED", "{}", queued, queuedAt[0]);
        return id;
    }

    private static NewInput input(String id) {
        return new NewInput(id, "FILE", "/in/" + id + ".png", id + ".png", "ab".repeat(32), 10L, "image/png",
                "partner-a", "user-" + id, "PARTNER_USER_ID", UUID.randomUUID().toString(),
                UUID.randomUUID().toString(), "{}");
    }
}

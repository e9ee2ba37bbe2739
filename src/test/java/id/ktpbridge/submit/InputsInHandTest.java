package id.ktpbridge.submit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.ingest.InputDeferredException;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.SchemaMigrator;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.result.ResultPublisher;
import id.ktpbridge.result.ResultStatus;
import id.ktpbridge.testkit.SampleImages;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances of a cluster meeting the same input: the same bytes put again at the same place are
 * claimed anew by the second instance (SFTP and S3 claims name a file's version), whose intake finds
 * the row the first is still submitting. It leaves it while the first holds it, and takes it once
 * the first has let go or its hold has run out (an instance killed on it).
 */
class InputsInHandTest {

    private static final String REF = "s3://inbox/u9101.png";

    @TempDir
    Path dir;

    private JdbcConnectionPool ds;
    private Ledger ledger;
    private final List<String> steps = new CopyOnWriteArrayList<>();
    private final CountDownLatch firstPresigning = new CountDownLatch(1);
    private final CountDownLatch releaseFirst = new CountDownLatch(1);
    private DefaultCamelContext first;
    private DefaultCamelContext second;
    /** Run once, right after an intake's look for the earlier row of its input. */
    private volatile Runnable afterLook;

    /** Stands in for the OneKYC steps of one instance; the first instance's presign waits to be released. */
    public class Steps {
        private final String instance;

        Steps(String instance) {
            this.instance = instance;
        }

        public void presign(Exchange e) throws InterruptedException {
            steps.add(instance + " presign");
            if (instance.equals("first")) {
                firstPresigning.countDown();
                assertTrue(releaseFirst.await(10, TimeUnit.SECONDS));
            }
        }

        public void upload(Exchange e) {
            steps.add(instance + " upload");
        }

        public void confirm(Exchange e) {
            steps.add(instance + " confirm");
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        ds = JdbcConnectionPool.create("jdbc:h2:mem:in-hand-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "");
        SchemaMigrator.migrate(ds);
        ledger = new Ledger(ds) {
            @Override
            public java.util.Optional<LedgerRecord> findUnreleased(String sourceRef, String sha256) {
                java.util.Optional<LedgerRecord> found = super.findUnreleased(sourceRef, sha256);
                Runnable once = afterLook;
                afterLook = null;
                if (once != null) {
                    once.run();
                }
                return found;
            }
        };
        ResultPublisher publisher = new ResultPublisher(ledger, new ObjectMapper(), null) {
            @Override
            public void publishLocal(LedgerRecord r, ResultStatus status, String reason, String message) {
                steps.add("result " + status);
            }
        };
        first = SubmitRouteHarness.start(ledger, publisher, new Steps("first"), dir.resolve("spool-1"),
                new InputsInHand(ledger, "first", 60_000, true));
        second = SubmitRouteHarness.start(ledger, publisher, new Steps("second"), dir.resolve("spool-2"),
                new InputsInHand(ledger, "second", 60_000, true));
    }

    @AfterEach
    void tearDown() {
        releaseFirst.countDown();
        first.stop();
        second.stop();
        ds.dispose();
    }

    @Test
    void theSecondInstanceLeavesAnInputTheFirstIsSubmittingAndTakesItOnceLetGo() throws Exception {
        byte[] image = SampleImages.card("u9101", "png");
        CompletableFuture<Exchange> firstRun = CompletableFuture.supplyAsync(() -> send(first, image));
        assertTrue(firstPresigning.await(10, TimeUnit.SECONDS));
        String row = ledger.createdSince(0).get(0).id();
        assertEquals("first", worker(row));

        Exchange meanwhile = send(second, image);
        assertInstanceOf(InputDeferredException.class, meanwhile.getException(), "left in its source for later");
        assertEquals(List.of("first presign"), steps, "the second instance submitted nothing");

        releaseFirst.countDown();
        assertNull(firstRun.get(10, TimeUnit.SECONDS).getException());
        assertNull(worker(row), "let go when its exchange ended");
        assertEquals(1, ledger.createdSince(0).size(), "one row for the input");

        // taken again later (here its steps stand in for OneKYC and moved it nowhere): now it is free
        Exchange later = send(second, image);
        assertNull(later.getException());
        assertEquals(List.of("first presign", "first upload", "first confirm", "second presign", "second upload",
                "second confirm"), steps);
    }

    @Test
    void anInputTheFirstConfirmsBetweenTheSecondsLookAndItsTakeIsNotSubmittedAgain() throws Exception {
        byte[] image = SampleImages.card("u9105", "png");
        CompletableFuture<Exchange> firstRun = CompletableFuture.supplyAsync(() -> send(first, image));
        assertTrue(firstPresigning.await(10, TimeUnit.SECONDS));
        String row = ledger.createdSince(0).get(0).id();
        ledger.holdSubmission(row, "sub-1", "psid-1", "sdk-1", "https://storage.test/1", System.currentTimeMillis()
                + 600_000);
        // the second instance has read the row PRESIGNED; the first confirms it and lets go before the take
        afterLook = () -> {
            ledger.markUploaded(row, "sub-1", "psid-1", "sdk-1", "https://storage.test/1",
                    System.currentTimeMillis() + 600_000);
            long now = System.currentTimeMillis();
            ledger.markConfirmed(row, now, now + 60_000, now + 600_000);
            releaseFirst.countDown();
            assertNull(firstRun.join().getException());
        };

        Exchange second = send(this.second, image);
        assertNull(second.getException(), "nothing failed: the input was submitted");
        assertEquals(List.of("first presign", "first upload", "first confirm"), steps,
                "the second instance presigned nothing: its input is the one confirmed");
        LedgerRecord r = ledger.findById(row).orElseThrow();
        assertEquals(SubmissionState.CONFIRMED, r.state());
        assertEquals("sub-1", r.submissionId());
    }

    @Test
    void aHoldWhoseInstanceStoppedRenewingItRunsOut() throws Exception {
        byte[] image = SampleImages.card("u9102", "png");
        releaseFirst.countDown();
        assertNull(send(first, image).getException());
        String row = ledger.createdSince(0).get(0).id();
        // as an instance killed on the input leaves it: held, and renewed no more
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE ktp_submission SET worker = 'gone', worker_until = ? WHERE id = ?")) {
            ps.setLong(1, System.currentTimeMillis() + 60_000);
            ps.setString(2, row);
            ps.executeUpdate();
        }
        assertInstanceOf(InputDeferredException.class, send(second, image).getException());
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE ktp_submission SET worker_until = ? WHERE id = ?")) {
            ps.setLong(1, System.currentTimeMillis() - 1);
            ps.setString(2, row);
            ps.executeUpdate();
        }
        assertNull(send(second, image).getException());
        assertTrue(steps.contains("second confirm"), steps.toString());
    }

    @Test
    void renewingExtendsOnlyTheHoldsOfThisInstance() throws Exception {
        InputsInHand mine = new InputsInHand(ledger, "mine", 60_000, true);
        byte[] image = SampleImages.card("u9103", "png");
        releaseFirst.countDown();
        send(first, image);
        String row = ledger.createdSince(0).get(0).id();
        Exchange exchange = new org.apache.camel.support.DefaultExchange(first);
        mine.take(exchange, row);
        long before = until(row);
        Thread.sleep(5);
        mine.renew();
        assertTrue(until(row) > before, "renewed");
        assertEquals("mine", worker(row));
        // another instance's hold on a row this one marks: its time is left as it is
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE ktp_submission SET worker = 'other', worker_until = 5 WHERE id = ?")) {
            ps.setString(1, row);
            ps.executeUpdate();
        }
        mine.renew();
        assertEquals(5, until(row), "not renewed for another instance");
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE ktp_submission SET worker = 'mine' WHERE id = ?")) {
            ps.setString(1, row);
            ps.executeUpdate();
        }
        exchange.getExchangeExtension().handoverCompletions().forEach(s -> s.onComplete(exchange));
        assertNull(worker(row), "let go at the end of its exchange");
    }

    @Test
    void aRowTakenToBeEndedIsLeftByThisInstancesWorkersToo() throws Exception {
        InputsInHand here = new InputsInHand(ledger, "here", 60_000, true);
        releaseFirst.countDown();
        send(first, SampleImages.card("u9104", "png"));
        String row = ledger.createdSince(0).get(0).id();
        assertTrue(here.takeToEnd(row));
        Exchange worker = new org.apache.camel.support.DefaultExchange(first);
        org.junit.jupiter.api.Assertions.assertThrows(InputDeferredException.class, () -> here.take(worker, row));
        assertEquals("here", worker(row), "the hold stays the ender's");
        here.letGo(row);
        assertNull(worker(row));
        here.take(worker, row);
        assertEquals("here", worker(row), "free again once let go");
    }

    @Test
    void anInputTurnedAwayByAHoldWaitsLongerEachTimeUntilTheHoldIsLetGo() {
        InputsInHand inHand = new InputsInHand(ledger, "first", 60_000, false);
        List<java.time.Duration> pauses = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            pauses.add(InputDeferredException.retryAfter(inHand.heldElsewhere("row-1", "held")));
        }
        assertEquals(List.of(5L, 10L, 15L, 20L, 25L, 30L, 30L, 30L),
                pauses.stream().map(java.time.Duration::toSeconds).toList());
        assertEquals(5, InputDeferredException.retryAfter(inHand.heldElsewhere("row-2", "held")).toSeconds(),
                "another hold counts its own");
        inHand.letGo("row-1");
        assertEquals(5, InputDeferredException.retryAfter(inHand.heldElsewhere("row-1", "held")).toSeconds(),
                "a hold let go starts over");
    }

    private Exchange send(DefaultCamelContext instance, byte[] image) {
        return instance.createProducerTemplate().request("direct:submit-ktp", e -> {
            e.getMessage().setHeader("KtpSourceType", "s3");
            e.getMessage().setHeader("KtpSourceRef", REF);
            e.getMessage().setHeader("KtpSourceFile", "u9101.png");
            e.getMessage().setBody(image);
        });
    }

    private String worker(String row) throws Exception {
        return column(row, "worker");
    }

    private long until(String row) throws Exception {
        return Long.parseLong(column(row, "worker_until"));
    }

    private String column(String row, String name) throws Exception {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT " + name + " FROM ktp_submission WHERE id = ?")) {
            ps.setString(1, row);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                return rs.getString(1);
            }
        }
    }
}

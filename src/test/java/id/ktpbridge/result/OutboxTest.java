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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.NewInput;
import id.ktpbridge.ledger.SchemaMigrator;
import id.ktpbridge.ledger.SubmissionState;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.http.base.HttpOperationFailedException;
import org.apache.camel.impl.DefaultCamelContext;
import org.awaitility.Awaitility;
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
    /** Thrown by the target's next attempt only, before {@link #answer} is looked at. */
    private final java.util.concurrent.atomic.AtomicReference<Exception> answerOnce =
            new java.util.concurrent.atomic.AtomicReference<>();
    /** Documents the target answers 500 to, every time (when {@link #answer} is null). */
    private final java.util.Set<String> poison = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final List<String> attempted = new CopyOnWriteArrayList<>();
    /** Attempts as target:ledgerId, in order. */
    private final List<String> attemptedByTarget = new CopyOnWriteArrayList<>();
    /** Held closed by the next attempt only (any target), which waits for it before it answers. */
    private final java.util.concurrent.atomic.AtomicReference<CountDownLatch> holdNext =
            new java.util.concurrent.atomic.AtomicReference<>();
    /** Held closed, the http target hangs (as one that answers only at its timeout). */
    private volatile CountDownLatch httpAnswers = new CountDownLatch(0);
    /** How long the file target takes per attempt, ms. */
    private volatile long fileTakes;

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
                    String id = e.getMessage().getHeader(ResultPublisher.LEDGER_ID, String.class);
                    String target = e.getMessage().getHeader(Outbox.TARGET, String.class);
                    attempted.add(id);
                    attemptedByTarget.add(target + ":" + id);
                    CountDownLatch hold = holdNext.getAndSet(null);
                    if (hold != null) {
                        hold.await();
                    }
                    if ("http".equals(target)) {
                        httpAnswers.await();
                    } else if ("file".equals(target)) {
                        Thread.sleep(fileTakes);
                    }
                    Exception once = answerOnce.getAndSet(null);
                    if (once != null) {
                        throw once;
                    }
                    if (answer != null) {
                        throw answer;
                    }
                    if (poison.contains(id)) {
                        throw http(500);
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
        for (int code : new int[] {401, 403, 404, 407, 408, 423, 425, 429, 500, 503}) {
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

    @Test
    void aTargetThatHangsHoldsUpOnlyItsOwnRetries() throws Exception {
        Outbox two = new Outbox(store, ledger, camel.createProducerTemplate(), List.of("http", "file"),
                Duration.ofMillis(1), Duration.ofMillis(1), 10, Duration.ofMinutes(5));
        ExecutorService passes = Executors.newFixedThreadPool(2);
        two.retryExecutor(passes);
        try {
            // both targets failed once: their rows wait for the retry schedule
            answer = new IOException("connect timed out");
            String first = publish(two);
            String second = publish(two);
            answer = null;
            Thread.sleep(5);

            httpAnswers = new CountDownLatch(1);
            two.retryDue();
            // the file target's retries go through while the http target's first retry still hangs
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() ->
                    DeliveryStore.DELIVERED.equals(store.state(first, "file"))
                            && DeliveryStore.DELIVERED.equals(store.state(second, "file")));
            assertEquals(DeliveryStore.PENDING, store.state(first, "http"));
            two.retryDue(); // the http pass is still under way: no second one starts beside it
            httpAnswers.countDown();
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() ->
                    DeliveryStore.DELIVERED.equals(store.state(first, "http"))
                            && DeliveryStore.DELIVERED.equals(store.state(second, "http")));
            assertEquals(2, attemptedByTarget.stream().filter(a -> a.equals("http:" + first)).count(),
                    "the first http row: its immediate attempt and one retry");
        } finally {
            httpAnswers.countDown();
            passes.shutdownNow();
        }
    }

    @Test
    void aRetryPassEndsAtTheFirstAttemptThatFindsTheTargetDown() throws Exception {
        answer = new IOException("connect timed out");
        publish();
        String waiting = publish(); // the target is failing: not tried at once
        publish();
        assertEquals(1, attempted.size());
        store.release(waiting, "http", 0);
        Thread.sleep(2);
        attempted.clear();
        outbox.retryDue();
        assertEquals(1, attempted.size(), "one attempt per pass while the target is down: " + attempted);
    }

    @Test
    void aTargetThatStaysDownIsAskedLessAndLessOften() {
        answer = new java.net.ConnectException("Connection refused");
        String first = publish(); // found down once: the next pass tries it
        store.release(first, "http", 0); // due now, whatever its own back-off
        outbox.retryDue();
        assertEquals(List.of(first, first), attempted);
        // down twice in a row: left alone for the back-off (a minute here), every pass meanwhile asks nothing
        store.release(first, "http", 0);
        outbox.retryDue();
        outbox.retryDue();
        assertEquals(2, attempted.size(), attempted.toString());
        assertEquals(DeliveryStore.PENDING, store.state(first, "http"));

        Outbox o = new Outbox(store, ledger, camel.createProducerTemplate(), List.of("http"), Duration.ofSeconds(2),
                Duration.ofMinutes(5), 10, Duration.ofMinutes(5));
        assertEquals(List.of(0L, 0L, 2_000L, 4_000L, 8_000L, 16_000L, 32_000L, 60_000L, 60_000L),
                java.util.stream.IntStream.range(0, 9).mapToObj(o::probeDelay).toList());
    }

    @Test
    void attemptsThatFailTogetherCountAsOneFindingOfTheTargetDown() throws Exception {
        httpAnswers = new CountDownLatch(1);
        answer = new java.net.ConnectException("Connection refused");
        ExecutorService two = Executors.newFixedThreadPool(2);
        try {
            java.util.concurrent.Future<String> a = two.submit(() -> publish());
            java.util.concurrent.Future<String> b = two.submit(() -> publish());
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> attempted.size() == 2);
            httpAnswers.countDown(); // both fail at the same moment of the outage
            String first = a.get(10, java.util.concurrent.TimeUnit.SECONDS);
            b.get(10, java.util.concurrent.TimeUnit.SECONDS);

            // found down once, not twice: the next pass still tries it
            store.release(first, "http", 0);
            attempted.clear();
            outbox.retryDue();
            assertEquals(List.of(first), attempted);
        } finally {
            two.shutdownNow();
        }
    }

    @Test
    void aTargetThatStaysDownIsLoggedOnceAMinuteAndItsReturnOnce() throws Exception {
        // no back-off: only the target's pause (1 ms) lies between two passes' attempts
        Outbox noBackOff = new Outbox(store, ledger, camel.createProducerTemplate(), List.of("http"), Duration.ZERO,
                Duration.ZERO, 10, Duration.ofMinutes(5));
        answer = new java.net.ConnectException("Connection refused");
        try (id.ktpbridge.testkit.LogCapture log = new id.ktpbridge.testkit.LogCapture()) {
            String id = publish(noBackOff);
            for (int i = 0; i < 6; i++) {
                Thread.sleep(5);
                noBackOff.retryDue();
            }
            assertEquals(7, attempted.size(), attempted.toString());
            assertEquals(1, log.count("Delivery of ledger " + id + " to http failed"), log.text());
            assertEquals(1, log.count("Target http still down after 2 failed attempts in a row"), log.text());
            assertEquals(0, log.count("still down after 3"), "one such line a minute: " + log.text());

            answer = null;
            Thread.sleep(5);
            noBackOff.retryDue();
            assertEquals(DeliveryStore.DELIVERED, store.state(id, "http"));
            assertEquals(1, log.count("Target http answers again after 7 failed attempts in a row"), log.text());
        }
    }

    @Test
    void aTargetWhoseLeaseRanOutDuringTheEarlierTargetsIsLeftToTheRetrySchedule() throws Exception {
        Outbox slowFirst = new Outbox(store, ledger, camel.createProducerTemplate(), List.of("file", "http"),
                Duration.ofMinutes(1), Duration.ofMinutes(1), 10, Duration.ofMillis(200));
        fileTakes = 300; // longer than the whole lease
        String id = publish(slowFirst);
        assertEquals(List.of("file:" + id), attemptedByTarget, "http was not attempted after its lease ran out");
        assertEquals(DeliveryStore.DELIVERED, store.state(id, "file"));
        assertEquals(DeliveryStore.PENDING, store.state(id, "http"));

        // the same slow earlier target under a lease it cannot outlast, however loaded the machine:
        // http is skipped only for the lease running out, not for the wait itself
        Outbox longLease = new Outbox(store, ledger, camel.createProducerTemplate(), List.of("file", "http"),
                Duration.ofMinutes(1), Duration.ofMinutes(1), 10, Duration.ofMinutes(5));
        attemptedByTarget.clear();
        String within = publish(longLease);
        assertEquals(List.of("file:" + within, "http:" + within), attemptedByTarget);
        assertEquals(DeliveryStore.DELIVERED, store.state(within, "http"), "within its lease it is attempted at once");
    }

    @Test
    void aFreshResultWhoseLeaseRanOutBeforeItsFirstAttemptIsLeftToTheRetrySchedule() {
        // the flush between storing the result and its first attempt waited past the lease (a busy
        // ledger): the retry schedule took the row meanwhile, and an attempt now would send it twice
        Outbox shortLease = new Outbox(store, ledger, camel.createProducerTemplate(), List.of("http"),
                Duration.ofMinutes(1), Duration.ofMinutes(1), 10, Duration.ofMillis(300));
        Queued q = storeResult(shortLease);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> System.currentTimeMillis() > q.at() + 300);
        assertTrue(store.takeDue(System.currentTimeMillis(), List.of("http"), 60_000).isPresent(),
                "the retry schedule takes the row once its lease ran out");

        shortLease.deliverNow(q.id(), "local-" + q.id(), "FAILED", "{}", q.targets(), q.at());
        assertEquals(List.of(), attempted, "not attempted beside the retry schedule's attempt");
        assertEquals(DeliveryStore.PENDING, store.state(q.id(), "http"));

        // within the first half of its lease the row is the publisher's, attempted without a renewal
        Outbox longLease = new Outbox(store, ledger, camel.createProducerTemplate(), List.of("http"),
                Duration.ofMinutes(1), Duration.ofMinutes(1), 10, Duration.ofMinutes(5));
        String fresh = publish(longLease);
        assertEquals(List.of(fresh), attempted);
    }

    @Test
    void eachTargetAfterTheFirstStartsWithAWholeLease() throws Exception {
        // a slow first target, then one that hangs: its row must be held for a whole lease from the
        // start of its own attempt, not from when the result was stored
        Outbox two = new Outbox(store, ledger, camel.createProducerTemplate(), List.of("file", "http"),
                Duration.ofMinutes(1), Duration.ofMinutes(1), 10, Duration.ofMinutes(5));
        fileTakes = 1_000;
        httpAnswers = new CountDownLatch(1);
        ExecutorService publisher = Executors.newSingleThreadExecutor();
        try {
            long before = System.currentTimeMillis();
            var published = publisher.submit(() -> publish(two));
            Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> attemptedByTarget.stream().anyMatch(a -> a.startsWith("http:")));
            String id = attemptedByTarget.get(1).substring("http:".length());
            // stored before the file attempt's second: a lease from then would end before this
            assertTrue(store.takeDue(before + Duration.ofMinutes(5).toMillis() + 999, List.of("http"), 1).isEmpty(),
                    "the http row's lease was renewed when its attempt began");
            httpAnswers.countDown();
            assertEquals(id, published.get(30, java.util.concurrent.TimeUnit.SECONDS));
            assertEquals(DeliveryStore.DELIVERED, store.state(id, "http"));
        } finally {
            httpAnswers.countDown();
            publisher.shutdownNow();
        }
    }

    @Test
    void theBackOffDoublesFromTheInitialDelayUpToTheCap() {
        Outbox o = new Outbox(store, ledger, camel.createProducerTemplate(), List.of("http"), Duration.ofSeconds(1),
                Duration.ofSeconds(30), 10, Duration.ofMinutes(5));
        assertEquals(1_000, o.backoff(1));
        assertEquals(2_000, o.backoff(2));
        assertEquals(4_000, o.backoff(3));
        assertEquals(16_000, o.backoff(5));
        assertEquals(30_000, o.backoff(6), "32 s, cut to the cap");
        assertEquals(30_000, o.backoff(7));
        // a row retried for weeks: no overflow into a negative or tiny delay
        assertEquals(30_000, o.backoff(1_000));
        assertEquals(30_000, o.backoff(Integer.MAX_VALUE));
        Outbox longCap = new Outbox(store, ledger, camel.createProducerTemplate(), List.of("http"),
                Duration.ofHours(1), Duration.ofDays(365_000), 10, Duration.ofMinutes(5));
        assertEquals(Duration.ofHours(1).toMillis() << 20, longCap.backoff(Integer.MAX_VALUE),
                "the doubling stops at 2^20 times the initial delay");
    }

    @Test
    void eachFailedAttemptPutsTheNextOneFurtherOffUpToTheCap() {
        // minutes apart: the due times are told apart however slowly the machine runs the attempts
        Outbox o = new Outbox(store, ledger, camel.createProducerTemplate(), List.of("http"), Duration.ofMinutes(10),
                Duration.ofMinutes(25), 10, Duration.ofMinutes(5));
        // about this document (a target down would be left alone for a while as a whole, see below)
        answer = http(500);
        long before = System.currentTimeMillis();
        String id = publish(o);
        assertNextAttemptIn(id, before, Duration.ofMinutes(10));
        for (Duration expected : List.of(Duration.ofMinutes(20), Duration.ofMinutes(25), Duration.ofMinutes(25))) {
            store.release(id, "http", 0); // due now: the retry pass attempts it
            attempted.clear();
            before = System.currentTimeMillis();
            o.retryDue();
            assertEquals(List.of(id), attempted);
            assertNextAttemptIn(id, before, expected);
        }
    }

    /** The row's next attempt is {@code wait} after the failed attempt that began after {@code before}. */
    private void assertNextAttemptIn(String id, long before, Duration wait) {
        long after = System.currentTimeMillis();
        List<String> http = List.of("http");
        assertTrue(store.takeDue(before + wait.toMillis() - 1, http, 1).isEmpty(), "not due before " + wait);
        assertEquals(id, store.takeDue(after + wait.toMillis(), http, 1).map(DeliveryStore.Due::ledgerId).orElse(null),
                "due after " + wait);
        assertEquals(DeliveryStore.PENDING, store.state(id, "http"));
    }

    @Test
    void documentsTheTargetKeepsFailingDoNotHoldUpTheOthers() {
        // no back-off: every failed delivery is due again at once, ahead of newer ones
        Outbox noBackOff = new Outbox(store, ledger, camel.createProducerTemplate(), List.of("http"), Duration.ZERO,
                Duration.ZERO, 10, Duration.ofMinutes(5));
        answer = new java.net.ConnectException("Connection refused");
        List<String> bad = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            bad.add(publish(noBackOff));
        }
        String good1 = publish(noBackOff);
        String good2 = publish(noBackOff);
        poison.addAll(bad);
        answer = null;

        // the oldest due rows are the three the target answers 500 to: the pass goes on past them
        noBackOff.retryDue();
        assertEquals(DeliveryStore.DELIVERED, store.state(good1, "http"));
        assertEquals(DeliveryStore.DELIVERED, store.state(good2, "http"));
        for (String id : bad) {
            assertEquals(DeliveryStore.PENDING, store.state(id, "http"), "kept for a later try");
        }

        // and a 500 does not hold new results back from their immediate attempt
        attempted.clear();
        poison.add(publish(noBackOff));
        String next = publish(noBackOff);
        assertTrue(attempted.contains(next), attempted.toString());
        assertEquals(DeliveryStore.DELIVERED, store.state(next, "http"));
    }

    @Test
    void aPassTakesEachRowOnceEvenWithoutBackOff() {
        // a 500 about this one document: not down, so the pass goes on; without back-off the row is
        // due again at once, and a pass that took it again would call the target batch-size times
        Outbox noBackOff = new Outbox(store, ledger, camel.createProducerTemplate(), List.of("http"), Duration.ZERO,
                Duration.ZERO, 10, Duration.ofMinutes(5));
        answer = http(500);
        String id = publish(noBackOff);
        store.release(id, "http", 0);
        attempted.clear();
        noBackOff.retryDue();
        assertEquals(List.of(id), attempted);
        assertEquals(DeliveryStore.PENDING, store.state(id, "http"));
    }

    @Test
    void aRetryAfterOnAServerErrorHoldsBackNewResultsAndTheRestOfThePass() throws Exception {
        answerOnce.set(http(500, "60"));
        String a = publish();
        String b = publish();
        assertEquals(List.of(a), attempted, "B waits for the minute the target asked for");
        assertEquals(DeliveryStore.PENDING, store.state(b, "http"));
        assertTrue(store.takeDue(System.currentTimeMillis() + 50_000, List.of("http"), 1).isEmpty(),
                "neither is due before the minute is up");

        // a pass already under way stops at the answer that asks for a pause
        Outbox other = new Outbox(store, ledger, camel.createProducerTemplate(), List.of("http"),
                Duration.ofMinutes(1), Duration.ofMinutes(1), 10, Duration.ofMinutes(5));
        answer = new IOException("connect timed out");
        String c = publish(other);
        String d = publish(other);
        answer = null;
        store.release(c, "http", 1);
        store.release(d, "http", 2);
        attempted.clear();
        answerOnce.set(http(500, "60"));
        other.retryDue();
        assertEquals(List.of(c), attempted, "d is left for after the pause");
        assertEquals(DeliveryStore.PENDING, store.state(d, "http"));
    }

    @Test
    void aSuccessSentBeforeTheTargetAskedForAPauseDoesNotEndThePause() throws Exception {
        CountDownLatch slowAnswer = new CountDownLatch(1);
        holdNext.set(slowAnswer);
        ExecutorService one = Executors.newSingleThreadExecutor();
        try {
            // A is sent, and the receiver takes its time over it
            java.util.concurrent.Future<String> a = one.submit(() -> publish());
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> attempted.size() == 1);
            // meanwhile B, sent alongside, is answered 429 with a minute's Retry-After
            answerOnce.set(http(429, "60"));
            String b = publish();
            assertEquals(DeliveryStore.PENDING, store.state(b, "http"));
            // then A's 200 comes back: it was sent before the 429, and says nothing against it
            slowAnswer.countDown();
            assertEquals(DeliveryStore.DELIVERED, store.state(a.get(10, java.util.concurrent.TimeUnit.SECONDS), "http"));

            String c = publish();
            assertEquals(2, attempted.size(), "C is not sent within the minute the target asked for: " + attempted);
            assertEquals(DeliveryStore.PENDING, store.state(c, "http"));
            outbox.retryDue();
            assertEquals(2, attempted.size(), "nor by a retry pass");
        } finally {
            slowAnswer.countDown();
            one.shutdownNow();
        }
    }

    @Test
    void anImmediateAttemptThatHangsHoldsThePublisherOnlyForTheWait() throws Exception {
        ExecutorService attempts = Executors.newCachedThreadPool();
        ExecutorService publishers = Executors.newFixedThreadPool(2);
        outbox.immediateAttempts(java.util.Map.of("http", attempts), Duration.ofMillis(500));
        httpAnswers = new CountDownLatch(1); // a results folder on a hung network share
        try {
            var first = publishers.submit(() -> publish());
            String a = first.get(10, java.util.concurrent.TimeUnit.SECONDS);
            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> attempted.equals(List.of(a)));
            assertEquals(DeliveryStore.PENDING, store.state(a, "http"));

            // the next publisher does not wait at all: its result goes to the retry schedule
            String b = publishers.submit(() -> publish()).get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(List.of(a), attempted);

            httpAnswers.countDown();
            Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> DeliveryStore.DELIVERED.equals(store.state(a, "http")));
            // the retry schedule takes b, and leaves a, whose late attempt recorded its delivery
            outbox.retryDue();
            assertEquals(DeliveryStore.DELIVERED, store.state(b, "http"));
            assertEquals(1, attempted.stream().filter(a::equals).count(), "a was delivered once: " + attempted);
            assertEquals(1, attempted.stream().filter(b::equals).count(), attempted.toString());
            String c = publish();
            assertEquals(DeliveryStore.DELIVERED, store.state(c, "http"), "tried at once again once it answered");
        } finally {
            httpAnswers.countDown();
            publishers.shutdownNow();
            attempts.shutdownNow();
        }
    }

    @Test
    void aTargetThatAnswersOnlyAfterTheWaitDoesNotHoldTheNextPublisherAgain() throws Exception {
        ExecutorService attempts = Executors.newCachedThreadPool();
        outbox.immediateAttempts(java.util.Map.of("http", attempts), Duration.ofMillis(300));
        httpAnswers = new CountDownLatch(1); // a receiver that takes longer than the wait
        try {
            String a = publish();
            assertEquals(DeliveryStore.PENDING, store.state(a, "http"));
            httpAnswers.countDown();
            Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> DeliveryStore.DELIVERED.equals(store.state(a, "http")));

            // a's answer came, late: the next result is not tried at once (it would wait as long again)
            String c = publish();
            assertEquals(List.of(a), attempted, "c went to the retry schedule");
            assertEquals(DeliveryStore.PENDING, store.state(c, "http"));

            // the schedule's attempt, answered within the wait, lets new results go at once again
            outbox.retryDue();
            Awaitility.await().atMost(Duration.ofSeconds(5))
                    .until(() -> DeliveryStore.DELIVERED.equals(store.state(c, "http")));
            String d = publish();
            assertEquals(DeliveryStore.DELIVERED, store.state(d, "http"));
        } finally {
            httpAnswers.countDown();
            attempts.shutdownNow();
        }
    }

    @Test
    void aDeliveryWhoseDocumentIsNoLongerStoredIsRefusedAndSaidSo() throws Exception {
        answer = new IOException("connect timed out");
        String a = publish();
        answer = null;
        // the document went meanwhile (say, a row a retention pass thinned)
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE ktp_submission SET result_json = NULL WHERE id = '" + a + "'");
        }
        store.release(a, "http", 1);
        try (id.ktpbridge.testkit.LogCapture log = new id.ktpbridge.testkit.LogCapture()) {
            outbox.retryDue();
            Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> DeliveryStore.REFUSED.equals(store.state(a, "http")));
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> log.text().contains(
                    "Result of ledger " + a + " cannot be delivered to http: the ledger holds no result document"));
        }
        assertEquals(List.of(a), attempted, "nothing was sent");
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
        assertTrue(Outbox.targetDown(software.amazon.awssdk.services.s3.model.S3Exception.builder().statusCode(403)
                .build()));
        // the answer is found under Camel's wrapping
        assertFalse(Outbox.targetDown(new org.apache.camel.CamelExecutionException("wrapped", null, http(500))));
    }

    private String publish() {
        return publish(outbox);
    }

    /** Stores a result for a new ledger row and delivers it as the publisher does. */
    private String publish(Outbox outbox) {
        Queued q = storeResult(outbox);
        outbox.deliverNow(q.id(), "local-" + q.id(), "FAILED", "{}", q.targets(), q.at());
        return q.id();
    }

    /** A result stored for a new ledger row: its delivery rows queued, leased to the caller, at {@code at}. */
    private record Queued(String id, List<String> targets, long at) { }

    private Queued storeResult(Outbox outbox) {
        String id = UUID.randomUUID().toString();
        ledger.insert(new NewInput(id, "FILE", "/in/" + id, id + ".png", "ab".repeat(32), 10L, "image/png",
                "partner-a", "user-" + id, "PARTNER_USER_ID", UUID.randomUUID().toString(),
                UUID.randomUUID().toString(), "{}"), SubmissionState.FAILED);
        List<String> queued = new java.util.ArrayList<>();
        long[] queuedAt = {0};
        assertTrue(ledger.recordResult(id, "FAILED", null, "TEST", 1L, "{\"ledgerId\":\"" + id + "\"}",
                c -> {
                    queued.addAll(outbox.enqueue(c, id));
                    queuedAt[0] = System.currentTimeMillis();
                }));
        return new Queued(id, queued, queuedAt[0]);
    }

    private static HttpOperationFailedException http(int code) {
        return new HttpOperationFailedException("http://partner.test/results", code, "status " + code, null, null,
                "{\"input\":{\"nik\":\"3201010101010001\"}}");
    }

    private static HttpOperationFailedException http(int code, String retryAfter) {
        return new HttpOperationFailedException("http://partner.test/results", code, "status " + code, null,
                java.util.Map.of("Retry-After", retryAfter), "{}");
    }
}

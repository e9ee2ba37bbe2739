package id.ktpbridge.collect;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerException;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A callback is answered before its collection writes anything (status polling on): a ledger write
 * of that collection failing for a passing reason (a database failover) is tried again, or the
 * callback would be lost, and the poller would go on asking status instead of details.
 */
class CallbackLedgerRetryTest {

    @TempDir
    Path dataDir;

    /** Fails the first {@code claimFailures} claims and {@code noteFailures} notes of a callback, as a failover does. */
    private static final class FailingOver extends Ledger {
        final AtomicInteger claims = new AtomicInteger();
        final AtomicInteger notes = new AtomicInteger();
        final int claimFailures;
        final int noteFailures;
        /** Whether the failing claims are written before the failure: the reply lost, not the request. */
        boolean claimsWritten;

        FailingOver(Ledger real, int claimFailures, int noteFailures) {
            super(real.dataSource());
            this.claimFailures = claimFailures;
            this.noteFailures = noteFailures;
        }

        @Override
        public Optional<Claim> claimByCallback(String submissionId, String errorReason, long token) {
            if (claims.incrementAndGet() <= claimFailures) {
                if (claimsWritten) {
                    super.claimByCallback(submissionId, errorReason, token);
                }
                throw new LedgerException(new SQLTransientConnectionException("connection lost"));
            }
            return super.claimByCallback(submissionId, errorReason, token);
        }

        @Override
        public long claim(String id, String via, long token) {
            if (claims.incrementAndGet() <= claimFailures) {
                if (claimsWritten) {
                    super.claim(id, via, token);
                }
                throw new LedgerException(new SQLTransientConnectionException("connection lost"));
            }
            return super.claim(id, via, token);
        }

        @Override
        public Optional<LedgerRecord> noteCallback(String submissionId, String errorReason) {
            if (notes.incrementAndGet() <= noteFailures) {
                throw new LedgerException(new SQLTransientConnectionException("connection lost"));
            }
            return super.noteCallback(submissionId, errorReason);
        }
    }

    @Test
    void aCallbackWhoseClaimMeetsAFailoverIsStillCollected() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props())) {
            LedgerRecord row = RefusedOutcomeTest.dropAndAwaitConfirmed(app, "u3201.png");
            FailingOver ledger = new FailingOver(app.ledger(), 2, 0);

            // the collection worker's step for an answered callback, on a ledger failing over
            receiver(app, ledger).collect(row.submissionId(), null, null, null);

            assertEquals(3, ledger.claims.get(), "failed twice, then taken");
            await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals("callback", result.path("receivedVia").asText(), result.toString());
            LedgerRecord after = app.ledger().findById(row.id()).orElseThrow();
            assertEquals(SubmissionState.DELIVERED, after.state());
            assertNotNull(after.callbackAt());
        }
    }

    @Test
    void aCallbackWhoseClaimWasWrittenButWhoseReplyWasLostIsCollectedAtOnce() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props())) {
            LedgerRecord row = RefusedOutcomeTest.dropAndAwaitConfirmed(app, "u3203.png");
            FailingOver ledger = new FailingOver(app.ledger(), 1, 0);
            ledger.claimsWritten = true;

            receiver(app, ledger).collect(row.submissionId(), null, null, null);

            assertEquals(2, ledger.claims.get(), "written, its reply lost, then tried again");
            // not left COLLECTING for ktp.poll.stale-claim-after (5 min): the second try knew its claim
            await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals("callback", result.path("receivedVia").asText(), result.toString());
            assertEquals(SubmissionState.DELIVERED, app.ledger().findById(row.id()).orElseThrow().state());
        }
    }

    @Test
    void aPollersClaimWhoseReplyWasLostIsTriedAgainAndFindsTheRowItsOwn() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props())) {
            LedgerRecord row = RefusedOutcomeTest.dropAndAwaitConfirmed(app, "u3204.png");
            FailingOver ledger = new FailingOver(app.ledger(), 1, 0);
            ledger.claimsWritten = true;
            Collector collector = new Collector(ledger, app.bean("gtfClient", id.ktpbridge.gtf.GtfClient.class),
                    app.bean("resultPublisher", id.ktpbridge.result.ResultPublisher.class), Duration.ofSeconds(1), 6,
                    Duration.ofMillis(10));

            await().atMost(Duration.ofSeconds(10)).until(
                    () -> "COMPLETED".equals(app.sandbox().submissionStatus(row.submissionId())));

            // the poller found the submission COMPLETED; its claim is written, the reply lost
            assertTrue(collector.collect(row, Collector.VIA_POLL), "collected on the second try of its claim");

            assertEquals(2, ledger.claims.get(), "written, its reply lost, then tried again");
            await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals("poll", result.path("receivedVia").asText(), result.toString());
            assertEquals(SubmissionState.DELIVERED, app.ledger().findById(row.id()).orElseThrow().state());
        }
    }

    @Test
    void aCallbackWhoseNoteMeetsAFailoverIsStillNoted() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props())) {
            LedgerRecord row = RefusedOutcomeTest.dropAndAwaitConfirmed(app, "u3202.png");
            // the poller holds the outcome: the callback is only noted, so that its next try asks details
            assertTrue(app.ledger().claim(row.id(), Collector.VIA_POLL) != 0);
            FailingOver ledger = new FailingOver(app.ledger(), 0, 1);

            receiver(app, ledger).collect(row.submissionId(), null, null, null);

            assertEquals(2, ledger.notes.get(), "failed once, then noted");
            LedgerRecord after = app.ledger().findById(row.id()).orElseThrow();
            assertNotNull(after.callbackAt(), "the callback is noted");
            assertEquals(SubmissionState.COLLECTING, after.state(), "still the poller's");
        }
    }

    /**
     * The application's receiver as it is built, on the given ledger (auth and allowlist play no
     * part here), with the default ledger retries ({@code ktp.db.retry-delay} 500 ms, doubling).
     */
    private static CallbackReceiver receiver(BridgeApp app, Ledger ledger) {
        return new CallbackReceiver(new CallbackAuth("none", null), new CallerAllowlist(""), false, 65536,
                new ObjectMapper(), ledger, app.bean("collector", Collector.class), false);
    }

    /** No callback from the sandbox, and no poll before the test is done: only the test's collection runs. */
    private static Map<String, String> props() {
        return Map.of("gtf.sandbox.callback.enabled", "false", "ktp.poll.first-delay", "600000");
    }
}

package id.ktpbridge.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LedgerTest {

    /** The moment the poll backlog ({@link Ledger#pollBacklog}: ktp_polls_due, ktp_polls_overdue) is read at. */
    private static final long BACKLOG_NOW = 1_700_000_000_000L;

    private JdbcConnectionPool ds;
    private Ledger ledger;

    @BeforeEach
    void setUp() {
        ds = JdbcConnectionPool.create("jdbc:h2:mem:ledger-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "");
        SchemaMigrator.migrate(ds);
        ledger = new Ledger(ds);
    }

    @AfterEach
    void tearDown() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("SHUTDOWN");
        }
        ds.dispose();
    }

    static NewInput input(String id, String file) {
        return new NewInput(id, "FILE", "/in/" + file, file, "ab".repeat(32), 1234L, "image/jpeg", "partner-a",
                "user-" + id, "PARTNER_USER_ID", UUID.randomUUID().toString(), UUID.randomUUID().toString(),
                "{\"channel\":\"test\"}");
    }

    private String newRow(SubmissionState state) {
        String id = UUID.randomUUID().toString();
        ledger.insert(input(id, id + ".jpg"), state);
        return id;
    }

    /** A row taken through presign, upload and confirm, due for its first poll at {@code firstPollAt}. */
    private String confirmedRow(long firstPollAt) {
        String id = newRow(SubmissionState.RECEIVED);
        ledger.markUploaded(id, "sub-" + id, "psid-" + id, "sdk-" + id, "https://storage.test/" + id, 5_000L);
        ledger.markConfirmed(id, 1_000L, firstPollAt, firstPollAt + 60_000);
        return id;
    }

    private LedgerRecord row(String id) {
        return ledger.findById(id).orElseThrow();
    }

    @Test
    void aConfirmRecordedTwiceIsNotAnError() {
        String id = confirmedRow(5_000L);
        // the confirm step run again after its first write did commit
        ledger.markConfirmed(id, 2_000L, 9_000L, 70_000L);
        assertEquals(SubmissionState.CONFIRMED, row(id).state());
        assertEquals(1_000L, row(id).submittedAt(), "the first confirm stands");
        String ended = newRow(SubmissionState.RECEIVED);
        ledger.markEnded(ended, SubmissionState.FAILED, "GTF_PRESIGN_FAILED", "refused");
        assertThrows(LedgerException.class, () -> ledger.markConfirmed(ended, 1L, 2L, 3L));
    }

    @Test
    void aStoredResultIsNeverReplaced() {
        String id = confirmedRow(0L);
        assertTrue(ledger.recordResult(id, "COMPLETED", "VALID", "", 1L, "{\"first\":true}", c -> { }));
        boolean[] ranInTransaction = {false};
        // a collector whose claim went stale and was taken over comes back late
        assertFalse(ledger.recordResult(id, "TIMED_OUT", null, "POLL_DEADLINE_EXCEEDED", 2L, "{\"second\":true}",
                c -> ranInTransaction[0] = true));
        assertFalse(ranInTransaction[0], "nothing is queued for the late one");
        assertEquals("{\"first\":true}", ledger.resultJson(id).orElseThrow());
        assertEquals("COMPLETED", row(id).resultStatus());
    }

    @Test
    void aMigrationCutOffHalfWayRunsAgainFromTheTop() throws SQLException {
        // H2 commits each DDL statement by itself: a start killed inside a script leaves its first
        // statements applied and its version unrecorded, so the next start runs the whole script again
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("DELETE FROM ktp_schema_version WHERE version >= 3");
        }
        SchemaMigrator.migrate(ds);
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT MAX(version) FROM ktp_schema_version")) {
            assertTrue(rs.next());
            assertEquals(SchemaMigrator.SCRIPTS.size(), rs.getInt(1));
        }
    }

    @Test
    void migratingTwiceIsANoOp() throws SQLException {
        String id = newRow(SubmissionState.RECEIVED);

        SchemaMigrator.migrate(ds);

        assertTrue(ledger.findById(id).isPresent(), "existing rows survive");
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*), MAX(version) FROM ktp_schema_version")) {
            assertTrue(rs.next());
            assertEquals(SchemaMigrator.SCRIPTS.size(), rs.getInt(1));
            assertEquals(SchemaMigrator.SCRIPTS.size(), rs.getInt(2));
        }
    }

    @Test
    void aTableIsLookedUpInTheCatalogByItsExactName() throws SQLException {
        // the look-up that spares an up-to-date schema any DDL
        try (Connection c = ds.getConnection()) {
            assertTrue(SchemaMigrator.exists(c, "ktp_schema_version"));
            assertFalse(SchemaMigrator.exists(c, "ktp_schema_versio_"), "'_' is no wildcard there");
            assertFalse(SchemaMigrator.exists(c, "ktp_result"));
        }
    }

    @Test
    void insertStoresTheInput() {
        String id = UUID.randomUUID().toString();
        NewInput in = input(id, "u00017.jpg");
        long before = System.currentTimeMillis();

        ledger.insert(in, SubmissionState.RECEIVED);

        LedgerRecord r = row(id);
        assertEquals(SubmissionState.RECEIVED, r.state());
        assertEquals("FILE", r.sourceType());
        assertEquals("/in/u00017.jpg", r.sourceRef());
        assertEquals("u00017.jpg", r.sourceFile());
        assertEquals(in.sourceSha256(), r.sourceSha256());
        assertEquals(1234L, r.sourceSize());
        assertEquals("image/jpeg", r.contentType());
        assertEquals("partner-a", r.onboardingPartner());
        assertEquals("user-" + id, r.partnerUserId());
        assertEquals("PARTNER_USER_ID", r.partnerUserIdType());
        assertEquals(in.partnerSessionId(), r.partnerSessionId());
        assertEquals(in.sdkSessionId(), r.sdkSessionId());
        assertEquals("{\"channel\":\"test\"}", r.confirmMetadata());
        assertNull(r.submissionId());
        assertNull(r.nextPollAt());
        assertNull(r.callbackAt());
        assertEquals(0, r.pollAttempts());
        assertTrue(r.createdAt() >= before);
    }

    @Test
    void statesFollowTheSubmissionSteps() {
        String id = newRow(SubmissionState.RECEIVED);

        ledger.markUploaded(id, "sub-1", "psid-1", "sdk-1", "https://storage.test/upload?sig=a%2Fb", 5_000L);
        assertEquals(SubmissionState.UPLOADED, row(id).state());
        assertEquals("sub-1", row(id).submissionId());
        assertEquals("psid-1", row(id).partnerSessionId());
        assertEquals("sdk-1", row(id).sdkSessionId());
        assertEquals(new Ledger.StoredUpload("https://storage.test/upload?sig=a%2Fb", 5_000L),
                ledger.storedUpload(id).orElseThrow());

        ledger.markConfirmed(id, 1_000L, 2_000L, 3_000L);
        LedgerRecord r = row(id);
        assertEquals(SubmissionState.CONFIRMED, r.state());
        assertEquals(1_000L, r.submittedAt());
        assertEquals(2_000L, r.nextPollAt());
        assertEquals(3_000L, r.deadlineAt());
        assertEquals(0, r.pollAttempts());
        assertEquals(id, ledger.findBySubmissionId("sub-1").orElseThrow().id());
    }

    @Test
    void transitionsOfAnUnknownRowFail() {
        assertThrows(LedgerException.class, () -> ledger.markUploaded("missing", "sub-x", "p", "s", "https://storage.test/x", 1L));
        assertThrows(LedgerException.class, () -> ledger.markConfirmed("missing", 1L, 2L, 3L));
    }

    @Test
    void confirmingAFinalRowFails() {
        String rejected = newRow(SubmissionState.RECEIVED);
        ledger.markEnded(rejected, SubmissionState.REJECTED, "EMPTY_FILE", "0 bytes");
        String delivered = confirmedRow(0L);
        assertTrue(ledger.claim(delivered, "poll") > 0);
        ledger.recordResult(delivered, null, null, null, null, null, c -> { });

        assertThrows(LedgerException.class, () -> ledger.markConfirmed(rejected, 1L, 2L, 3L));
        assertEquals(SubmissionState.REJECTED, row(rejected).state());
        // a row confirmed before keeps its state and poll schedule: a second confirm changes nothing
        ledger.markConfirmed(delivered, 1L, 2L, 3L);
        assertEquals(SubmissionState.DELIVERED, row(delivered).state());
        String confirmed = confirmedRow(5_000L);
        ledger.markConfirmed(confirmed, 1L, 2L, 3L);
        assertEquals(5_000L, row(confirmed).nextPollAt());
    }

    @Test
    void aSubmissionIsHeldByOneOpenInputAndLetGoByOneThatEndedBeforeItsConfirm() {
        String first = newRow(SubmissionState.RECEIVED);
        String second = newRow(SubmissionState.RECEIVED);
        assertNull(ledger.holdSubmission(first, "sub-x", "ps-1", "sdk-1", "https://storage.test/u", 0L).heldBy());
        assertEquals(SubmissionState.PRESIGNED, row(first).state());
        assertNull(ledger.holdSubmission(first, "sub-x", "ps-1", "sdk-1", "https://storage.test/u", 0L).heldBy(), "presigned again, same answer");

        // another open input is refused it
        assertEquals(first, ledger.holdSubmission(second, "sub-x", "ps-2", "sdk-2", "https://storage.test/u", 0L).heldBy().id());
        assertEquals(null, row(second).submissionId());

        // the holder failed before its confirm: OneKYC never processed the submission, so it is free,
        // and the session ids it is known by go with it
        ledger.markEnded(first, SubmissionState.FAILED, "GTF_UPLOAD_FAILED", "refused");
        Ledger.SubmissionHold taken = ledger.holdSubmission(second, "sub-x", "ps-2", "sdk-2", "https://storage.test/u", 0L);
        assertNull(taken.heldBy());
        assertEquals("ps-1", taken.partnerSessionId());
        assertEquals("sdk-1", taken.sdkSessionId());
        assertEquals("sub-x", row(second).submissionId());
        assertEquals("ps-1", row(second).partnerSessionId());
        assertNull(row(first).submissionId());

        // a confirmed holder keeps it, also once it has ended
        String confirmed = confirmedRow(0L);
        assertTrue(ledger.claim(confirmed, "poll") > 0);
        ledger.recordResult(confirmed, null, null, null, null, null, c -> { });
        String third = newRow(SubmissionState.RECEIVED);
        assertEquals(confirmed, ledger.holdSubmission(third, "sub-" + confirmed, "ps-3", "sdk-3", "https://storage.test/u", 0L).heldBy().id());
    }

    @Test
    void aRunOfDeferralsCountsFromItsFirstUntilTheBytesAreStored() {
        assertDeferralRuns(ledger, newRow(SubmissionState.RECEIVED));
    }

    /** Shared with {@code PostgresLedgerTest}: the same statements on both databases. */
    static void assertDeferralRuns(Ledger ledger, String id) {
        assertEquals(10_000L, ledger.noteDeferral(id, 10_000L));
        assertEquals(10_000L, ledger.noteDeferral(id, 99_000L), "however long the input waited for its next turn");
        ledger.holdSubmission(id, "sub-" + id, "p", "s", "https://storage.test/x", 1L);
        assertEquals(10_000L, ledger.noteDeferral(id, 120_000L), "presigned again (its URL ran out): the same run");
        ledger.markUploaded(id, "sub-" + id, "p", "s", "https://storage.test/x", 1L);
        assertEquals(140_000L, ledger.noteDeferral(id, 140_000L), "uploaded since: a new run");
        assertEquals(140_000L, ledger.noteDeferral(id, 150_000L));
    }

    @Test
    void markEndedRecordsReasonAndTruncatesLongMessages() {
        String id = newRow(SubmissionState.RECEIVED);

        ledger.markEnded(id, SubmissionState.FAILED, "UPLOAD_FAILED", "x".repeat(5000));

        LedgerRecord r = row(id);
        assertEquals(SubmissionState.FAILED, r.state());
        assertEquals("UPLOAD_FAILED", r.reasonCode());
        assertEquals(2000, r.errorMessage().length());
        assertNotNull(r.completedAt());
    }

    @Test
    void claimWinsOnlyOnce() {
        String id = confirmedRow(0L);

        assertTrue(ledger.claim(id, "callback") > 0);
        assertEquals(0, ledger.claim(id, "poll"));

        LedgerRecord r = row(id);
        assertEquals(SubmissionState.COLLECTING, r.state());
        assertEquals("callback", r.receivedVia());
        assertEquals(0, ledger.claim(newRow(SubmissionState.RECEIVED), "poll"), "only confirmed rows can be claimed");
        assertEquals(0, ledger.claim("missing", "poll"));
    }

    @Test
    void concurrentClaimsHaveExactlyOneWinner() throws Exception {
        String id = confirmedRow(0L);
        int threads = 16;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch ready = new CountDownLatch(threads);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Boolean>> outcomes = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                String via = "collector-" + i;
                outcomes.add(pool.submit(() -> {
                    ready.countDown();
                    go.await();
                    return ledger.claim(id, via) > 0;
                }));
            }
            assertTrue(ready.await(5, TimeUnit.SECONDS));
            go.countDown();

            int winners = 0;
            String winner = null;
            for (int i = 0; i < threads; i++) {
                if (outcomes.get(i).get(10, TimeUnit.SECONDS)) {
                    winners++;
                    winner = "collector-" + i;
                }
            }
            assertEquals(1, winners);
            assertEquals(winner, row(id).receivedVia(), "the row names the one winner");
            assertEquals(SubmissionState.COLLECTING, row(id).state());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void releasedClaimCanBeClaimedAgain() {
        String id = confirmedRow(0L);
        long claim = ledger.claim(id, "poll");
        assertTrue(claim > 0);

        ledger.releaseClaim(id, 42_000L, claim);

        LedgerRecord r = row(id);
        assertEquals(SubmissionState.CONFIRMED, r.state());
        assertNull(r.receivedVia());
        assertEquals(42_000L, r.nextPollAt());
        assertTrue(ledger.claim(id, "callback") > 0);
        assertEquals("callback", row(id).receivedVia());
    }

    @Test
    void releaseClaimLeavesUnclaimedRowsAlone() {
        String id = confirmedRow(7_000L);
        ledger.releaseClaim(id, 42_000L, System.currentTimeMillis());
        assertEquals(7_000L, row(id).nextPollAt(), "a row nobody claimed keeps its schedule");

        String delivered = confirmedRow(0L);
        long claim = ledger.claim(delivered, "poll");
        assertTrue(claim > 0);
        ledger.recordResult(delivered, null, null, null, null, null, c -> { });
        ledger.releaseClaim(delivered, 42_000L, claim);
        assertEquals(SubmissionState.DELIVERED, row(delivered).state());
    }

    @Test
    void aCollectorWhoseClaimWentStaleCannotReopenTheClaimThatReplacedIt() throws Exception {
        String id = confirmedRow(0L);
        long slow = ledger.claim(id, "poll");
        assertTrue(slow > 0);
        Thread.sleep(5);
        // the tick finds the claim stale (its collector took longer than stale-claim-after) and another takes it
        assertEquals(1, ledger.releaseStaleClaims(System.currentTimeMillis()));
        long other = ledger.claim(id, "callback");
        assertTrue(other > 0 && other != slow);
        // the slow collector's details call fails at last: its give-back finds no claim of its own
        ledger.releaseClaim(id, 42_000L, slow);
        assertEquals(SubmissionState.COLLECTING, row(id).state());
        assertEquals("callback", row(id).receivedVia());
        assertEquals(0, ledger.claim(id, "poll"), "not open to a third collector");
        assertFalse(ledger.holdsClaim(id, slow), "the slow collector learns it before ending the submission itself");
        assertTrue(ledger.holdsClaim(id, other));
        // and were it to try all the same, its own verdict is not stored
        assertFalse(ledger.recordResult(id, "TIMED_OUT", null, "POLL_DEADLINE_EXCEEDED", 1L, "{}", slow, c -> { }));
        assertNull(row(id).resultStatus());
        ledger.releaseClaim(id, 42_000L, other);
        assertFalse(ledger.holdsClaim(id, other), "given back");
        assertEquals(SubmissionState.CONFIRMED, row(id).state(), "its holder gives it back");
        long last = ledger.claim(id, "poll");
        assertTrue(ledger.recordResult(id, "TIMED_OUT", null, "POLL_DEADLINE_EXCEEDED", 1L, "{}", last, c -> { }),
                "a holder's own verdict is stored");
        assertEquals("TIMED_OUT", row(id).resultStatus());
    }

    @Test
    void theFirstErrorCallbacksReasonIsKept() {
        String quiet = confirmedRow(0L);
        ledger.noteCallback("sub-" + quiet);
        assertTrue(ledger.callbackError(quiet).isEmpty(), "a callback that did not say ERROR keeps nothing");

        String id = confirmedRow(0L);
        long at = ledger.noteCallback("sub-" + id, "VERIFICATION_FAILED").orElseThrow().callbackAt();
        ledger.noteCallback("sub-" + id, "OTHER");
        ledger.noteCallback("sub-" + id);
        assertEquals("VERIFICATION_FAILED", ledger.callbackError(id).orElseThrow());
        assertEquals(at, row(id).callbackAt());

        String claimed = confirmedRow(0L);
        assertTrue(ledger.claimByCallback("sub-" + claimed, "").isPresent());
        assertEquals("", ledger.callbackError(claimed).orElseThrow(), "an ERROR without a reason code");
        // an ERROR callback after a COMPLETED one for the same submission is kept too
        ledger.noteCallback("sub-" + quiet, "NOT_EKTP");
        assertEquals("NOT_EKTP", ledger.callbackError(quiet).orElseThrow());
    }

    @Test
    void aCollectorsOwnVerdictIsNotStoredOnceAnErrorCallbackIsNoted() {
        String id = confirmedRow(0L);
        ledger.noteCallback("sub-" + id);
        long claim = ledger.claim(id, "callback");
        ledger.noteCallback("sub-" + id, "VERIFICATION_FAILED");
        assertFalse(ledger.recordUnlessErrorCallback(id, "TIMED_OUT", "POLL_DEADLINE_EXCEEDED", 1L, "{}", claim,
                c -> { }));
        assertNull(row(id).resultStatus());

        String other = confirmedRow(0L);
        ledger.noteCallback("sub-" + other);
        long held = ledger.claim(other, "callback");
        assertTrue(ledger.recordUnlessErrorCallback(other, "TIMED_OUT", "POLL_DEADLINE_EXCEEDED", 1L, "{}", held,
                c -> { }), "a COMPLETED callback does not hold it back");
    }

    @Test
    void thePollersOwnVerdictIsNotStoredOnceACallbackIsNoted() {
        String id = confirmedRow(0L);
        long claim = ledger.claimWithoutCallback(id, "poll");
        assertTrue(claim > 0);
        ledger.noteCallback("sub-" + id);
        boolean[] queued = {false};
        assertFalse(ledger.recordVerdict(id, "TIMED_OUT", "POLL_DEADLINE_EXCEEDED", 1L, "{}", claim,
                c -> queued[0] = true));
        assertFalse(queued[0], "nothing is queued for it");
        assertNull(row(id).resultStatus());
        assertTrue(ledger.holdsClaim(id, claim), "the claim is still the poller's to give back");

        String quiet = confirmedRow(0L);
        long held = ledger.claimWithoutCallback(quiet, "poll");
        assertTrue(ledger.recordVerdict(quiet, "TIMED_OUT", "POLL_DEADLINE_EXCEEDED", 1L, "{}", held, c -> { }));
        assertEquals("TIMED_OUT", row(quiet).resultStatus());
    }

    @Test
    void staleClaimsGoBackToThePool() {
        String stale = confirmedRow(0L);
        String untouched = confirmedRow(0L);
        long beforeClaim = System.currentTimeMillis();
        assertTrue(ledger.claim(stale, "poll") > 0);

        assertEquals(0, ledger.releaseStaleClaims(beforeClaim), "a claim made after the cut-off is not stale");
        assertEquals(SubmissionState.COLLECTING, row(stale).state());

        assertEquals(1, ledger.releaseStaleClaims(System.currentTimeMillis() + 1));
        LedgerRecord r = row(stale);
        assertEquals(SubmissionState.CONFIRMED, r.state());
        assertNull(r.receivedVia());
        assertEquals(SubmissionState.CONFIRMED, row(untouched).state());
        assertTrue(ledger.claim(stale, "poll") > 0);
    }

    @Test
    void dueForPollReturnsDueConfirmedRowsOldestFirst() {
        long now = 1_000_000L;
        String dueLate = confirmedRow(now);
        String dueEarly = confirmedRow(now - 5_000);
        String dueMiddle = confirmedRow(now - 1_000);
        String future = confirmedRow(now + 1);
        String claimed = confirmedRow(now - 9_000);
        assertTrue(ledger.claim(claimed, "callback") > 0);
        newRow(SubmissionState.RECEIVED);

        List<String> due = ledger.dueForPoll(now, 10).stream().map(LedgerRecord::id).toList();
        assertEquals(List.of(dueEarly, dueMiddle, dueLate), due);

        assertEquals(List.of(dueEarly, dueMiddle),
                ledger.dueForPoll(now, 2).stream().map(LedgerRecord::id).toList());
        assertEquals(List.of(dueEarly, dueMiddle, dueLate, future),
                ledger.dueForPoll(now + 1, 10).stream().map(LedgerRecord::id).toList());
    }

    @Test
    void reschedulePollMovesAConfirmedRow() {
        String id = confirmedRow(1_000L);
        ledger.reschedulePoll(id, 3, 9_000L);
        LedgerRecord r = row(id);
        assertEquals(3, r.pollAttempts());
        assertEquals(9_000L, r.nextPollAt());
        assertTrue(ledger.dueForPoll(8_999L, 10).isEmpty());
    }

    @Test
    void noteCallbackMarksKnownSubmissionsOnly() {
        String id = confirmedRow(0L);
        long before = System.currentTimeMillis();

        LedgerRecord r = ledger.noteCallback("sub-" + id).orElseThrow();

        assertEquals(id, r.id());
        assertNotNull(r.callbackAt());
        assertTrue(r.callbackAt() >= before);
        assertEquals(SubmissionState.CONFIRMED, r.state(), "noting a callback does not claim the row");
        assertTrue(ledger.noteCallback("sub-unknown").isEmpty());
    }

    @Test
    void noteCallbackKeepsTheFirstArrival() {
        String id = confirmedRow(0L);
        long first = ledger.noteCallback("sub-" + id).orElseThrow().callbackAt();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            // push the first arrival into the past so a second write would be visible
            s.executeUpdate("UPDATE ktp_submission SET callback_at = " + (first - 60_000) + " WHERE id = '" + id + "'");
        } catch (SQLException e) {
            throw new AssertionError(e);
        }

        assertEquals(first - 60_000, ledger.noteCallback("sub-" + id).orElseThrow().callbackAt());
    }

    @Test
    void aCallbackForAConfirmedRowNotesAndClaimsItOnce() {
        String id = confirmedRow(0L);
        long before = System.currentTimeMillis();

        Ledger.Claim claim = ledger.claimByCallback("sub-" + id).orElseThrow();
        LedgerRecord r = claim.row();
        assertTrue(claim.token() > 0);

        assertEquals(id, r.id());
        assertEquals(SubmissionState.COLLECTING, r.state());
        assertEquals("callback", r.receivedVia());
        assertTrue(r.callbackAt() >= before);
        assertTrue(ledger.claimByCallback("sub-" + id).isEmpty(), "a duplicate callback does not claim it again");
        assertEquals(0, ledger.claim(id, "poll"), "nor does the poller");
        assertTrue(ledger.claimByCallback("sub-unknown").isEmpty());
    }

    @Test
    void aCallbackClaimTriedAgainWithItsTokenFindsTheRowItsOwnAndNoOtherTokenDoes() {
        String id = confirmedRow(0L);
        long token = Ledger.newClaimToken();
        assertEquals(token, ledger.claimByCallback("sub-" + id, null, token).orElseThrow().token());
        // its reply lost: the same claim again
        assertEquals(token, ledger.claimByCallback("sub-" + id, null, token).orElseThrow().token());
        assertTrue(ledger.claimByCallback("sub-" + id, null, token + 1).isEmpty(), "another claim's token");
        assertTrue(ledger.claimByCallback("sub-" + id, null).isEmpty(), "a claim without a token of its own");
        assertEquals(SubmissionState.COLLECTING, ledger.findById(id).orElseThrow().state());
    }

    @Test
    void aPollerClaimTriedAgainWithItsTokenFindsTheRowItsOwnAndNoOtherClaimDoes() {
        String id = confirmedRow(0L);
        long token = Ledger.newClaimToken();
        assertEquals(token, ledger.claim(id, "poll", token));
        // its reply lost: the same claim again
        assertEquals(token, ledger.claim(id, "poll", token));
        assertEquals(token, ledger.claimWithoutCallback(id, "poll", token));
        assertEquals(0, ledger.claim(id, "poll", Ledger.newClaimToken()), "another claim's token");
        assertEquals(0, ledger.claim(id, "callback", token), "the same token under another collector's name");
        assertTrue(ledger.claimByCallback("sub-" + id, null, token).isEmpty(), "nor a callback's claim");
        assertTrue(ledger.holdsClaim(id, token));
    }

    @Test
    void claimsMadeAtTheSameMomentOnTwoInstancesAreToldApart() {
        // two instances drawing a token in the same millisecond: with tokens that were times, the
        // second took the first's claim for its own and both collected
        String id = confirmedRow(0L);
        long first = Ledger.newClaimToken();
        long second = Ledger.newClaimToken();
        assertTrue(first != second && first != 0 && second != 0);
        assertTrue(ledger.claimByCallback("sub-" + id, null, first).isPresent());
        assertTrue(ledger.claimByCallback("sub-" + id, null, second).isEmpty());
        assertFalse(ledger.holdsClaim(id, second));

        ledger.releaseClaim(id, 0L, second);
        assertTrue(ledger.holdsClaim(id, first), "another claim's release does not let go of this one");
        ledger.releaseClaim(id, 0L, first);
        assertEquals(SubmissionState.CONFIRMED, ledger.findById(id).orElseThrow().state());
        assertFalse(ledger.holdsClaim(id, first));
    }

    @Test
    void aWriteThatFindsTheRowOtherwiseThanExpectedSaysWhatTheRowIs() {
        String id = newRow(SubmissionState.FAILED);
        LedgerException e = org.junit.jupiter.api.Assertions.assertThrows(LedgerException.class,
                () -> ledger.markUploaded(id, "sub-" + id, "psid-" + id, "sdk-" + id, "https://storage.test/" + id, 5L));
        assertTrue(e.getMessage().contains("0 rows written; now FAILED, no submission"), e.getMessage());
    }

    @Test
    void aCallbackNotedForASubmissionReplacedBeforeItsConfirmIsForgottenWithIt() {
        String id = newRow(SubmissionState.RECEIVED);
        ledger.markUploaded(id, "sub-old-" + id, "psid-" + id, "sdk-" + id, "https://storage.test/" + id, 5_000L);
        // OneKYC ended the first submission before our confirm (its URL ran out) and said so
        ledger.noteCallback("sub-old-" + id, "URL_EXPIRED").orElseThrow();
        assertTrue(ledger.callbackNoted(id));

        // uploaded again on the same submission: its note stays
        ledger.markUploaded(id, "sub-old-" + id, "psid-" + id, "sdk-" + id, "https://storage.test/" + id, 6_000L);
        assertTrue(ledger.callbackNoted(id));
        assertEquals("URL_EXPIRED", ledger.callbackError(id).orElseThrow());

        // a new submission for the input: the old one's callback says nothing of it
        ledger.markUploaded(id, "sub-new-" + id, "psid2-" + id, "sdk2-" + id, "https://storage.test/2" + id, 7_000L);
        assertFalse(ledger.callbackNoted(id));
        assertTrue(ledger.callbackError(id).isEmpty());
        assertEquals("sub-new-" + id, ledger.findById(id).orElseThrow().submissionId());
    }

    @Test
    void theNoteOfAConfirmSentIsWrittenWithTheUploadAndGoesWithItsSubmission() {
        String id = newRow(SubmissionState.RECEIVED);
        ledger.markUploaded(id, "sub-" + id, "psid-" + id, "sdk-" + id, "https://storage.test/" + id, 5_000L);
        assertTrue(ledger.noteConfirmSent(id), "the upload's write notes the confirm that follows it");

        // its answer said not applied: a later confirm of a resumed input notes itself
        ledger.clearConfirmSent(id);
        assertFalse(ledger.noteConfirmSent(id), "no note was there: this one is written now");
        assertTrue(ledger.noteConfirmSent(id));

        // the same submission presigned again keeps it; another one does not
        ledger.holdSubmission(id, "sub-" + id, "psid-" + id, "sdk-" + id, "https://storage.test/" + id, 6_000L);
        assertTrue(ledger.noteConfirmSent(id));
        ledger.holdSubmission(id, "sub-new-" + id, "psid-" + id, "sdk-" + id, "https://storage.test/2" + id, 7_000L);
        assertFalse(ledger.noteConfirmSent(id), "the note was about the earlier submission");
    }

    @Test
    void aCallbackBeforeTheConfirmClaimsNothingAndIsNotedByTheFallback() {
        String id = newRow(SubmissionState.RECEIVED);
        ledger.markUploaded(id, "sub-" + id, "psid-" + id, "sdk-" + id, "https://storage.test/" + id, 5_000L);
        assertTrue(ledger.claimByCallback("sub-" + id).isEmpty());
        assertFalse(ledger.callbackNoted(id));

        ledger.noteCallback("sub-" + id).orElseThrow();

        assertTrue(ledger.callbackNoted(id));
        assertEquals(SubmissionState.UPLOADED, ledger.findById(id).orElseThrow().state());
    }

    @Test
    void outcomeAndDeliveryOfACollectedRow() {
        String id = confirmedRow(0L);
        assertTrue(ledger.claim(id, "poll") > 0);

        ledger.recordResult(id, "SUCCEEDED", "PASS", null, 1_700_000_000_000L, "{\"result\":\"PASS\"}", c -> { });

        LedgerRecord r = row(id);
        assertEquals(SubmissionState.DELIVERED, r.state());
        assertEquals("SUCCEEDED", r.resultStatus());
        assertEquals("PASS", r.result());
        assertNull(r.reasonCode());
        assertEquals(1_700_000_000_000L, r.completedAt());
        assertNotNull(r.deliveredAt());
        assertEquals("{\"result\":\"PASS\"}", ledger.resultJson(id).orElseThrow());
        assertEquals(0, ledger.claim(id, "callback"), "a delivered row cannot be collected again");
    }

    @Test
    void aResultWhoseQueueingFailsIsNotStored() {
        String id = confirmedRow(0L);
        assertTrue(ledger.claim(id, "callback") > 0);

        assertThrows(LedgerException.class, () -> ledger.recordResult(id, "SUCCEEDED", "PASS", null, 1L, "{}",
                c -> {
                    throw new java.sql.SQLException("outbox refused");
                }));

        LedgerRecord r = row(id);
        assertEquals(SubmissionState.COLLECTING, r.state(), "the claim stays open, so the result is published again");
        assertNull(r.resultStatus());
        assertNull(r.deliveredAt());
        assertTrue(ledger.resultJson(id).isEmpty());
    }

    @Test
    void aResultAndWhatItQueuesCommitTogether() throws Exception {
        String id = confirmedRow(0L);
        assertTrue(ledger.claim(id, "poll") > 0);

        ledger.recordResult(id, "SUCCEEDED", "PASS", null, 1L, "{}", c -> {
            try (var ps = c.prepareStatement("INSERT INTO ktp_delivery (ledger_id, target, state, attempts,"
                    + " next_attempt_at, updated_at) VALUES (?, 'file', 'PENDING', 0, 0, 0)")) {
                ps.setString(1, id);
                ps.executeUpdate();
            }
        });

        assertEquals(SubmissionState.DELIVERED, row(id).state());
        try (var c = ledger.dataSource().getConnection();
             var ps = c.prepareStatement("SELECT COUNT(*) FROM ktp_delivery WHERE ledger_id = ?")) {
            ps.setString(1, id);
            try (var rs = ps.executeQuery()) {
                rs.next();
                assertEquals(1, rs.getInt(1));
            }
        }
    }

    @Test
    void deliveringARejectedRowKeepsItRejected() {
        String id = newRow(SubmissionState.REJECTED);
        ledger.markEnded(id, SubmissionState.REJECTED, "UNSUPPORTED_FORMAT", "not an image");
        ledger.recordResult(id, "REJECTED", null, "UNSUPPORTED_FORMAT", null, "{}", c -> { });

        LedgerRecord r = row(id);
        assertEquals(SubmissionState.REJECTED, r.state());
        assertEquals("UNSUPPORTED_FORMAT", r.reasonCode());
        assertNotNull(r.deliveredAt());
    }

    @Test
    void deliveringAFailedRowKeepsItFailed() {
        String id = newRow(SubmissionState.RECEIVED);
        ledger.markEnded(id, SubmissionState.FAILED, "PRESIGN_FAILED", "503");
        ledger.recordResult(id, null, null, null, null, null, c -> { });
        assertEquals(SubmissionState.FAILED, row(id).state());
    }

    @Test
    void resultJsonOfUnknownOrEmptyRow() {
        assertTrue(ledger.resultJson("missing").isEmpty());
        assertTrue(ledger.resultJson(newRow(SubmissionState.RECEIVED)).isEmpty());
    }

    @Test
    void openCountsCountOnlyNonFinalStates() {
        assertEquals(Map.of(), ledger.openCounts());
        newRow(SubmissionState.RECEIVED);
        newRow(SubmissionState.RECEIVED);
        confirmedRow(0L);
        String collecting = confirmedRow(0L);
        assertTrue(ledger.claim(collecting, "poll") > 0);
        String delivered = confirmedRow(0L);
        assertTrue(ledger.claim(delivered, "poll") > 0);
        ledger.recordResult(delivered, null, null, null, null, null, c -> { });
        newRow(SubmissionState.REJECTED);
        String failed = newRow(SubmissionState.RECEIVED);
        ledger.markEnded(failed, SubmissionState.FAILED, "X", "y");

        assertEquals(Map.of("RECEIVED", 2, "CONFIRMED", 1, "COLLECTING", 1), ledger.openCounts());
    }

    @Test
    void createdSinceReturnsRowsFromTheCutOff() throws Exception {
        String old = newRow(SubmissionState.RECEIVED);
        long cutOff = row(old).createdAt() + 1;
        // created_at has millisecond resolution: make sure the next rows land after the cut-off
        while (System.currentTimeMillis() < cutOff) {
            Thread.sleep(1);
        }
        String a = newRow(SubmissionState.RECEIVED);
        String b = newRow(SubmissionState.REJECTED);

        List<LedgerRecord> since = ledger.createdSince(cutOff);

        assertEquals(2, since.size());
        assertEquals(Set.of(a, b), Set.of(since.get(0).id(), since.get(1).id()));
        assertTrue(since.get(0).createdAt() <= since.get(1).createdAt());
        assertEquals(3, ledger.createdSince(0L).size());
        assertTrue(ledger.createdSince(System.currentTimeMillis() + 1_000).isEmpty());
    }

    @Test
    void anEmptyLedgerHasNoBacklog() {
        assertArrayEquals(new long[] {0, 0}, ledger.pollBacklog(BACKLOG_NOW));
    }

    @Test
    void confirmedSubmissionsAreCountedDueByTheirNextPollAndOverdueByTheirDeadline() {
        confirmedWith(BACKLOG_NOW - 60_000, BACKLOG_NOW + 60_000);          // due
        confirmedWith(BACKLOG_NOW, BACKLOG_NOW + 60_000);                   // due at the very moment
        confirmedWith(BACKLOG_NOW + 1, BACKLOG_NOW + 60_000);               // not yet
        confirmedWith(BACKLOG_NOW - 60_000, BACKLOG_NOW - 1);               // due and past its deadline
        confirmedWith(BACKLOG_NOW + 60_000, BACKLOG_NOW);                   // past its deadline at the very moment, poll not due
        assertArrayEquals(new long[] {3, 2}, ledger.pollBacklog(BACKLOG_NOW));
        assertArrayEquals(new long[] {0, 0}, ledger.pollBacklog(BACKLOG_NOW - 120_000), "earlier, nothing was due");
        assertArrayEquals(new long[] {5, 5}, ledger.pollBacklog(BACKLOG_NOW + 60_000), "later, all of them");
    }

    @Test
    void withStatusPollingOffOnlyWhatATickTakesIsCountedDue() {
        String waiting = confirmedWith(BACKLOG_NOW - 60_000, BACKLOG_NOW + 60_000);   // waits for its callback
        String named = confirmedWith(BACKLOG_NOW - 60_000, BACKLOG_NOW + 60_000);     // a callback named it final
        assertTrue(ledger.noteCallback("sub-" + named).isPresent());
        confirmedWith(BACKLOG_NOW - 60_000, BACKLOG_NOW - 1);                          // past its deadline
        confirmedWith(BACKLOG_NOW + 60_000, BACKLOG_NOW);                              // overdue, poll not due
        assertArrayEquals(new long[] {3, 2}, ledger.pollBacklog(BACKLOG_NOW), "status polling: every due poll");
        // confirmed 120 s before: its one look comes 200 s after the confirm, not yet
        assertArrayEquals(new long[] {2, 2}, ledger.pollBacklog(BACKLOG_NOW, true, 200_000));
        assertEquals(2, ledger.dueForPoll(BACKLOG_NOW, 10, true, 200_000).size(), "as the tick takes them");
        // 60 s after the confirm: the one still waiting for its callback is due for that look
        assertArrayEquals(new long[] {3, 2}, ledger.pollBacklog(BACKLOG_NOW, true, 60_000));
        assertTrue(ledger.dueForPoll(BACKLOG_NOW, 10, true, 60_000).stream().anyMatch(r -> r.id().equals(waiting)));
    }

    @Test
    void onlyConfirmedSubmissionsCount() {
        confirmedWith(BACKLOG_NOW - 60_000, BACKLOG_NOW - 1);
        // one whose outcome is being collected, one not yet submitted, one ended: none wait for a poll
        String collecting = confirmedWith(BACKLOG_NOW - 60_000, BACKLOG_NOW - 1);
        assertNotEquals(0, ledger.claim(collecting, "POLL"));
        ledger.insert(input(UUID.randomUUID().toString(), "backlog.jpg"), SubmissionState.RECEIVED);
        String ended = confirmedWith(BACKLOG_NOW - 60_000, BACKLOG_NOW - 1);
        assertNotEquals(0, ledger.claim(ended, "POLL"));
        assertTrue(ledger.recordResult(ended, "COMPLETED", "{}", null, BACKLOG_NOW, "{}", c -> { }));
        assertArrayEquals(new long[] {1, 1}, ledger.pollBacklog(BACKLOG_NOW));
    }

    /** A submission taken through upload and confirm, with its next poll and deadline (poll backlog tests). */
    private String confirmedWith(long nextPollAt, long deadlineAt) {
        String id = UUID.randomUUID().toString();
        ledger.insert(input(id, id + ".jpg"), SubmissionState.RECEIVED);
        ledger.markUploaded(id, "sub-" + id, "psid-" + id, "sdk-" + id, "https://storage.test/" + id, BACKLOG_NOW + 600_000);
        ledger.markConfirmed(id, BACKLOG_NOW - 120_000, nextPollAt, deadlineAt);
        return id;
    }
}

package id.ktpbridge.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import id.ktpbridge.testkit.ManualClock;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LeasesTest {

    /** Claims' time to live where time is moved by {@link #age}. */
    private static final long CLAIM_TTL = 60_000;

    private final List<JdbcConnectionPool> pools = new ArrayList<>();

    @AfterEach
    void dispose() {
        pools.forEach(JdbcConnectionPool::dispose);
    }

    /** A ledger of its own for the test, in memory. */
    private JdbcConnectionPool migratedPool() {
        JdbcConnectionPool pool = JdbcConnectionPool.create("jdbc:h2:mem:leases-" + UUID.randomUUID()
                + ";DB_CLOSE_DELAY=-1", "sa", "");
        pools.add(pool);
        SchemaMigrator.migrate(pool);
        return pool;
    }

    @Test
    void oneHolderAtATimeUntilTheLeaseRunsOut() throws Exception {
        JdbcConnectionPool ds = migratedPool();
        // one clock for both holders, moved by hand: a slow statement cannot let a lease run out
        ManualClock clock = new ManualClock(1_700_000_000_000L);
        Leases a = new Leases(ds, "node-a", clock);
        Leases b = new Leases(ds, "node-b", clock);
        assertTrue(a.tryHold("poll-tick", 1_500));
        assertFalse(b.tryHold("poll-tick", 1_500), "held by a");
        clock.advance(Duration.ofMillis(1_000));
        assertTrue(a.tryHold("poll-tick", 1_500), "the holder renews");
        assertTrue(b.tryHold("other", 1_500), "names are independent");
        clock.advance(Duration.ofMillis(1_000));
        assertFalse(b.tryHold("poll-tick", 1_500), "renewed: still a's past its first lease");
        clock.advance(Duration.ofMillis(500));
        assertFalse(b.tryHold("poll-tick", 1_500), "still a's at the very end of its lease");
        clock.advance(Duration.ofMillis(1));
        assertTrue(b.tryHold("poll-tick", 1_500), "a's lease ran out");
        assertFalse(a.tryHold("poll-tick", 1_500));
    }

    @Test
    void claimsExpireUnlessConfirmed() throws Exception {
        JdbcConnectionPool ds = migratedPool();
        // a time to live no slow machine comes near; time passes by moving the claims back (see age)
        LedgerIdempotentRepository node1 = new LedgerIdempotentRepository(ds, "file", CLAIM_TTL, "node1");
        LedgerIdempotentRepository node2 = new LedgerIdempotentRepository(ds, "file", CLAIM_TTL, "node2");
        assertTrue(node1.add("/in/a.png"));
        assertTrue(node1.add("/in/b.png"));
        assertFalse(node2.add("/in/a.png"), "claimed by node1");
        assertFalse(node2.remove("/in/a.png"), "only the owner drops a claim");
        assertFalse(node2.add("/in/a.png"), "still claimed by node1");
        node1.confirm("/in/b.png");
        age(ds, CLAIM_TTL / 2);
        assertFalse(node2.add("/in/a.png"), "not yet expired");
        age(ds, CLAIM_TTL / 2 + 1_000);
        assertTrue(node2.add("/in/a.png"), "node1's unconfirmed claim expired");
        assertFalse(node2.add("/in/b.png"), "a confirmed key is remembered for good");
        assertTrue(node2.contains("/in/b.png"));
        assertTrue(node1.releaseClaims() >= 1, "unconfirmed claims can be released at once");
        assertTrue(node1.contains("/in/b.png"));

        // an input under way longer than the time to live: its live holder renews the claim
        assertTrue(node1.add("/in/slow.png"));
        for (int i = 0; i < 4; i++) {
            age(ds, CLAIM_TTL / 2);
            assertEquals(1, node1.renewClaims());
        }
        assertFalse(node2.add("/in/slow.png"), "renewed: still node1's after twice the time to live");
        age(ds, CLAIM_TTL + 1_000);
        assertTrue(node2.add("/in/slow.png"), "no longer renewed (node1 died): taken over");
    }

    @Test
    void aKeyLongerThanItsColumnIsClaimedConfirmedAndReleasedAsAnyOther() throws Exception {
        JdbcConnectionPool ds = migratedPool();
        LedgerIdempotentRepository node1 = new LedgerIdempotentRepository(ds, "sftp", 60_000, "node1");
        LedgerIdempotentRepository node2 = new LedgerIdempotentRepository(ds, "sftp", 60_000, "node2");
        // a deep SFTP path with host, size and time: past the 1024 characters the column holds
        String deep = "sftp.example:22:/" + "partner/2026/11/".repeat(80) + "u1.png:1234:1700000000000";
        String other = deep.replace("u1.png", "u2.png");
        assertTrue(node1.add(deep));
        assertFalse(node2.add(deep), "claimed by node1");
        assertTrue(node1.add(other), "another long key is another claim");
        assertTrue(node1.confirm(deep));
        assertTrue(node2.contains(deep));
        assertTrue(node1.remove(other));
        assertTrue(node2.add(other), "released");
    }

    @Test
    void aKeyLongerInBytesThanTheIndexTakesIsStoredHashed() {
        // 600 characters of a non-Latin folder name: 1,800 bytes, under the column's 1024 characters
        String wide = "sftp.example:22:/" + "\u30c6".repeat(600) + "/u1.png:1234:1700000000000";
        assertTrue(wide.length() < 1024);
        assertTrue(LedgerIdempotentRepository.storedKey(wide).startsWith("sha256:"));
        String latin = "sftp.example:22:/" + "a".repeat(900) + "/u1.png:1234:1700000000000";
        assertEquals(latin, LedgerIdempotentRepository.storedKey(latin), "stored as it is");
    }

    @Test
    void aConfirmedClaimWhoseFileStayedIsForgottenByItsHolderOnly() throws Exception {
        JdbcConnectionPool ds = migratedPool();
        LedgerIdempotentRepository node1 = new LedgerIdempotentRepository(ds, "sftp", 60_000, "node1");
        LedgerIdempotentRepository node2 = new LedgerIdempotentRepository(ds, "sftp", 60_000, "node2");
        assertTrue(node1.add("/in/u1.png:10:1"));
        assertTrue(node1.confirm("/in/u1.png:10:1"));
        assertTrue(node2.add("/in/u2.png:10:1"));
        assertTrue(node2.confirm("/in/u2.png:10:1"));
        assertFalse(node1.add("/in/u1.png:10:1"), "a confirmed claim stays");

        assertTrue(node1.forgetSettled("/in/u1.png:10:1"));
        assertTrue(node1.forgetSettled("/in/u2.png:10:1"), "nothing of node1's to drop there");
        assertFalse(node2.contains("/in/u1.png:10:1"));
        assertTrue(node2.contains("/in/u2.png:10:1"), "another instance's claim is not touched");
        assertTrue(node2.add("/in/u1.png:10:1"), "the file can be taken again");
    }

    @Test
    void aConfirmedClaimWhoseFileItsSourceNeverMovedIsTakenAgainOnceNoLiveHolderCanBeMovingIt() throws Exception {
        JdbcConnectionPool ds = migratedPool();
        Ledger ledger = new Ledger(ds);
        LedgerIdempotentRepository node1 = new LedgerIdempotentRepository(ds, "sftp", CLAIM_TTL, "node1");
        LedgerIdempotentRepository node2 = new LedgerIdempotentRepository(ds, "sftp", CLAIM_TTL, "node2");
        String unmoved = input(ledger, "/in/u1.png");
        // node1 submits the file and confirms its claim; killed before the move, it never lets go of it
        assertTrue(node1.add("/in/u1.png:10:1"));
        node1.settles("/in/u1.png:10:1", unmoved);
        assertTrue(node1.confirm("/in/u1.png:10:1"));
        assertFalse(node2.add("/in/u1.png:10:1"), "just confirmed: a live holder may be moving it now");
        ageConfirmed(ds, CLAIM_TTL / 2);
        assertFalse(node2.add("/in/u1.png:10:1"), "still within the claim's time to live");
        ageConfirmed(ds, CLAIM_TTL / 2 + 1_000);
        assertTrue(node2.add("/in/u1.png:10:1"), "confirmed a time to live ago, never moved: taken again");
        assertFalse(node1.add("/in/u1.png:10:1"), "one instance takes it");
        assertEquals(1, node2.renewClaims(), "an unconfirmed claim of node2's, under way again");

        // node2 moves it this time: the source lets go of the input, and the claim is kept for good
        node2.settles("/in/u1.png:10:1", unmoved);
        assertTrue(node2.confirm("/in/u1.png:10:1"));
        ledger.markReleased(unmoved);
        ageConfirmed(ds, 10 * CLAIM_TTL);
        assertFalse(node1.add("/in/u1.png:10:1"), "a file moved away and put back unchanged stays skipped");

        // a claim confirmed without naming its input (before ledger schema 10) is kept as it was
        assertTrue(node1.add("/in/u2.png:10:1"));
        assertTrue(node1.confirm("/in/u2.png:10:1"));
        ageConfirmed(ds, 10 * CLAIM_TTL);
        assertFalse(node2.add("/in/u2.png:10:1"));

        // a single instance at start: a confirmed claim whose input was never let go of is a dead run's
        String stopped = input(ledger, "/in/u4.png");
        assertTrue(node1.add("/in/u4.png:10:1"));
        node1.settles("/in/u4.png:10:1", stopped);
        assertTrue(node1.confirm("/in/u4.png:10:1"));
        assertEquals(1, node2.releaseClaims());
        assertTrue(node2.add("/in/u4.png:10:1"), "taken again at once after a start");
        assertFalse(node2.add("/in/u1.png:10:1"), "kept: its source let go of it");
        assertFalse(node2.add("/in/u2.png:10:1"), "kept: it names no input");
    }

    /** A ledger row for an SFTP input of this path, not yet let go of by its source. */
    private static String input(Ledger ledger, String path) {
        String id = UUID.randomUUID().toString();
        ledger.insert(new NewInput(id, "sftp", "sftp://server:22" + path, path.substring(path.lastIndexOf('/') + 1),
                UUID.randomUUID().toString().replace("-", ""), 10L, "image/png", "partner", "u1", "CLIENT_USER_ID",
                UUID.randomUUID().toString(), UUID.randomUUID().toString(), null), SubmissionState.RECEIVED);
        return id;
    }

    /** As if {@code millis} passed since every claim was confirmed. */
    private static void ageConfirmed(DataSource ds, long millis) throws SQLException {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE ktp_processed_input SET confirmed_at = confirmed_at - ? WHERE confirmed_at IS NOT NULL")) {
            ps.setLong(1, millis);
            ps.executeUpdate();
        }
    }

    @Test
    void onlyTheClaimsAProcessStillHoldsAreRenewed() throws Exception {
        AtomicBoolean deletesFail = new AtomicBoolean();
        JdbcConnectionPool pool = migratedPool();
        DataSource ds = failingDeletes(pool, deletesFail);
        LedgerIdempotentRepository node1 = new LedgerIdempotentRepository(ds, "s3", CLAIM_TTL, "node1");
        LedgerIdempotentRepository node2 = new LedgerIdempotentRepository(ds, "s3", CLAIM_TTL, "node2");
        assertTrue(node1.add("in/held.png"));
        assertTrue(node1.add("in/released.png"));
        // the release of an input that stays in its source meets a database away for a moment
        deletesFail.set(true);
        assertFalse(node1.remove("in/released.png"), "the release failed");
        deletesFail.set(false);
        // a restart under the same name finds the first run's claim, which no live process holds
        assertTrue(node1.add("in/before-restart.png"));
        LedgerIdempotentRepository restarted = new LedgerIdempotentRepository(ds, "s3", CLAIM_TTL, "node1");
        // renewed every third of the time to live, four times: the claims not renewed run out
        for (int i = 0; i < 4; i++) {
            age(pool, CLAIM_TTL / 3);
            assertEquals(2, node1.renewClaims(), "the claims still held");
            assertEquals(0, restarted.renewClaims(), "none held by this run");
        }
        assertFalse(node2.add("in/held.png"), "renewed while held");
        assertTrue(node2.add("in/released.png"), "a claim whose release failed runs out, as a dead holder's does");
        node1.remove("in/before-restart.png");
    }

    @Test
    void aKeyLetGoOfCannotConfirmTheClaimAnotherInstanceMadeSince() throws Exception {
        JdbcConnectionPool ds = migratedPool();
        LedgerIdempotentRepository node1 = new LedgerIdempotentRepository(ds, "s3", 1_500, "node1");
        LedgerIdempotentRepository node2 = new LedgerIdempotentRepository(ds, "s3", 1_500, "node2");
        LedgerIdempotentRepository node3 = new LedgerIdempotentRepository(ds, "s3", 1_500, "node3");
        assertTrue(node1.add("in/deferred.png"));
        assertTrue(node1.remove("in/deferred.png"), "the input stays in its source");
        assertTrue(node2.add("in/deferred.png"), "another instance's listing takes it");
        assertFalse(node1.confirm("in/deferred.png"), "the first instance's late confirm finds no claim of its own");
        Thread.sleep(1_600);
        assertTrue(node3.add("in/deferred.png"), "node2 died with it: its claim ran out and the input is taken again");
    }

    @Test
    void theClaimsOfAListingThatBrokeOffAreGivenBackOrNoLongerRenewed() throws Exception {
        AtomicBoolean deletesFail = new AtomicBoolean();
        DataSource ds = failingDeletes(migratedPool(), deletesFail);
        LedgerIdempotentRepository node1 = new LedgerIdempotentRepository(ds, "sftp", 60_000, "node1");
        LedgerIdempotentRepository node2 = new LedgerIdempotentRepository(ds, "sftp", 60_000, "node2");
        assertTrue(node1.add("in/under-way.png"), "claimed by an earlier listing, its exchange still running");

        node1.listingBegins();
        assertTrue(node1.add("in/a.png"));
        assertTrue(node1.add("in/b.png"));
        assertEquals(2, node1.listingBrokeOff());
        assertTrue(node2.add("in/a.png"), "given back at once");
        assertTrue(node2.add("in/b.png"), "given back at once");
        assertFalse(node2.add("in/under-way.png"), "a claim of another listing stays");

        // the database away when the listing breaks off: the claim cannot be dropped, and runs out
        node1.listingBegins();
        assertTrue(node1.add("in/c.png"));
        deletesFail.set(true);
        assertEquals(1, node1.listingBrokeOff());
        deletesFail.set(false);
        assertEquals(1, node1.renewClaims(), "only the claim under way is renewed");

        // a listing that ends well hands its claims to exchanges, which settle them
        node1.listingBegins();
        assertTrue(node1.add("in/d.png"));
        node1.listingDone();
        assertEquals(0, node1.listingBrokeOff(), "no listing under way");
        assertEquals(2, node1.renewClaims());
    }

    /**
     * As if {@code millis} passed for every claim: their times move back. No sleeping against a
     * short time to live, which a loaded machine can overrun before the next statement.
     */
    private static void age(DataSource ds, long millis) throws SQLException {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("UPDATE ktp_processed_input SET created_at = created_at - ?")) {
            ps.setLong(1, millis);
            ps.executeUpdate();
        }
    }

    @Test
    void aConfirmTheDatabaseRefusesForAMomentIsTriedAgainAndOneThatStaysRefusedDoesNotThrow() throws Exception {
        // Camel confirms an SFTP file's claim before its move to done: a confirm that throws makes it give
        // the claim back and leave the settled file in the inbox, to be taken again as a new input
        JdbcConnectionPool pool = migratedPool();
        AtomicInteger updatesToFail = new AtomicInteger();
        DataSource ds = failing(pool, "UPDATE", () -> updatesToFail.getAndDecrement() > 0);
        LedgerIdempotentRepository node1 = new LedgerIdempotentRepository(ds, "sftp", CLAIM_TTL, "node1");
        LedgerIdempotentRepository node2 = new LedgerIdempotentRepository(pool, "sftp", CLAIM_TTL, "node2");
        assertTrue(node1.add("/in/u1.png:10:1"));
        updatesToFail.set(1);
        assertTrue(node1.confirm("/in/u1.png:10:1"), "confirmed at the second try");
        age(pool, 10 * CLAIM_TTL);
        assertFalse(node2.add("/in/u1.png:10:1"), "a confirmed claim does not run out");

        assertTrue(node1.add("/in/u2.png:10:1"));
        updatesToFail.set(Integer.MAX_VALUE);
        assertFalse(node1.confirm("/in/u2.png:10:1"), "refused every time: not confirmed, and no exception");
        updatesToFail.set(0);
        assertEquals(0, node1.renewClaims(), "no longer held, so no longer renewed");
        age(pool, 2 * CLAIM_TTL);
        assertTrue(node2.add("/in/u2.png:10:1"), "the unconfirmed claim ran out");
    }

    /** {@code pool}, with every DELETE failing while {@code fail} is set. */
    private static DataSource failingDeletes(DataSource pool, AtomicBoolean fail) {
        return failing(pool, "DELETE", fail::get);
    }

    /** {@code pool}, with every statement starting with {@code verb} failing while {@code fail} says so. */
    private static DataSource failing(DataSource pool, String verb, java.util.function.BooleanSupplier fail) {
        return (DataSource) Proxy.newProxyInstance(LeasesTest.class.getClassLoader(), new Class<?>[] {DataSource.class},
                (proxy, method, args) -> {
                    Object out = invoke(pool, method, args);
                    if (!(out instanceof Connection c)) {
                        return out;
                    }
                    return Proxy.newProxyInstance(LeasesTest.class.getClassLoader(), new Class<?>[] {Connection.class},
                            (p, m, a) -> {
                                if (m.getName().equals("prepareStatement") && ((String) a[0]).startsWith(verb)
                                        && fail.getAsBoolean()) {
                                    throw new SQLException("connection refused (test)", "08001");
                                }
                                return invoke(c, m, a);
                            });
                });
    }

    private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}

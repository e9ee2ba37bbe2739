package id.ktpbridge.gtf;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.ManualClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TokenCacheTest {

    private static final long START_SECONDS = 1_700_000_000L;
    private static final long TTL_SECONDS = 300;
    private static final long SKEW_SECONDS = 30;

    private static final TokenKey ALICE = new TokenKey("partner-a", "alice", "PARTNER_USER_ID");
    private static final TokenKey BOB = new TokenKey("partner-a", "bob", "PARTNER_USER_ID");

    private final ManualClock clock = new ManualClock(START_SECONDS * 1000);
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void shutdown() throws InterruptedException {
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(5, TimeUnit.SECONDS));
    }

    /** Issues numbered tokens valid for TTL_SECONDS from the clock's current time, counting calls per key. */
    private final class CountingFetcher implements Function<TokenKey, UserToken> {
        final AtomicInteger calls = new AtomicInteger();
        final Map<TokenKey, AtomicInteger> perKey = new ConcurrentHashMap<>();

        @Override
        public UserToken apply(TokenKey key) {
            int n = calls.incrementAndGet();
            perKey.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            return new UserToken(key.partnerUserId() + "-" + n, clock.millis() / 1000 + TTL_SECONDS);
        }
    }

    /** A fetch that, once started, waits until the test lets it go on (10 s at most). */
    private static final class HeldFetch {
        private final CountDownLatch started = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);

        void hold() {
            started.countDown();
            try {
                released.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        void awaitStarted() throws InterruptedException {
            assertTrue(started.await(5, TimeUnit.SECONDS), "the fetch started");
        }

        void release() {
            released.countDown();
        }
    }

    private TokenCache cache(Function<TokenKey, UserToken> fetcher, int maxEntries) {
        return new TokenCache(fetcher, SKEW_SECONDS, maxEntries, clock);
    }

    @Test
    void reusesTokenWithinItsLifetime() {
        CountingFetcher fetcher = new CountingFetcher();
        TokenCache cache = cache(fetcher, 100);

        UserToken first = cache.get(ALICE);
        for (int i = 0; i < 9; i++) {
            clock.advance(Duration.ofSeconds(10));
            assertSame(first, cache.get(ALICE));
        }

        assertEquals(1, fetcher.calls.get());
        assertEquals(1, cache.fetches());
        assertEquals(9, cache.hits());
        assertEquals(1, cache.misses());
        assertEquals(1, cache.size());
    }

    @Test
    void refreshesOnceNowReachesExpiryMinusSkew() {
        CountingFetcher fetcher = new CountingFetcher();
        TokenCache cache = cache(fetcher, 100);
        UserToken first = cache.get(ALICE);
        long refreshAtMillis = (first.expiresAtEpochSeconds() - SKEW_SECONDS) * 1000;

        clock.set(refreshAtMillis - 1);
        assertSame(first, cache.get(ALICE), "one millisecond before expiry minus skew the token is still used");
        assertEquals(1, fetcher.calls.get());

        clock.set(refreshAtMillis);
        UserToken second = cache.get(ALICE);
        assertNotEquals(first, second);
        assertEquals(2, fetcher.calls.get());
        assertSame(second, cache.get(ALICE), "the refreshed token is cached in turn");
        assertEquals(2, cache.fetches());
        assertEquals(1, cache.size());
    }

    @Test
    void aTokenHandedOutAgainNearItsEndIsNotFetchedAnewOnEveryCall() {
        // the server gives the same token until it expires: 20 s left, inside the 30 s margin
        long end = START_SECONDS + 20;
        AtomicInteger calls = new AtomicInteger();
        TokenCache cache = cache(key -> {
            calls.incrementAndGet();
            return new UserToken("same", end, 3600);
        }, 100);

        for (int i = 0; i < 10; i++) {
            assertEquals("same", cache.get(ALICE).value());
        }
        assertEquals(1, calls.get(), "one fetch, not one per call");

        clock.advance(Duration.ofSeconds(10));
        cache.get(ALICE);
        assertEquals(1, calls.get());
        // with 5 s left or less, each call asks again: a new token may be out by then
        clock.advance(Duration.ofSeconds(5));
        cache.get(ALICE);
        assertEquals(2, calls.get());
    }

    @Test
    void aTokenEndingSoonerThanItsNamedLifetimeIsRenewedAtMostHalfOfWhatIsLeftEarly() {
        // handed back two minutes before its end with the nominal 60 days, under the default 5 m margin:
        // measured against the 60 days, the margin covered the whole two minutes (a fetch every 30 s)
        AtomicInteger calls = new AtomicInteger();
        TokenCache cache = new TokenCache(key -> {
            calls.incrementAndGet();
            return new UserToken("same", clock.millis() / 1000 + 120, 5_184_000);
        }, 300, 100, clock);

        cache.get(ALICE);
        clock.advance(Duration.ofSeconds(31));
        cache.get(ALICE);
        clock.advance(Duration.ofSeconds(28));
        cache.get(ALICE);
        assertEquals(1, calls.get(), "used for the first half of its two minutes");
        clock.advance(Duration.ofSeconds(1));
        cache.get(ALICE);
        assertEquals(2, calls.get(), "renewed at half of what was left of it");
    }

    @Test
    void aTokenServerClockALittleBehindDoesNotGetATokenCallPerCall() {
        // 115 s behind with 120 s tokens: each expires_at 5 s ahead by this host's clock
        AtomicInteger calls = new AtomicInteger();
        TokenCache cache = new TokenCache(key -> new UserToken("t" + calls.incrementAndGet(),
                clock.millis() / 1000 + 5, 120), 300, 100, clock);

        for (int i = 0; i < 10; i++) {
            assertEquals("t1", cache.get(ALICE).value());
        }
        clock.advance(Duration.ofSeconds(2));
        assertEquals("t1", cache.get(ALICE).value());
        assertEquals(1, calls.get(), "one token for the calls of its first half, not one per call");
        clock.advance(Duration.ofSeconds(1));
        assertEquals("t2", cache.get(ALICE).value());
    }

    @Test
    void keepsSeparateTokensPerKey() {
        CountingFetcher fetcher = new CountingFetcher();
        TokenCache cache = cache(fetcher, 100);
        TokenKey partnerOnly = TokenKey.partner("partner-a");
        TokenKey otherType = new TokenKey("partner-a", "alice", "CLIENT_X_USER_ID");

        UserToken alice = cache.get(ALICE);
        UserToken bob = cache.get(BOB);
        UserToken partner = cache.get(partnerOnly);
        UserToken aliceOtherType = cache.get(otherType);

        assertEquals(4, fetcher.calls.get());
        assertEquals(4, List.of(alice, bob, partner, aliceOtherType).stream().distinct().count());
        assertSame(alice, cache.get(ALICE));
        assertSame(bob, cache.get(BOB));
        assertSame(partner, cache.get(partnerOnly));
        assertEquals(4, fetcher.calls.get());
        assertEquals(4, cache.size());
    }

    @Test
    void invalidateDropsOnlyThatToken() {
        CountingFetcher fetcher = new CountingFetcher();
        TokenCache cache = cache(fetcher, 100);
        UserToken alice = cache.get(ALICE);
        UserToken bob = cache.get(BOB);

        cache.invalidate(ALICE, alice);

        assertSame(bob, cache.get(BOB), "other keys are untouched");
        UserToken aliceAgain = cache.get(ALICE);
        assertNotEquals(alice, aliceAgain);
        assertEquals(2, fetcher.perKey.get(ALICE).get());
        assertEquals(1, fetcher.perKey.get(BOB).get());
    }

    @Test
    void invalidatingAStaleTokenKeepsTheFresherOne() {
        CountingFetcher fetcher = new CountingFetcher();
        TokenCache cache = cache(fetcher, 100);
        UserToken stale = cache.get(ALICE);
        cache.invalidate(ALICE, stale);
        UserToken fresh = cache.get(ALICE);

        // a second caller that also got a 401 with the old token must not throw away the new one
        cache.invalidate(ALICE, stale);

        assertSame(fresh, cache.get(ALICE));
        assertEquals(2, fetcher.calls.get());
    }

    @Test
    void invalidatingAnUnknownKeyIsHarmless() {
        CountingFetcher fetcher = new CountingFetcher();
        TokenCache cache = cache(fetcher, 100);
        cache.invalidate(BOB, new UserToken("never-issued", START_SECONDS + 10));
        assertEquals(0, cache.size());
        cache.get(BOB);
        assertEquals(1, fetcher.calls.get());
    }

    @Test
    void concurrentCallersShareOneFetch() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        Function<TokenKey, UserToken> slowFetcher = key -> {
            calls.incrementAndGet();
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            return new UserToken("shared", START_SECONDS + TTL_SECONDS);
        };
        TokenCache cache = cache(slowFetcher, 100);
        int threads = 32;
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<UserToken>> results = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            results.add(pool.submit(() -> {
                ready.countDown();
                go.await();
                return cache.get(ALICE);
            }));
        }
        assertTrue(ready.await(5, TimeUnit.SECONDS));
        go.countDown();

        UserToken first = results.get(0).get(5, TimeUnit.SECONDS);
        for (Future<UserToken> f : results) {
            assertSame(first, f.get(5, TimeUnit.SECONDS));
        }
        assertEquals(1, calls.get());
        assertEquals(1, cache.fetches());
        // those that came while the fetch was under way waited for it: misses, not hits
        assertEquals(threads, cache.hits() + cache.misses());
        assertTrue(cache.misses() > 1, "callers waited for the one fetch");
    }

    @Test
    void failedFetchReachesEveryWaiterAndIsNotCached() throws Exception {
        CountDownLatch fetchStarted = new CountDownLatch(1);
        CountDownLatch releaseFetch = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        IllegalStateException boom = new IllegalStateException("token endpoint down");
        Function<TokenKey, UserToken> fetcher = key -> {
            if (calls.incrementAndGet() == 1) {
                fetchStarted.countDown();
                try {
                    releaseFetch.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw boom;
            }
            return new UserToken("recovered", START_SECONDS + TTL_SECONDS);
        };
        TokenCache cache = cache(fetcher, 100);

        Future<UserToken> owner = pool.submit(() -> cache.get(ALICE));
        assertTrue(fetchStarted.await(5, TimeUnit.SECONDS));
        int waiters = 8;
        List<Thread> waiterThreads = new ArrayList<>();
        List<Throwable> waiterErrors = new ArrayList<>();
        for (int i = 0; i < waiters; i++) {
            Thread t = new Thread(() -> {
                try {
                    cache.get(ALICE);
                } catch (Throwable e) {
                    synchronized (waiterErrors) {
                        waiterErrors.add(e);
                    }
                }
            });
            t.setDaemon(true);
            waiterThreads.add(t);
            t.start();
        }
        // only let the fetch fail once every waiter is parked on it, so none can start a fetch of its own
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!waiterThreads.stream().allMatch(t -> t.getState() == Thread.State.WAITING)) {
            assertTrue(System.nanoTime() < deadline, "waiters never blocked on the in-flight fetch");
            Thread.sleep(5);
        }
        releaseFetch.countDown();

        ExecutionException ownerFailure = assertThrows(ExecutionException.class, () -> owner.get(5, TimeUnit.SECONDS));
        assertSame(boom, ownerFailure.getCause());
        for (Thread t : waiterThreads) {
            t.join(5000);
        }
        assertEquals(waiters, waiterErrors.size());
        for (Throwable e : waiterErrors) {
            assertSame(boom, e, "waiters see the fetch's own exception");
        }
        assertEquals(1, calls.get());
        assertEquals(0, cache.size(), "a failure is not cached");

        assertEquals("recovered", cache.get(ALICE).value());
        assertEquals(2, calls.get());
    }

    @Test
    void sizeBoundEvictsExpiredEntriesFirst() {
        CountingFetcher fetcher = new CountingFetcher();
        TokenCache cache = cache(fetcher, 2);
        UserToken alice = cache.get(ALICE);
        clock.advance(Duration.ofSeconds(TTL_SECONDS + 1));
        UserToken bob = cache.get(BOB);
        TokenKey carol = new TokenKey("partner-a", "carol", "PARTNER_USER_ID");
        UserToken carolToken = cache.get(carol);

        assertEquals(2, cache.size());
        assertSame(bob, cache.get(BOB));
        assertSame(carolToken, cache.get(carol));
        assertEquals(3, fetcher.calls.get());
        assertNotSame(alice, cache.get(ALICE), "the expired entry was the one evicted");
        assertEquals(4, fetcher.calls.get());
    }

    @Test
    void aFullCacheKeepsTheTokenItJustFetchedAndTheOnesInUse() {
        // the partner token (one hour) ends long before the users' (60 days): every new user used to
        // evict it, and a fetch of it then evicted itself, so every details call minted one
        TokenKey partner = TokenKey.partner("partner-a");
        AtomicInteger calls = new AtomicInteger();
        Map<TokenKey, AtomicInteger> perKey = new ConcurrentHashMap<>();
        TokenCache cache = cache(key -> {
            perKey.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            long life = key.isPartnerToken() ? 3_600 : 5_184_000;
            return new UserToken("t" + calls.incrementAndGet(), clock.millis() / 1000 + life, life);
        }, 3);

        UserToken partnerToken = cache.get(partner);
        for (int i = 0; i < 10; i++) {
            TokenKey user = new TokenKey("partner-a", "user" + i, "PARTNER_USER_ID");
            UserToken fetched = cache.get(user);
            assertSame(fetched, cache.get(user), "the token just fetched stays");
            assertSame(partnerToken, cache.get(partner), "the token in use stays");
            assertTrue(cache.size() <= 3, "size " + cache.size());
        }
        assertEquals(1, perKey.get(partner).get());
        assertEquals(11, calls.get());
    }

    @Test
    void sizeBoundEvictsTheLeastRecentlyUsedEntriesTenthAtATime() {
        CountingFetcher fetcher = new CountingFetcher();
        TokenCache cache = cache(fetcher, 20);
        List<TokenKey> users = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            users.add(new TokenKey("partner-a", "user" + i, "PARTNER_USER_ID"));
            cache.get(users.get(i));
        }
        // users 0 and 1 used again: 2, 3 and 4 are now the least recently used
        cache.get(users.get(0));
        cache.get(users.get(1));
        cache.get(new TokenKey("partner-a", "user20", "PARTNER_USER_ID"));

        assertEquals(18, cache.size(), "one over the bound takes it down by a tenth, not to the bound");
        assertEquals(21, fetcher.calls.get());
        for (int i : new int[] {0, 1, 5, 19}) {
            cache.get(users.get(i));
        }
        assertEquals(21, fetcher.calls.get(), "the recently used stayed");
        cache.get(users.get(2));
        cache.get(users.get(3));
        cache.get(users.get(4));
        assertEquals(24, fetcher.calls.get(), "the least recently used went");
    }

    @Test
    void aBoundSmallerThanTheUsersPolledInTurnWarnsToRaiseIt() {
        // the poller goes round more users with submissions open than the bound: the least recently
        // used are the ones due next, each fetched again at its turn, in a round of 20 s or of 200 s
        for (Duration apart : List.of(Duration.ofMillis(100), Duration.ofSeconds(1))) {
            try (LogCapture log = new LogCapture()) {
                int[] mints = mintsPerRound(200, 100, 3, apart);
                assertEquals(List.of(200, 200, 200), java.util.Arrays.stream(mints).boxed().toList(),
                        "every call fetched a token: the WARN is what tells");
                String warning = log.lineWith("Token cache:");
                assertTrue(warning != null && warning.startsWith("WARN ") && warning.contains("dropped while valid had"
                        + " to be fetched again within 60 min") && warning.contains("gtf.token.cache-size (100)")
                        && warning.contains("raise it"), apart + ": " + warning);
                assertEquals(1, log.count("Token cache:"), "one line per cache, not one per fetch");
                assertTrue(!log.text().contains("user1"), "no partner user id in the log");
            }
        }
    }

    @Test
    void usersServedOnceAndGoneFillTheCacheWithoutAWarning() {
        CountingFetcher fetcher = new CountingFetcher();
        TokenCache cache = cache(fetcher, 100);
        try (LogCapture log = new LogCapture()) {
            // a new user a second, each with a submission polled every 5 s for 20 s and then never again
            List<TokenKey> users = users(500);
            for (int second = 0; second < 520; second++) {
                for (int start = Math.max(0, second - 20); start <= Math.min(second, 499); start++) {
                    if ((second - start) % 5 == 0) {
                        cache.get(users.get(start));
                    }
                }
                clock.advance(Duration.ofSeconds(1));
            }
            assertEquals(500, fetcher.calls.get(), "one token per user");
            assertTrue(cache.size() <= 100);
            assertEquals(null, log.lineWith("Token cache:"));
        }
    }

    private static List<TokenKey> users(int n) {
        List<TokenKey> users = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            users.add(new TokenKey("partner-a", "user" + i, "PARTNER_USER_ID"));
        }
        return users;
    }

    /** Tokens fetched in each round of {@code users} users asked in turn, one every {@code apart}. */
    private int[] mintsPerRound(int users, int bound, int rounds, Duration apart) {
        CountingFetcher fetcher = new CountingFetcher();
        TokenCache cache = cache(fetcher, bound);
        List<TokenKey> keys = users(users);
        int[] mints = new int[rounds];
        for (int round = 0; round < rounds; round++) {
            int before = fetcher.calls.get();
            for (TokenKey key : keys) {
                cache.get(key);
                clock.advance(apart);
            }
            mints[round] = fetcher.calls.get() - before;
            assertTrue(cache.size() <= bound, "size " + cache.size());
        }
        return mints;
    }

    @Test
    void aTokenBeingRenewedStillServesTheOtherCallers() throws Exception {
        HeldFetch renewal = new HeldFetch();
        AtomicInteger calls = new AtomicInteger();
        TokenCache cache = cache(key -> {
            if (calls.incrementAndGet() == 2) {
                renewal.hold();
            }
            return new UserToken("t" + calls.get(), clock.millis() / 1000 + TTL_SECONDS);
        }, 100);
        UserToken first = cache.get(ALICE);
        clock.advance(Duration.ofSeconds(TTL_SECONDS - SKEW_SECONDS));

        Future<UserToken> renewer = pool.submit(() -> cache.get(ALICE));
        renewal.awaitStarted();
        // inside its margin, with 30 s left: the others go on with it while one caller renews it
        for (int i = 0; i < 5; i++) {
            assertSame(first, pool.submit(() -> cache.get(ALICE)).get(5, TimeUnit.SECONDS));
        }
        renewal.release();
        UserToken renewed = renewer.get(5, TimeUnit.SECONDS);
        assertEquals("t2", renewed.value());
        assertSame(renewed, cache.get(ALICE));
        assertEquals(2, calls.get());
    }

    @Test
    void aFailedRenewalKeepsTheTokenThatStillWorksAndIsTriedAgainLater() {
        AtomicInteger calls = new AtomicInteger();
        // an hour's token renewed in its last five minutes
        TokenCache cache = new TokenCache(key -> {
            if (calls.incrementAndGet() == 2) {
                throw new IllegalStateException("token endpoint busy");
            }
            return new UserToken("t" + calls.get(), clock.millis() / 1000 + 3_600);
        }, 300, 100, clock);
        UserToken first = cache.get(ALICE);
        clock.advance(Duration.ofSeconds(3_600 - 300));

        assertSame(first, cache.get(ALICE), "the failed renewal's caller goes on with the old token");
        assertEquals(2, calls.get());
        clock.advance(Duration.ofSeconds(TokenCache.REFETCH_PAUSE_SECONDS - 1));
        assertSame(first, cache.get(ALICE), "not asked again at once");
        assertEquals(2, calls.get());
        clock.advance(Duration.ofSeconds(1));
        assertEquals("t3", cache.get(ALICE).value(), "renewed at the next try");
    }

    @Test
    void aFailedRenewalOfATokenRefusedMeanwhileReachesItsCaller() throws Exception {
        HeldFetch renewal = new HeldFetch();
        AtomicInteger calls = new AtomicInteger();
        IllegalStateException busy = new IllegalStateException("token endpoint busy");
        TokenCache cache = cache(key -> {
            if (calls.incrementAndGet() == 2) {
                renewal.hold();
                throw busy;
            }
            return new UserToken("t" + calls.get(), clock.millis() / 1000 + TTL_SECONDS);
        }, 100);
        UserToken first = cache.get(ALICE);
        clock.advance(Duration.ofSeconds(TTL_SECONDS - SKEW_SECONDS));
        Future<UserToken> renewer = pool.submit(() -> cache.get(ALICE));
        renewal.awaitStarted();
        cache.invalidate(ALICE, first);
        // with no token to use, a caller waits for the renewal under way rather than fetching too
        Future<UserToken> waiter = pool.submit(() -> cache.get(ALICE));
        await().atMost(Duration.ofSeconds(5)).until(() -> cache.misses() == 3);
        renewal.release();

        assertSame(busy, assertThrows(ExecutionException.class, () -> renewer.get(5, TimeUnit.SECONDS)).getCause());
        assertSame(busy, assertThrows(ExecutionException.class, () -> waiter.get(5, TimeUnit.SECONDS)).getCause());
        assertEquals(2, calls.get());
        assertEquals("t3", cache.get(ALICE).value());
    }

    @Test
    void aCallerWaitingForAnotherCallersFetchStopsWhenInterrupted() throws Exception {
        HeldFetch fetch = new HeldFetch();
        TokenCache cache = cache(key -> {
            fetch.hold();
            return new UserToken("t", clock.millis() / 1000 + TTL_SECONDS);
        }, 100);
        Future<UserToken> owner = pool.submit(() -> cache.get(ALICE));
        fetch.awaitStarted();
        List<Object> outcome = new ArrayList<>();
        Thread waiter = new Thread(() -> {
            try {
                cache.get(ALICE);
                outcome.add("token");
            } catch (GtfApiException e) {
                outcome.add(e);
                outcome.add(Thread.currentThread().isInterrupted());
            }
        });
        waiter.start();
        await().atMost(Duration.ofSeconds(5)).until(() -> waiter.getState() == Thread.State.WAITING);
        waiter.interrupt();
        waiter.join(5000);
        fetch.release();

        assertEquals(2, outcome.size(), "stopped with a failure, not served: " + outcome);
        GtfApiException stopped = (GtfApiException) outcome.get(0);
        assertTrue(!stopped.mayHaveBeenApplied("token"), "nothing was sent for it");
        assertEquals(true, outcome.get(1), "the interrupt is kept for the caller's own stop");
        assertEquals("t", owner.get(5, TimeUnit.SECONDS).value());
    }
}

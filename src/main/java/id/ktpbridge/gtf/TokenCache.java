package id.ktpbridge.gtf;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import id.ktpbridge.ThrottledWarning;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One OneKYC token per {@link TokenKey}, reused until it nears expiry. Callers asking for the
 * same key while a fetch is under way wait for that fetch instead of starting their own. A token
 * inside its refresh margin that still works is renewed by one caller while the others go on
 * using it; a renewal that fails keeps it. The number of entries is bounded: expired entries go
 * first, then the ones used least recently (never the one just fetched). A bound smaller than the
 * users being served shows as tokens dropped while valid and fetched again soon after: a WARN says
 * to raise it (see {@link #evictOver}).
 */
public class TokenCache {

    private static final Logger LOG = LoggerFactory.getLogger(TokenCache.class);

    /** Within its refresh margin, a token is fetched again at most this often while it lasts. */
    static final long REFETCH_PAUSE_SECONDS = 30;
    /** ... as long as more than this is left of it: a call must not leave with a token about to end. */
    static final long MIN_LEFT_SECONDS = 5;

    private final Function<TokenKey, UserToken> fetcher;
    private final long skewSeconds;
    private final int maxEntries;
    private final Clock clock;
    /** Each key's token, or the fetch of one while no token of it can be used. */
    private final Map<TokenKey, CompletableFuture<UserToken>> entries = new ConcurrentHashMap<>();
    /** Renewals under way of tokens that still work (see {@link #renew}). */
    private final Map<TokenKey, CompletableFuture<UserToken>> renewals = new ConcurrentHashMap<>();
    /** When each key's token was last fetched, or its renewal last tried (epoch seconds). */
    private final Map<TokenKey, Long> fetchedAt = new ConcurrentHashMap<>();
    /** Each key's last use, in {@link #uses} order: the least recently used goes first when the cache is full. */
    private final Map<TokenKey, Long> lastUsed = new ConcurrentHashMap<>();
    private final AtomicLong uses = new AtomicLong();
    private final DroppedTokens dropped;
    /** A bound too small for the users served: one line every ten minutes. */
    private final ThrottledWarning tooSmall = new ThrottledWarning(LOG, "Token cache: a user's token dropped while"
            + " valid had to be fetched again within {} min. gtf.token.cache-size ({}) holds fewer tokens than the users"
            + " with submissions open, whose calls then fetch their tokens again and again (so many token calls may be"
            + " throttled, and a 429 holds back every user's token fetch): raise it (about 1-2 KB of heap per token)",
            600_000);
    /** Requests served a usable cached token at once. */
    private final AtomicLong hits = new AtomicLong();
    /** Requests that found no usable token: they fetched one, or waited for a fetch under way. */
    private final AtomicLong misses = new AtomicLong();
    /** Calls to the token endpoint. */
    private final AtomicLong fetches = new AtomicLong();

    public TokenCache(Function<TokenKey, UserToken> fetcher, long skewSeconds, int maxEntries, Clock clock) {
        this.fetcher = fetcher;
        this.skewSeconds = skewSeconds;
        this.maxEntries = Math.max(1, maxEntries);
        this.clock = clock;
        // room for a round of more users than the bound: a user dropped comes back after the others
        this.dropped = new DroppedTokens((int) Math.min(Integer.MAX_VALUE / 2, 4L * this.maxEntries));
    }

    public UserToken get(TokenKey key) {
        while (true) {
            CompletableFuture<UserToken> current = entries.get(key);
            if (current != null) {
                if (!current.isDone()) {
                    // no usable token yet: a miss, served by the fetch already under way
                    misses.incrementAndGet();
                    return awaitShared(current);
                }
                // a fetch that failed is taken out of the map before it completes, but this caller may
                // have read it just before that: as no token, not as the failure (which is another's)
                UserToken cached = current.isCompletedExceptionally() ? null : current.getNow(null);
                if (cached != null) {
                    long now = nowSeconds();
                    if (cached.usableAt(now, skewSeconds) || justFetched(key, cached)) {
                        return hit(key, cached);
                    }
                    if (now < cached.expiresAtEpochSeconds() - MIN_LEFT_SECONDS) {
                        // inside its margin but still working: one caller renews it, the others use it meanwhile
                        CompletableFuture<UserToken> mine = new CompletableFuture<>();
                        if (renewals.putIfAbsent(key, mine) != null) {
                            return hit(key, cached);
                        }
                        return renew(key, current, cached, mine);
                    }
                }
            }
            // no token to use: a renewal under way (its token was refused meanwhile) serves this caller too
            CompletableFuture<UserToken> renewal = renewals.get(key);
            if (renewal != null) {
                misses.incrementAndGet();
                return awaitShared(renewal);
            }
            CompletableFuture<UserToken> mine = new CompletableFuture<>();
            boolean won = current == null ? entries.putIfAbsent(key, mine) == null : entries.replace(key, current, mine);
            if (won) {
                misses.incrementAndGet();
                return fetchInto(key, mine);
            }
        }
    }

    /** Drops a token the server refused (401), unless a fresher one has already replaced it. */
    public void invalidate(TokenKey key, UserToken refused) {
        entries.computeIfPresent(key, (k, f) -> {
            if (f.isDone() && refused.equals(f.getNow(null))) {
                fetchedAt.remove(k);
                lastUsed.remove(k);
                return null;
            }
            return f;
        });
    }

    /**
     * A token inside its refresh margin, fetched a moment ago and not yet expired: the token
     * endpoint handed back one that ends soon (some servers give the same token until it expires),
     * or its renewal failed a moment ago. It is used rather than fetched again on every call, until
     * {@link #REFETCH_PAUSE_SECONDS} have passed or only {@link #MIN_LEFT_SECONDS} are left.
     */
    private boolean justFetched(TokenKey key, UserToken token) {
        long now = nowSeconds();
        Long at = fetchedAt.get(key);
        return at != null && now - at < REFETCH_PAUSE_SECONDS && now < token.expiresAtEpochSeconds() - MIN_LEFT_SECONDS;
    }

    public long hits() {
        return hits.get();
    }

    public long misses() {
        return misses.get();
    }

    public long fetches() {
        return fetches.get();
    }

    public int size() {
        return entries.size();
    }

    private UserToken hit(TokenKey key, UserToken token) {
        hits.incrementAndGet();
        lastUsed.put(key, uses.incrementAndGet());
        return token;
    }

    private UserToken fetchInto(TokenKey key, CompletableFuture<UserToken> mine) {
        try {
            UserToken token = fetch(key);
            lastUsed.put(key, uses.incrementAndGet());
            mine.complete(token);
            if (dropped.fetchedAgain(key, nowSeconds())) {
                tooSmall.warn(DroppedTokens.REMEMBERED_SECONDS / 60, maxEntries);
            }
            evictIfOversized(key);
            return token;
        } catch (RuntimeException | Error e) {
            // waiters must never hang on a fetch that died, whatever killed it
            if (entries.remove(key, mine)) {
                fetchedAt.remove(key);
                lastUsed.remove(key);
            }
            mine.completeExceptionally(e);
            throw e;
        }
    }

    /**
     * Renews {@code old}, which still works, on this caller's thread. A failure (the token endpoint
     * busy or down) keeps {@code old} and its callers going, and it is tried again after
     * {@link #REFETCH_PAUSE_SECONDS}; it reaches this caller only if {@code old} was refused meanwhile
     * or is about to end by then.
     */
    private UserToken renew(TokenKey key, CompletableFuture<UserToken> current, UserToken old,
                            CompletableFuture<UserToken> mine) {
        misses.incrementAndGet();
        try {
            UserToken token = fetch(key);
            CompletableFuture<UserToken> done = CompletableFuture.completedFuture(token);
            // not over a fresher token another caller fetched after a refusal of the old one
            if (entries.replace(key, current, done) || entries.putIfAbsent(key, done) == null) {
                lastUsed.put(key, uses.incrementAndGet());
            }
            mine.complete(token);
            evictIfOversized(key);
            return token;
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            long now = nowSeconds();
            if (e instanceof RuntimeException && entries.get(key) == current
                    && now < old.expiresAtEpochSeconds() - MIN_LEFT_SECONDS) {
                fetchedAt.put(key, now);
                lastUsed.put(key, uses.incrementAndGet());
                return old;
            }
            throw e;
        } finally {
            renewals.remove(key, mine);
        }
    }

    private UserToken fetch(TokenKey key) {
        fetches.incrementAndGet();
        UserToken fetched = fetcher.apply(key);
        long now = nowSeconds();
        // renewed no earlier than half of what is left of it on arrival, whatever lifetime the answer named
        UserToken token = fetched.asFetchedAt(now);
        fetchedAt.put(key, now);
        return token;
    }

    /**
     * Waits for another caller's fetch and shares its outcome, failure included. A stop while
     * waiting ends the wait: the call it was for was never sent.
     */
    private static UserToken awaitShared(CompletableFuture<UserToken> inFlight) {
        try {
            return inFlight.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            if (e.getCause() instanceof Error cause) {
                throw cause;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw GtfApiException.stoppedUnapplied("token", "interrupted while waiting for a token", e);
        }
    }

    /**
     * Over the bound, down to nine tenths of it at once, so that a cache kept full by new users
     * sorts its entries once every many fetches rather than at each.
     */
    private void evictIfOversized(TokenKey justFetched) {
        try {
            evictOver(justFetched);
        } catch (RuntimeException e) {
            // the token is had and cached: a failed clean-up is tried again at the next fetch, and must not
            // fail the call it was fetched for
        }
    }

    private void evictOver(TokenKey justFetched) {
        int size = entries.size();
        if (size <= maxEntries) {
            return;
        }
        int excess = size - maxEntries + maxEntries / 10;
        long now = nowSeconds();
        // each entry's standing read once: the maps change while the sort runs, and a comparator
        // reading them would contradict itself (the JDK's sort then throws)
        record Standing(TokenKey key, CompletableFuture<UserToken> entry, boolean expired, long used) { }
        List<Standing> done = new ArrayList<>();
        entries.forEach((key, entry) -> {
            if (entry.isDone() && !key.equals(justFetched)) {
                done.add(new Standing(key, entry, expired(entry, now), lastUsed.getOrDefault(key, Long.MIN_VALUE)));
            }
        });
        done.sort(Comparator.comparing((Standing st) -> !st.expired()).thenComparingLong(Standing::used));
        for (Standing st : done.subList(0, Math.min(excess, done.size()))) {
            if (entries.remove(st.key(), st.entry())) {
                fetchedAt.remove(st.key());
                lastUsed.remove(st.key());
                if (!st.expired() && !st.key().isPartnerToken()) {
                    // the poller goes round its open submissions in turn: with more users than the bound,
                    // the least recently used are the ones due next, and each is fetched again at its turn
                    dropped.dropped(st.key(), now);
                }
            }
        }
    }

    private static boolean expired(CompletableFuture<UserToken> f, long now) {
        UserToken t = f.isCompletedExceptionally() ? null : f.getNow(null);
        return t == null || now >= t.expiresAtEpochSeconds();
    }

    private long nowSeconds() {
        return clock.millis() / 1000;
    }
}

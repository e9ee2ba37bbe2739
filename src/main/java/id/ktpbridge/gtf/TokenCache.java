package id.ktpbridge.gtf;

import java.time.Clock;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * One OneKYC token per {@link TokenKey}, reused until it nears expiry. Callers asking for the
 * same key while a fetch is under way wait for that fetch instead of starting their own. The
 * number of entries is bounded: expired entries go first, then the ones expiring soonest.
 */
public class TokenCache {

    /** Within its refresh margin, a token is fetched again at most this often while it lasts. */
    static final long REFETCH_PAUSE_SECONDS = 30;
    /** ... as long as more than this is left of it: a call must not leave with a token about to end. */
    static final long MIN_LEFT_SECONDS = 5;

    private final Function<TokenKey, UserToken> fetcher;
    private final long skewSeconds;
    private final int maxEntries;
    private final Clock clock;
    private final Map<TokenKey, CompletableFuture<UserToken>> entries = new ConcurrentHashMap<>();
    /** When each key's token was last fetched (epoch seconds). */
    private final Map<TokenKey, Long> fetchedAt = new ConcurrentHashMap<>();
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
                if (cached != null && (cached.usableAt(nowSeconds(), skewSeconds) || justFetched(key, cached))) {
                    hits.incrementAndGet();
                    return cached;
                }
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
                return null;
            }
            return f;
        });
    }

    /**
     * A token inside its refresh margin, fetched a moment ago and not yet expired: the token
     * endpoint handed back one that ends soon (some servers give the same token until it expires).
     * It is used rather than fetched again on every call, until {@link #REFETCH_PAUSE_SECONDS} have
     * passed or only {@link #MIN_LEFT_SECONDS} are left.
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

    private UserToken fetchInto(TokenKey key, CompletableFuture<UserToken> mine) {
        try {
            fetches.incrementAndGet();
            UserToken fetched = fetcher.apply(key);
            long now = nowSeconds();
            // renewed no earlier than half of what is left of it on arrival, whatever lifetime the answer named
            UserToken token = fetched.asFetchedAt(now);
            fetchedAt.put(key, now);
            mine.complete(token);
            evictIfOversized();
            return token;
        } catch (RuntimeException | Error e) {
            // waiters must never hang on a fetch that died, whatever killed it
            if (entries.remove(key, mine)) {
                fetchedAt.remove(key);
            }
            mine.completeExceptionally(e);
            throw e;
        }
    }

    /** Waits for another caller's fetch and shares its outcome, failure included. */
    private static UserToken awaitShared(CompletableFuture<UserToken> inFlight) {
        try {
            return inFlight.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw e;
        }
    }

    private void evictIfOversized() {
        int excess = entries.size() - maxEntries;
        if (excess <= 0) {
            return;
        }
        entries.entrySet().stream()
                .filter(e -> e.getValue().isDone())
                .sorted(Comparator.comparingLong(e -> expiry(e.getValue())))
                .limit(excess)
                .forEach(e -> {
                    if (entries.remove(e.getKey(), e.getValue())) {
                        fetchedAt.remove(e.getKey());
                    }
                });
    }

    private static long expiry(CompletableFuture<UserToken> f) {
        UserToken t = f.getNow(null);
        return t == null ? Long.MIN_VALUE : t.expiresAtEpochSeconds();
    }

    private long nowSeconds() {
        return clock.millis() / 1000;
    }
}

package id.ktpbridge.gtf;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The users whose token {@link TokenCache}'s bound dropped while it was still valid, for a while:
 * a token fetched again for one of them soon after says the cache holds fewer tokens than the users
 * being served (the poller going round more open submissions than the bound). Held by a hash of
 * the key, so no partner user id (which may be a NIK) is kept for them; a collision at worst
 * warns once too often.
 */
final class DroppedTokens {

    /** A user fetched again later than this after the drop is taken as one who came back, not one still served. */
    static final long REMEMBERED_SECONDS = 3600;

    private final int capacity;
    private final Map<Integer, Long> droppedAt = new ConcurrentHashMap<>();

    /** At most {@code capacity} remembered: past it they are forgotten at once, and the next drops are watched. */
    DroppedTokens(int capacity) {
        this.capacity = Math.max(1, capacity);
    }

    void dropped(TokenKey key, long nowSeconds) {
        if (droppedAt.size() >= capacity) {
            droppedAt.clear();
        }
        droppedAt.put(key.hashCode(), nowSeconds);
    }

    /** Whether {@code key}'s token, fetched now, had been dropped valid within {@link #REMEMBERED_SECONDS}. */
    boolean fetchedAgain(TokenKey key, long nowSeconds) {
        if (droppedAt.isEmpty()) {
            return false;
        }
        Long at = droppedAt.remove(key.hashCode());
        return at != null && nowSeconds - at < REMEMBERED_SECONDS;
    }
}

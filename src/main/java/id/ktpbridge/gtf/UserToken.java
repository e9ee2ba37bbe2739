package id.ktpbridge.gtf;

/**
 * A OneKYC token, the moment (epoch seconds) it stops being valid, and the lifetime its refresh
 * margin is measured against (0 when unknown): as cached, what was left of it when it was fetched
 * (see {@link #asFetchedAt}).
 */
public record UserToken(String value, long expiresAtEpochSeconds, long lifetimeSeconds) {

    public UserToken(String value, long expiresAtEpochSeconds) {
        this(value, expiresAtEpochSeconds, 0);
    }

    /**
     * Usable while more than the refresh margin is left. The margin never exceeds half the
     * token's lifetime, so short-lived tokens are still reused instead of fetched on every call.
     */
    public boolean usableAt(long nowEpochSeconds, long skewSeconds) {
        return nowEpochSeconds < expiresAtEpochSeconds - refreshMargin(skewSeconds, lifetimeSeconds);
    }

    /**
     * This token as fetched at {@code nowEpochSeconds}: its lifetime no longer than what is left of
     * it then. A token can end well before the lifetime its answer names (an {@code expires_at}
     * sooner than {@code expiry_seconds}: a token handed back near its end, a token server's clock
     * a little behind ours); a margin measured against the named lifetime could then cover all that
     * is left, and the token would never be used.
     */
    UserToken asFetchedAt(long nowEpochSeconds) {
        long left = Math.max(1, expiresAtEpochSeconds - nowEpochSeconds);
        return lifetimeSeconds > 0 && lifetimeSeconds <= left ? this : new UserToken(value, expiresAtEpochSeconds, left);
    }

    /** How long before its end a token of this lifetime (0: unknown) is renewed; see {@link #usableAt}. */
    static long refreshMargin(long skewSeconds, long lifetimeSeconds) {
        return lifetimeSeconds > 0 ? Math.min(skewSeconds, lifetimeSeconds / 2) : skewSeconds;
    }

    @Override
    public String toString() {
        return "UserToken[expiresAt=" + expiresAtEpochSeconds + "]";
    }
}

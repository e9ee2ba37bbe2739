package id.ktpbridge.gtf;

/**
 * A OneKYC token, the moment (epoch seconds) it stops being valid, and how long it was issued for
 * (0 when unknown).
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

    /** How long before its end a token of this lifetime (0: unknown) is renewed; see {@link #usableAt}. */
    static long refreshMargin(long skewSeconds, long lifetimeSeconds) {
        return lifetimeSeconds > 0 ? Math.min(skewSeconds, lifetimeSeconds / 2) : skewSeconds;
    }

    @Override
    public String toString() {
        return "UserToken[expiresAt=" + expiresAtEpochSeconds + "]";
    }
}

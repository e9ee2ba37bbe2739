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
        long margin = lifetimeSeconds > 0 ? Math.min(skewSeconds, lifetimeSeconds / 2) : skewSeconds;
        return nowEpochSeconds < expiresAtEpochSeconds - margin;
    }

    @Override
    public String toString() {
        return "UserToken[expiresAt=" + expiresAtEpochSeconds + "]";
    }
}

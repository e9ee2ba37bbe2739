package id.ktpbridge.gtf;

/** A OneKYC token and the moment (epoch seconds) it stops being valid. */
public record UserToken(String value, long expiresAtEpochSeconds) {

    public boolean usableAt(long nowEpochSeconds, long skewSeconds) {
        return nowEpochSeconds < expiresAtEpochSeconds - skewSeconds;
    }

    @Override
    public String toString() {
        return "UserToken[expiresAt=" + expiresAtEpochSeconds + "]";
    }
}

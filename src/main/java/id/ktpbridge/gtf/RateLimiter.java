package id.ktpbridge.gtf;

/**
 * Keeps OneKYC calls under the partner's quota: at most {@code permitsPerSecond} calls start per
 * second, spread evenly. Zero or less means no limit.
 */
public class RateLimiter {

    private final long intervalNanos;
    private long nextFree = System.nanoTime();

    public RateLimiter(double permitsPerSecond) {
        this.intervalNanos = permitsPerSecond <= 0 ? 0 : (long) (1_000_000_000L / permitsPerSecond);
    }

    public void acquire() throws InterruptedException {
        if (intervalNanos == 0) {
            return;
        }
        long wait;
        synchronized (this) {
            long now = System.nanoTime();
            long slot = Math.max(now, nextFree);
            nextFree = slot + intervalNanos;
            wait = slot - now;
        }
        if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
    }
}

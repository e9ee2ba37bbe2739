package id.ktpbridge.gtf;

import java.time.Duration;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops hammering OneKYC while it is down. After {@code threshold} transient failures in a row the
 * circuit opens: callers wait (instead of calling) until the cool-down has passed, then calls flow
 * again; one more failure re-opens it at once. Waiting instead of failing keeps inputs in their
 * sources rather than turning an outage into FAILED results.
 */
public class CircuitBreaker {

    private static final Logger LOG = LoggerFactory.getLogger(CircuitBreaker.class);

    private final int threshold;
    private final Duration coolDown;
    private int consecutiveFailures;
    private long openUntil;
    private boolean open;

    public CircuitBreaker(int threshold, Duration coolDown) {
        this.threshold = Math.max(1, threshold);
        this.coolDown = coolDown;
    }

    /** Blocks while the circuit is open. */
    public void awaitClosed() throws InterruptedException {
        while (true) {
            long wait;
            synchronized (this) {
                wait = openUntil - System.currentTimeMillis();
            }
            if (wait <= 0) {
                return;
            }
            Thread.sleep(Math.min(wait, 1000));
        }
    }

    public synchronized void onSuccess() {
        if (open) {
            LOG.info("OneKYC answers again: circuit closed");
        }
        consecutiveFailures = 0;
        open = false;
    }

    public synchronized void onTransientFailure() {
        consecutiveFailures++;
        if (consecutiveFailures >= threshold) {
            if (!open) {
                LOG.warn("{} OneKYC calls failed in a row: pausing calls for {} s", consecutiveFailures,
                        coolDown.toSeconds());
            }
            open = true;
            openUntil = System.currentTimeMillis() + coolDown.toMillis();
        }
    }

    public synchronized boolean isOpen() {
        return open && System.currentTimeMillis() < openUntil;
    }
}

package id.ktpbridge.gtf;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops hammering OneKYC while it is down, one circuit per endpoint (presign, confirm, status,
 * details, user-token, partner-token). After {@code threshold} transient failures in a row at an
 * endpoint its circuit opens: callers of that endpoint wait (instead of calling) until the
 * cool-down has passed, then calls flow again; one more failure re-opens it at once. Per endpoint,
 * because OneKYC can fail one endpoint while the others answer (tokens come from another host):
 * a success elsewhere says nothing about the failing one, and must not close its circuit. Waiting
 * instead of failing keeps inputs in their sources rather than turning an outage into FAILED results.
 */
public class CircuitBreaker {

    private static final Logger LOG = LoggerFactory.getLogger(CircuitBreaker.class);

    private final int threshold;
    private final Duration coolDown;
    private final Clock clock;
    private final Map<String, Circuit> circuits = new ConcurrentHashMap<>();
    /** How long a call may take before it fails: see {@link #downEndpoints}. */
    private volatile Duration callsTakeUpTo;
    /** When a call at any endpoint was last answered, and last answered or failed; 0: never. */
    private volatile long lastAnswerAt;
    private volatile long lastOutcomeAt;

    public CircuitBreaker(int threshold, Duration coolDown) {
        this(threshold, coolDown, Clock.systemUTC());
    }

    /** With the clock that times the cool-down (tests move it by hand). */
    public CircuitBreaker(int threshold, Duration coolDown, Clock clock) {
        this.threshold = Math.max(1, threshold);
        this.coolDown = coolDown;
        this.clock = clock;
        this.callsTakeUpTo = coolDown;
    }

    /** The longest a call takes to fail (a OneKYC that hangs: its whole answer limit); the cool-down until set. */
    public void callsTakeUpTo(Duration longest) {
        this.callsTakeUpTo = longest;
    }

    /** The clock the breaker's times are read on. */
    public Clock clock() {
        return clock;
    }

    /** How long an open circuit pauses its calls ({@code gtf.circuit-breaker.open-for}). */
    public Duration coolDown() {
        return coolDown;
    }

    /** Blocks while the endpoint's circuit is open. */
    public void awaitClosed(String endpoint) throws InterruptedException {
        Circuit circuit = circuits.get(endpoint);
        if (circuit == null) {
            return;
        }
        while (true) {
            long wait = circuit.openFor();
            if (wait <= 0) {
                return;
            }
            Thread.sleep(Math.min(wait, 1000));
        }
    }

    /** The endpoint answered (a success, or a refusal that says it is up). */
    public void onSuccess(String endpoint) {
        long now = Math.max(1, clock.millis());
        lastAnswerAt = now;
        lastOutcomeAt = now;
        Circuit circuit = circuits.get(endpoint);
        if (circuit != null) {
            circuit.success(endpoint);
        }
    }

    public void onTransientFailure(String endpoint) {
        lastOutcomeAt = Math.max(1, clock.millis());
        circuits.computeIfAbsent(endpoint, e -> new Circuit()).failure(endpoint, false);
    }

    /** The endpoint answered that it takes too many calls (429): counted as a failure, but it is up. */
    public void onThrottled(String endpoint) {
        long now = Math.max(1, clock.millis());
        lastAnswerAt = now;
        lastOutcomeAt = now;
        circuits.computeIfAbsent(endpoint, e -> new Circuit()).failure(endpoint, true);
    }

    /** Whether no call at any endpoint has been answered or has failed for {@code quiet} (or ever). */
    public boolean idleFor(Duration quiet) {
        long last = lastOutcomeAt;
        return last == 0 || clock.millis() - last >= quiet.toMillis();
    }

    /** Whether a call at any endpoint has been answered at or after {@code millis} (this breaker's clock). */
    public boolean answeredSince(long millis) {
        long last = lastAnswerAt;
        return last != 0 && last >= millis;
    }

    /** True while calls to this endpoint are paused. */
    public boolean isOpen(String endpoint) {
        Circuit circuit = circuits.get(endpoint);
        return circuit != null && circuit.openFor() > 0;
    }

    /** True while calls to any endpoint are paused. */
    public boolean isOpen() {
        return !openEndpoints().isEmpty();
    }

    /** The endpoints whose calls are paused now, by name. */
    public List<String> openEndpoints() {
        return circuits.keySet().stream().filter(this::isOpen).sorted().toList();
    }

    /**
     * The endpoints taken to be down, by name: those whose calls are paused, and those whose pause
     * is over but whose calls since have not been answered yet (one that hangs until its timeout
     * would otherwise make the endpoint look up for that long, and readiness flap through an outage).
     * An endpoint no call has failed at for a cool-down and the longest a call takes to fail
     * ({@link #callsTakeUpTo}) is no longer counted: a call after the pause has answered by then or
     * failed (and the endpoint is paused again), and with no calls (no work) nothing says it is down.
     * Nor is one whose last failure was a throttled answer: it is paused, not down.
     */
    public List<String> downEndpoints() {
        return circuits.entrySet().stream().filter(e -> e.getValue().down()).map(Map.Entry::getKey).sorted().toList();
    }

    private final class Circuit {

        private int consecutiveFailures;
        private long openUntil;
        private boolean open;
        private long lastFailureAt;
        private boolean lastFailureThrottled;

        synchronized long openFor() {
            return open ? openUntil - clock.millis() : 0;
        }

        synchronized boolean down() {
            return open && !lastFailureThrottled
                    && clock.millis() - lastFailureAt < coolDown.toMillis() + callsTakeUpTo.toMillis();
        }

        synchronized void success(String endpoint) {
            if (open) {
                LOG.info("OneKYC {} answers again: its circuit is closed", endpoint);
            }
            consecutiveFailures = 0;
            open = false;
        }

        synchronized void failure(String endpoint, boolean throttled) {
            consecutiveFailures++;
            lastFailureAt = clock.millis();
            lastFailureThrottled = throttled;
            if (consecutiveFailures >= threshold) {
                if (!open) {
                    LOG.warn("{} OneKYC {} calls failed in a row{}: pausing them for {} s", consecutiveFailures,
                            endpoint, throttled ? " (the last throttled)" : "", coolDown.toSeconds());
                }
                open = true;
                openUntil = clock.millis() + coolDown.toMillis();
            }
        }
    }
}

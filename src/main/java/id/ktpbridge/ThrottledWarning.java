package id.ktpbridge;

import java.time.Clock;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;

/**
 * A warning that can come again and again (any caller of the callback endpoint can trigger one at
 * will; an object refused at every listing): written at most once per period, with the number
 * left out since, so a flood cannot flood the log.
 */
public final class ThrottledWarning {

    private final Logger log;
    private final String message;
    private final long periodMillis;
    private final Clock clock;
    private final AtomicLong nextAt = new AtomicLong();
    private final AtomicLong leftOut = new AtomicLong();

    public ThrottledWarning(Logger log, String message, long periodMillis) {
        this(log, message, periodMillis, Clock.systemUTC());
    }

    ThrottledWarning(Logger log, String message, long periodMillis, Clock clock) {
        this.log = log;
        this.message = message;
        this.periodMillis = periodMillis;
        this.clock = clock;
    }

    public void warn(Object... args) {
        long now = clock.millis();
        long next = nextAt.get();
        if (now >= next && nextAt.compareAndSet(next, now + periodMillis)) {
            long skipped = leftOut.getAndSet(0);
            log.warn(skipped == 0 ? message : message + " (" + skipped + " more since the last such line)", args);
        } else {
            leftOut.incrementAndGet();
        }
    }
}

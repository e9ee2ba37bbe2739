package id.ktpbridge.ingest;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;

import id.ktpbridge.Lru;

/**
 * Failures met in a row by each input (by its reference in its source) that were taken for
 * passing ones: such an input is left in its source for another try, but not for ever. After
 * {@code limit} in a row, and at least {@code minSpan} after the first of them, the failure is
 * taken as the input's own. Kept in memory and bounded: the references met longest ago are
 * forgotten first.
 */
public final class PassingFailures {

    private static final int MAX_REFERENCES = 10_000;

    private final int limit;
    private final long minSpanMillis;
    private final Clock clock;
    private final Map<String, Run> inARow = Lru.map(MAX_REFERENCES);

    /** The failures of one input in a row: how many, and when the first was. */
    private record Run(int count, long since) {
    }

    /** @param limit failures in a row after which the input is no longer given another try (at least 1) */
    public PassingFailures(int limit) {
        this(limit, Duration.ZERO, Clock.systemUTC());
    }

    /**
     * @param limit failures in a row after which the input may no longer be given another try (at least 1)
     * @param minSpan how long after the first of them, at least: failures that come fast (a source that
     *     takes the input again every few seconds) do not use up the tries of a passing outage in moments
     */
    public PassingFailures(int limit, Duration minSpan, Clock clock) {
        this.limit = Math.max(1, limit);
        this.minSpanMillis = Math.max(0, minSpan.toMillis());
        this.clock = clock;
    }

    /**
     * Notes one more failure of the input.
     *
     * @return how many in a row, this one included, or 0 when that reaches the limit and the
     *         minimum span (the count starts again for the next)
     */
    public synchronized int failed(String reference) {
        long now = clock.millis();
        Run earlier = inARow.get(reference);
        Run run = earlier == null ? new Run(1, now) : new Run(earlier.count() + 1, earlier.since());
        if (run.count() >= limit && now - run.since() >= minSpanMillis) {
            inARow.remove(reference);
            return 0;
        }
        inARow.put(reference, run);
        return run.count();
    }

    /** The input went through: its count starts again. */
    public synchronized void passed(String reference) {
        inARow.remove(reference);
    }
}

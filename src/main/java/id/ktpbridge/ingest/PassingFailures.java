package id.ktpbridge.ingest;

import java.util.Map;

import id.ktpbridge.Lru;

/**
 * Failures met in a row by each input (by its reference in its source) that were taken for
 * passing ones: such an input is left in its source for another try, but not for ever. After
 * {@code limit} in a row the failure is taken as the input's own. Kept in memory and bounded: the
 * references met longest ago are forgotten first.
 */
public final class PassingFailures {

    private static final int MAX_REFERENCES = 10_000;

    private final int limit;
    private final Map<String, Integer> inARow = Lru.map(MAX_REFERENCES);

    /** @param limit failures in a row after which the input is no longer given another try (at least 1) */
    public PassingFailures(int limit) {
        this.limit = Math.max(1, limit);
    }

    /**
     * Notes one more failure of the input.
     *
     * @return how many in a row, this one included, or 0 when that reaches the limit (the count
     *         starts again for the next)
     */
    public synchronized int failed(String reference) {
        int n = inARow.merge(reference, 1, Integer::sum);
        if (n >= limit) {
            inARow.remove(reference);
            return 0;
        }
        return n;
    }

    /** The input went through: its count starts again. */
    public synchronized void passed(String reference) {
        inARow.remove(reference);
    }
}

package id.ktpbridge.ingest;

/**
 * A source's failed listings in a row and the last one's error, as readiness reports them
 * ({@link ListingHealthCheck}). Camel's consumer check counts them too, but from 0 again each time
 * the consumer's back-off ends, before the next listing is made; this count goes back to 0 only
 * when a listing works.
 */
public final class ListingFailures {

    private int inARow;
    private Throwable last;

    /** @return the failures in a row, this one included */
    public synchronized int failed(Throwable error) {
        inARow++;
        last = error;
        return inARow;
    }

    /** @return the failures in a row this listing ended (0: none) */
    public synchronized int worked() {
        int ended = inARow;
        inARow = 0;
        last = null;
        return ended;
    }

    /** Failed listings since the last that worked (0: none failed, or one worked since). */
    public synchronized int inARow() {
        return inARow;
    }

    public synchronized Throwable last() {
        return last;
    }
}

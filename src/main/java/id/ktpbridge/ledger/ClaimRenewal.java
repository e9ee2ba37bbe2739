package id.ktpbridge.ledger;

import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this instance's claims and holds alive while it works on them: renewed at a third of their
 * time to live, and within seconds again after a renewal failed. At a fixed third, a database away
 * for two thirds of the time to live (its renewals failing meanwhile) let the claims run out before
 * the next renewal, and another instance take over inputs still in this one's hands.
 */
public final class ClaimRenewal {

    private static final Logger LOG = LoggerFactory.getLogger(ClaimRenewal.class);
    /** The wait after a renewal that failed, at most. */
    static final long AFTER_FAILURE_MILLIS = 5_000;

    /** One kind of claim to renew, named for the log. */
    public record Renewal(String what, Runnable renew) {
    }

    private final ScheduledExecutorService scheduler;
    private final List<Renewal> renewals;
    private final long every;

    /** @param every how often, while renewals succeed (a third of the claims' time to live) */
    public ClaimRenewal(ScheduledExecutorService scheduler, List<Renewal> renewals, long every) {
        this.scheduler = scheduler;
        this.renewals = List.copyOf(renewals);
        this.every = every;
    }

    public void start() {
        schedule(every);
    }

    private void schedule(long delay) {
        try {
            scheduler.schedule(this::renewAll, delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException stopped) {
            // shutting down
        }
    }

    /** Renews every kind once; the next round comes sooner when one failed. */
    void renewAll() {
        boolean failed = false;
        try {
            for (Renewal renewal : renewals) {
                try {
                    renewal.renew().run();
                } catch (RuntimeException | LinkageError | StackOverflowError e) {
                    // a driver's error too: left uncaught it would end the renewals for good, without a word
                    failed = true;
                    LOG.warn("{} not renewed ({}); trying again in {} ms", renewal.what(), e, next(true));
                }
            }
        } finally {
            // whatever came (an OutOfMemoryError goes on up): the next round is scheduled
            schedule(next(failed));
        }
    }

    private long next(boolean failed) {
        return failed ? Math.min(every, AFTER_FAILURE_MILLIS) : every;
    }
}

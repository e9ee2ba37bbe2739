package id.ktpbridge.batch;

import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;

import id.ktpbridge.ledger.Ledger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A periodic progress line for long batches: inputs seen since start (and inputs of earlier runs
 * finished since, resumed after a stop), submitted, completed (a COMPLETED result), OneKYC errors
 * (an ERROR result: OneKYC finished with a technical error), failed (a FAILED, REJECTED or
 * TIMED_OUT result), the completion rate over the last period and an ETA for what is still open
 * (open inputs of earlier runs included, and the files waiting in the drop folder). Quiet while
 * nothing is open and nothing ends. The figures are counted by the database; the inputs that got
 * their result over {@link #SETTLE} ago are added up once, as they pass, so a tick reads the open
 * ones, those ended without a result and those ended lately, not every row since start: its cost
 * does not grow with the instance's uptime. Inputs the retention removes after they were added up
 * stay counted.
 */
public class ProgressReporter {

    private static final Logger LOG = LoggerFactory.getLogger(ProgressReporter.class);
    private final id.ktpbridge.ThrottledWarning ledgerAway = new id.ktpbridge.ThrottledWarning(LOG,
            "Progress not read: {}", 60_000);

    /**
     * How long after its result an input's counts are taken as they stand: a result is dated by the
     * clock of the instance that wrote it, before its commit, so one dated a moment before a tick may
     * be seen only after it. Counted again each tick until then.
     */
    static final Duration SETTLE = Duration.ofMinutes(5);

    private final Ledger ledger;
    private final LongSupplier waitingInSource;
    private final long settleAfter;
    private final long startedAt = System.currentTimeMillis();
    /** The counts of this run's inputs given their result before {@link #settledBefore}. */
    private Ledger.Progress settled = Ledger.Progress.NONE;
    private long settledBefore = startedAt;
    private long lastEnded;
    private long lastAt = startedAt;

    /**
     * @param waitingInSource files waiting in the drop folder, most of them not in the ledger yet (a
     *     source hands the workers only as many as they can take). Counted into the ETA; those the
     *     ledger already holds (taken and not yet moved, or left in the folder by an outage) are
     *     counted twice
     */
    public ProgressReporter(Ledger ledger, LongSupplier waitingInSource) {
        this(ledger, waitingInSource, SETTLE);
    }

    ProgressReporter(Ledger ledger, LongSupplier waitingInSource, Duration settle) {
        this.ledger = ledger;
        this.waitingInSource = waitingInSource;
        this.settleAfter = settle.toMillis();
    }

    /** Camel bean method for the progress timer. */
    public synchronized void report() {
        Ledger.Progress p;
        long open;
        long settle = Math.max(settledBefore, System.currentTimeMillis() - settleAfter);
        try {
            Ledger.Progress nowSettled = settled.plus(ledger.progressEndedBetween(settledBefore, settle));
            p = nowSettled.plus(ledger.progressOfRunFrom(startedAt, settle));
            open = ledger.openCounts().values().stream().mapToLong(Integer::longValue).sum();
            settled = nowSettled;
            settledBefore = settle;
        } catch (id.ktpbridge.ledger.LedgerException e) {
            // the health checks and the work itself say the ledger is away: one line a minute here
            ledgerAway.warn(e.getMessage());
            return;
        }
        long now = System.currentTimeMillis();
        // the rate covers the time since the last tick, printed or not; never below 0 (the retention
        // may have removed rows of this run not yet settled meanwhile)
        double perSecond = Math.max(0, p.ended() - lastEnded) * 1000.0 / Math.max(1, now - lastAt);
        boolean moved = p.ended() != lastEnded;
        lastEnded = p.ended();
        lastAt = now;
        // quiet when nothing is open and nothing ended: files may wait in the folder that are never
        // taken (one whose move away was refused stays settled in place)
        if (!moved && open == 0) {
            return;
        }
        long waiting;
        try {
            waiting = waitingInSource.getAsLong();
        } catch (DropFolder.ListingFailed e) {
            // the folder cannot be listed for now: the line still comes, with what is known
            waiting = -1;
        }
        long left = open + Math.max(0, waiting);
        String eta = waiting < 0 ? "unknown" : left == 0 ? "-"
                : perSecond <= 0 ? "unknown" : format(Duration.ofSeconds((long) (left / perSecond)));
        LOG.info("Progress: seen {}, submitted {}, completed {}, OneKYC errors {}, failed/rejected {}, open {},"
                        + " waiting in the drop folder {}, rate {}/s, ETA {}", p.seen(), p.submitted(),
                p.ended() - p.failed() - p.errors(), p.errors(), p.failed(), open, waiting < 0 ? "unknown" : waiting,
                String.format(Locale.ROOT, "%.1f", perSecond), eta);
    }

    private static String format(Duration d) {
        return d.toHours() > 0 ? d.toHours() + "h" + d.toMinutesPart() + "m" : d.toMinutes() + "m" + d.toSecondsPart() + "s";
    }
}

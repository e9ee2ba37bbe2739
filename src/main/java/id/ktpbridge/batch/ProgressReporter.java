package id.ktpbridge.batch;

import java.time.Duration;

import id.ktpbridge.ledger.Ledger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A periodic progress line for long batches: inputs seen since start (and inputs of earlier runs
 * finished since, resumed after a stop), submitted, completed, failed (a FAILED, REJECTED or
 * TIMED_OUT result), the completion rate over the last period and an ETA for what is still open
 * (open inputs of earlier runs included). Quiet when nothing is happening. The figures are counted by
 * the database, so a long-running instance reads no rows for them.
 */
public class ProgressReporter {

    private static final Logger LOG = LoggerFactory.getLogger(ProgressReporter.class);

    private final Ledger ledger;
    private final long startedAt = System.currentTimeMillis();
    private long lastEnded;
    private long lastAt = startedAt;

    public ProgressReporter(Ledger ledger) {
        this.ledger = ledger;
    }

    /** Camel bean method for the progress timer. */
    public synchronized void report() {
        Ledger.Progress p = ledger.progressOfRun(startedAt);
        long open = ledger.openCounts().values().stream().mapToLong(Integer::longValue).sum();
        long now = System.currentTimeMillis();
        // the rate covers the time since the last tick, printed or not
        double perSecond = (p.ended() - lastEnded) * 1000.0 / Math.max(1, now - lastAt);
        boolean moved = p.ended() != lastEnded;
        lastEnded = p.ended();
        lastAt = now;
        if (!moved && open == 0) {
            return;
        }
        String eta = open == 0 ? "-" : perSecond <= 0 ? "unknown" : format(Duration.ofSeconds((long) (open / perSecond)));
        LOG.info("Progress: seen {}, submitted {}, completed {}, failed/rejected {}, open {}, rate {}/s, ETA {}",
                p.seen(), p.submitted(), p.ended() - p.failed(), p.failed(), open, String.format("%.1f", perSecond), eta);
    }

    private static String format(Duration d) {
        return d.toHours() > 0 ? d.toHours() + "h" + d.toMinutesPart() + "m" : d.toMinutes() + "m" + d.toSecondsPart() + "s";
    }
}

package id.ktpbridge.batch;

import java.time.Duration;
import java.util.List;

import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.SubmissionState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A periodic progress line for long batches: inputs seen since start, submitted, completed,
 * failed, the completion rate over the last period and an ETA for what is still open. Quiet when
 * nothing is happening.
 */
public class ProgressReporter {

    private static final Logger LOG = LoggerFactory.getLogger(ProgressReporter.class);

    private final Ledger ledger;
    private final long startedAt = System.currentTimeMillis();
    private long lastDone = -1;
    private long lastAt = startedAt;

    public ProgressReporter(Ledger ledger) {
        this.ledger = ledger;
    }

    /** Camel bean method for the progress timer. */
    public synchronized void report() {
        List<LedgerRecord> rows = ledger.createdSince(startedAt);
        long seen = rows.size();
        long submitted = rows.stream().filter(r -> r.submittedAt() != null).count();
        long done = rows.stream().filter(r -> r.state().isFinal()).count();
        long failed = rows.stream().filter(r -> r.state() == SubmissionState.FAILED
                || r.state() == SubmissionState.REJECTED || "TIMED_OUT".equals(r.resultStatus())).count();
        long open = seen - done;
        long now = System.currentTimeMillis();
        if (done == lastDone && open == 0) {
            return;
        }
        double perSecond = lastDone < 0 ? 0 : (done - lastDone) * 1000.0 / Math.max(1, now - lastAt);
        String eta = open == 0 ? "-" : perSecond <= 0 ? "unknown" : format(Duration.ofSeconds((long) (open / perSecond)));
        LOG.info("Progress: seen {}, submitted {}, completed {}, failed/rejected {}, open {}, rate {}/s, ETA {}",
                seen, submitted, done - failed, failed, open, String.format("%.1f", perSecond), eta);
        lastDone = done;
        lastAt = now;
    }

    private static String format(Duration d) {
        return d.toHours() > 0 ? d.toHours() + "h" + d.toMinutesPart() + "m" : d.toMinutes() + "m" + d.toSecondsPart() + "s";
    }
}

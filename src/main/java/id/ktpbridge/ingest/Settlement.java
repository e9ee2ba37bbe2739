package id.ktpbridge.ingest;

import java.util.concurrent.RejectedExecutionException;

import id.ktpbridge.ledger.LedgerException;
import id.ktpbridge.submit.WorkItem;
import org.apache.camel.Exchange;

/**
 * Whether a failed input is quarantined or stays in its source. It is quarantined once its
 * outcome is recorded (a REJECTED or FAILED result), and for any failure the bundle cannot expect
 * to go away. It stays, to be taken again, when the bundle was stopping, its database was away
 * for a moment before the outcome could be recorded, or the input was deferred ({@link
 * InputDeferredException}): moved aside then, it would have neither a result nor another attempt.
 */
public final class Settlement {

    /** Exchange property: the input's REJECTED or FAILED result is recorded. */
    public static final String OUTCOME_RECORDED = "KtpOutcomeRecorded";

    private Settlement() {
    }

    public static void recorded(Exchange exchange) {
        exchange.setProperty(OUTCOME_RECORDED, true);
    }

    /** Exchange property: the input stays in its source whatever failed, for this long at least (see {@link #keepInSource}). */
    private static final String KEPT_IN_SOURCE = "KtpKeptInSource";

    /**
     * The input stays in its source to be taken again after {@code pause}, whatever the failure:
     * its submission may be confirmed and the ledger could not record that, so no FAILED result may
     * be given, and moved aside it would have no other attempt.
     */
    public static void keepInSource(Exchange exchange, java.time.Duration pause) {
        exchange.setProperty(KEPT_IN_SOURCE, pause);
    }

    /**
     * How long a source leaves an input that {@link #staysInSource stays} before taking it again:
     * what its deferral or {@link #keepInSource} asked for; null: as soon as it comes round to it.
     */
    public static java.time.Duration pause(Exchange exchange) {
        java.time.Duration deferred = InputDeferredException.retryAfter(FailureReport.failure(exchange));
        java.time.Duration kept = exchange.getProperty(KEPT_IN_SOURCE, java.time.Duration.class);
        return deferred == null ? kept : kept == null || deferred.compareTo(kept) > 0 ? deferred : kept;
    }

    /**
     * The name a quarantined input goes under when its own name is taken in the failed folder:
     * {@code <ledger id>-<name>}, so an earlier input's bytes and report are kept.
     */
    public static String asideName(String ledgerId, String name) {
        return (ledgerId == null ? Long.toString(System.currentTimeMillis()) : ledgerId) + "-" + name;
    }

    /**
     * {@link #asideName(String, String)} for the input of {@code exchange}: without a ledger id (it
     * failed before it got one), a prefix chosen once, so its image and sidecar still go in alike.
     */
    public static String asideName(Exchange exchange, String name) {
        String prefix = exchange.getProperty(WorkItem.LEDGER_ID, String.class);
        if (prefix == null) {
            prefix = exchange.getProperty(ASIDE_PREFIX, String.class);
            if (prefix == null) {
                prefix = Long.toString(System.currentTimeMillis());
                exchange.setProperty(ASIDE_PREFIX, prefix);
            }
        }
        return prefix + "-" + name;
    }

    /** Exchange property: the prefix of an input's aside names when it has no ledger id. */
    private static final String ASIDE_PREFIX = "KtpAsidePrefix";

    public static boolean staysInSource(Exchange exchange) {
        if (Boolean.TRUE.equals(exchange.getProperty(OUTCOME_RECORDED, Boolean.class))) {
            return false;
        }
        if (exchange.getContext().isStopping() || exchange.getContext().isStopped()
                || exchange.getProperty(KEPT_IN_SOURCE) != null) {
            return true;
        }
        Throwable failure = exchange.getException() != null ? exchange.getException()
                : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof InterruptedException || t instanceof RejectedExecutionException
                    || t instanceof InputDeferredException || t instanceof LedgerException l && l.isTransient()) {
                return true;
            }
        }
        return false;
    }
}

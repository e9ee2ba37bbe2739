package id.ktpbridge.ingest;

import java.util.concurrent.RejectedExecutionException;

import id.ktpbridge.ledger.LedgerException;
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

    /**
     * The name a quarantined input goes under when its own name is taken in the failed folder:
     * {@code <ledger id>-<name>}, so an earlier input's bytes and report are kept.
     */
    public static String asideName(String ledgerId, String name) {
        return (ledgerId == null ? Long.toString(System.currentTimeMillis()) : ledgerId) + "-" + name;
    }

    public static boolean staysInSource(Exchange exchange) {
        if (Boolean.TRUE.equals(exchange.getProperty(OUTCOME_RECORDED, Boolean.class))) {
            return false;
        }
        if (exchange.getContext().isStopping() || exchange.getContext().isStopped()) {
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

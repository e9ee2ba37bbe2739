package id.ktpbridge.ingest;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerException;
import id.ktpbridge.ledger.LedgerRetries;
import id.ktpbridge.submit.WorkItem;
import org.apache.camel.Exchange;
import org.apache.camel.Ordered;
import org.apache.camel.support.SynchronizationAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes down in the ledger when a source let go of an input: the file moved to the done or
 * failed folder (or deleted), the S3 object moved or deleted. Until then the same file met again,
 * same reference and same bytes, is the input a stopped process had not finished with, and is
 * resumed or skipped; after it, the same file is a new drop and gets a result of its own.
 *
 * <p>The file and SFTP consumers move an input after the exchange is done, so the check runs as
 * the exchange's last completion step. A source that moves the input itself (the quarantines, the
 * S3 source) says so with {@link #letGo}.
 */
public class SourceRelease {

    private static final Logger LOG = LoggerFactory.getLogger(SourceRelease.class);
    /**
     * Exchange property: the {@link Tracker} of the input. An object of its own, so that a
     * quarantine run from an onCompletion reaches it even when Camel hands that a copy of the
     * exchange (a copy shares its property values).
     */
    static final String TRACKER = "KtpSourceRelease";

    private final Ledger ledger;
    private final int retries;
    private final long firstRetryDelay;

    /**
     * @param retries         tries after the first when the ledger went away for a moment ({@code ktp.db.retry-attempts})
     * @param firstRetryDelay the first wait before one, doubling each time ({@code ktp.db.retry-delay}, ms)
     */
    public SourceRelease(Ledger ledger, int retries, long firstRetryDelay) {
        this.ledger = ledger;
        this.retries = retries;
        this.firstRetryDelay = firstRetryDelay;
    }

    /** Camel bean method, for each input before it is submitted. */
    public void track(Exchange exchange) {
        Tracker tracker = new Tracker();
        exchange.setProperty(TRACKER, tracker);
        exchange.getExchangeExtension().addOnCompletion(tracker);
    }

    /** The source moved or deleted the input itself. */
    public static void letGo(Exchange exchange) {
        Tracker tracker = exchange.getProperty(TRACKER, Tracker.class);
        if (tracker != null) {
            tracker.letGo = true;
        }
    }

    /**
     * For the quarantine of a failed input whose file was replaced meanwhile: the file there now is
     * not this input's and stays for its own turn. The input is let go of when its outcome is
     * recorded; one without an outcome keeps its row (its bytes are gone with the old file).
     *
     * @param where where the new file stays, for the log line
     */
    public static void replacedWhileProcessed(Exchange exchange, String where) {
        LOG.warn("Ledger {}: its file was replaced while it was processed; the new file stays {} and is taken as"
                + " an input of its own", exchange.getProperty(WorkItem.LEDGER_ID), where);
        if (Boolean.TRUE.equals(exchange.getProperty(Settlement.OUTCOME_RECORDED, Boolean.class))) {
            letGo(exchange);
        }
    }

    /** Whether the consumer let go of a successfully handled input by now (it moves or deletes it). */
    private static boolean consumerLetGo(Exchange exchange) {
        String type = exchange.getMessage().getHeader(InputHeaders.SOURCE_TYPE, String.class);
        if ("file".equals(type)) {
            // a move the file system refused leaves the file where it was: it is not let go (reported to
            // SourceMoveRefusals, whatever file key a mount gives it now). Another file at its name is not
            // it: moved, and a new one written under the name at once (by its file key)
            String path = exchange.getMessage().getHeader("CamelFileAbsolutePath", String.class);
            return path != null && !Boolean.TRUE.equals(exchange.getProperty(SourceMoveRefusals.KEPT, Boolean.class))
                    && (!Files.exists(Path.of(path), LinkOption.NOFOLLOW_LINKS) || SourceStamp.anotherFileAt(exchange));
        }
        // the SFTP consumer moves or deletes it; a refusal is reported to SourceMoveRefusals
        return "sftp".equals(type) && !Boolean.TRUE.equals(exchange.getProperty(SourceMoveRefusals.KEPT, Boolean.class));
    }

    /**
     * Runs after every other completion step, so after the consumer's own move of the input (but
     * before the S3 source's count of objects in flight, which waits for it).
     */
    private final class Tracker extends SynchronizationAdapter implements Ordered {

        private volatile boolean letGo;

        @Override
        public int getOrder() {
            return Ordered.LOWEST;
        }

        @Override
        public void onDone(Exchange exchange) {
            String ledgerId = exchange.getProperty(WorkItem.LEDGER_ID, String.class);
            if (ledgerId == null || !(letGo || !exchange.isFailed() && consumerLetGo(exchange))) {
                return;
            }
            try {
                LedgerRetries.run(() -> ledger.markReleased(ledgerId), retries, firstRetryDelay, (e, wait) -> { });
            } catch (LedgerException e) {
                // the same file dropped again is then taken for this input, and gets no result of its own
                LOG.warn("Ledger {}: could not record that its source let go of it: {}", ledgerId, e.getMessage());
            }
        }
    }
}

package id.ktpbridge.ingest;

import id.ktpbridge.submit.WorkItem;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A folder source's handler for what fails once Camel's consumer finishes with a file: the move
 * to the done folder (or the delete) after a submission, refused by the file system or the server.
 * Camel's own line names the file, whose name may be a NIK, and says nothing of what follows; this
 * one names the ledger id, and the file is remembered as settled where it is, so later scans do
 * not take it, read it and be refused again.
 */
public final class SourceMoveRefusals extends SourceErrorHandler {

    private static final Logger LOG = LoggerFactory.getLogger(SourceMoveRefusals.class);
    /** Exchange property: the source kept the file although the exchange went well. */
    static final String KEPT = "KtpSourceKept";

    private final SettledInPlace settled;

    public SourceMoveRefusals(SettledInPlace settled) {
        this.settled = settled;
    }

    @Override
    public void handleException(String message, Exchange exchange, Throwable exception) {
        String ledgerId = exchange == null ? null : exchange.getProperty(WorkItem.LEDGER_ID, String.class);
        if (ledgerId != null && !exchange.isFailed()) {
            settled.remember(exchange);
            exchange.setProperty(KEPT, true);
            LOG.error("Ledger {}: its outcome is recorded, but the source could not move or delete its file ({}); the"
                    + " file stays in place and is not taken again while the bundle runs", ledgerId,
                    reason(exception));
            return;
        }
        // a failed input's claim could not be let go of: the quarantine has said what happened to it
        LOG.warn("Ledger {}: the source could not finish with a file: {}", ledgerId == null ? "-" : ledgerId,
                reason(exception));
    }

    /** A file-system refusal's reason, else only the kind of error: Camel's messages name the file. */
    private static String reason(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root instanceof java.nio.file.FileSystemException ? FailureReport.safeMessage(root)
                : root.getClass().getSimpleName();
    }
}

package id.ktpbridge.ingest;

import id.ktpbridge.Lru;
import id.ktpbridge.ledger.LedgerIdempotentRepository;
import id.ktpbridge.submit.WorkItem;
import org.apache.camel.Exchange;
import org.apache.camel.spi.IdempotentRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A folder source's handler for what fails once Camel's consumer finishes with a file: the move
 * to the done folder (or the delete) after a submission, refused by the file system or the server.
 * Camel's own line names the file, whose name may be a NIK, and says nothing of what follows; this
 * one names the ledger id, and the file is remembered as settled where it is, so later scans do
 * not take it, read it and be refused again.
 *
 * <p>A consumer with an idempotent claim (SFTP) confirmed it just before the move; the claim is let
 * go of here, else the file would stay taken after a restart too, never moved (a move cut off by
 * the bundle's own stop is one). The next start finds the input ended and moves the file then.
 */
public final class SourceMoveRefusals extends SourceErrorHandler {

    private static final Logger LOG = LoggerFactory.getLogger(SourceMoveRefusals.class);
    /** Exchange property: the source kept the file although the exchange went well. */
    static final String KEPT = "KtpSourceKept";

    private final SettledInPlace settled;
    /** Moves cut off by a lost connection, by ledger id: after a few, a file is left as a refused one. */
    private final java.util.Map<String, Integer> cutOffs = java.util.Collections.synchronizedMap(
            Lru.map(10_000));
    /** A connection cut at the same move this often is no blip: the file stays, as for a refusal. */
    public static final int MAX_CUT_OFF_MOVES = 3;

    /** Whether a move or delete cut off by a lost connection was made all the same (its reply lost). */
    private final java.util.function.Predicate<Exchange> madeAnyway;

    public SourceMoveRefusals(SettledInPlace settled) {
        this(settled, exchange -> false);
    }

    /**
     * @param madeAnyway asked after a move or delete cut off by a lost connection: whether the server
     *                   made it before the connection went (the file gone from the source, and in
     *                   the done folder when moved). Then the input is let go of as moved: the
     *                   file is no longer where a later poll would find it
     */
    public SourceMoveRefusals(SettledInPlace settled, java.util.function.Predicate<Exchange> madeAnyway) {
        this.settled = settled;
        this.madeAnyway = madeAnyway;
    }

    @Override
    public void handleException(String message, Exchange exchange, Throwable exception) {
        String ledgerId = exchange == null ? null : exchange.getProperty(WorkItem.LEDGER_ID, String.class);
        if (ledgerId != null && !exchange.isFailed() && connectionLost(exception) && madeAnyway.test(exchange)) {
            // only the reply was lost: nothing is left for a later poll, which would never see the file,
            // and the input is let go of as moved (SourceRelease), so the same file dropped again is new
            LOG.warn("Ledger {}: the connection to the source went while its file was moved ({}), but the move was"
                    + " made", ledgerId, reason(exception));
            return;
        }
        if (ledgerId != null && !exchange.isFailed() && connectionLost(exception) && cutOffs.merge(ledgerId, 1,
                Integer::sum) <= MAX_CUT_OFF_MOVES) {
            // not a refusal: the server's connection went (a network blip). The claim is let go of and the
            // file not remembered, so the next listing takes it, finds its input submitted, and moves it
            letGoOfClaim(exchange);
            exchange.setProperty(KEPT, true);
            LOG.warn("Ledger {}: its outcome is recorded, but the connection to the source went while its file was"
                    + " moved ({}); a later poll moves it", ledgerId, reason(exception));
            return;
        }
        if (ledgerId != null && !exchange.isFailed()) {
            settled.remember(exchange);
            exchange.setProperty(KEPT, true);
            letGoOfClaim(exchange);
            LOG.error("Ledger {}: its outcome is recorded, but the source could not move or delete its file ({}); the"
                    + " file stays in place and is not taken again while the bundle runs", ledgerId,
                    reason(exception));
            return;
        }
        // a failed input's claim could not be let go of: the quarantine has said what happened to it
        LOG.warn("Ledger {}: the source could not finish with a file: {}", ledgerId == null ? "-" : ledgerId,
                reason(exception));
    }

    /** Drops the consumer's idempotent claim on the file, as Camel keys it; a no-op without one. */
    private static void letGoOfClaim(Exchange exchange) {
        String key = SourceClaims.key(exchange);
        if (key == null) {
            return;
        }
        IdempotentRepository claims = SourceClaims.repository(exchange);
        if (claims instanceof LedgerIdempotentRepository ledgerClaims) {
            ledgerClaims.forgetSettled(key);
        } else {
            claims.remove(key);
        }
    }

    /** Whether the failure is the connection to a remote source going, not the source refusing. */
    public static boolean connectionLost(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof com.jcraft.jsch.SftpException s) {
                // the server's refusals are statuses; the library wraps a broken channel (an I/O error of
                // its own) into a generic failure with that error as its cause
                return s.id == com.jcraft.jsch.ChannelSftp.SSH_FX_NO_CONNECTION
                        || s.id == com.jcraft.jsch.ChannelSftp.SSH_FX_CONNECTION_LOST
                        || s.getCause() instanceof java.io.IOException io && !(io instanceof java.nio.file.FileSystemException);
            }
            if (t instanceof com.jcraft.jsch.JSchException || t instanceof java.net.SocketException
                    || t instanceof java.io.EOFException) {
                return true;
            }
        }
        return false;
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

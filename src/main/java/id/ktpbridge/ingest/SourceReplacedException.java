package id.ktpbridge.ingest;

/**
 * Ends the exchange of a file input whose file was replaced while it was processed: a failed
 * exchange is what keeps the file consumer from moving the new file away unread (see
 * {@link SourceStamp}). The input itself is done; nothing about it failed.
 */
public class SourceReplacedException extends RuntimeException {

    public SourceReplacedException(String ledgerId) {
        super("the file of ledger " + ledgerId + " was replaced while it was processed", null, false, false);
    }
}

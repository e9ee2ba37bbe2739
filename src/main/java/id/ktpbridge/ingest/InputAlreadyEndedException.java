package id.ktpbridge.ingest;

/**
 * An input whose REJECTED or FAILED result is already recorded, met again before its source let go
 * of it (the process stopped before the quarantine, or the quarantine move was refused). It is
 * quarantined again with the reason already recorded, and gets no second result.
 */
public class InputAlreadyEndedException extends RuntimeException {

    private final String reasonCode;
    private final String recordedMessage;

    /** @param recordedMessage the message recorded with its result (null when none was): the reason, kept */
    public InputAlreadyEndedException(String ledgerId, String reasonCode, String state, String recordedMessage) {
        super("already ended as " + state + " (ledger " + ledgerId + "); its result stands");
        this.reasonCode = reasonCode;
        this.recordedMessage = recordedMessage;
    }

    public String reasonCode() {
        return reasonCode;
    }

    /** What its result says went wrong, as recorded; null when nothing was. */
    public String recordedMessage() {
        return recordedMessage;
    }
}

package id.ktpbridge.ingest;

/**
 * An input whose REJECTED or FAILED result is already recorded, met again before its source let go
 * of it (the process stopped before the quarantine, or the quarantine move was refused). It is
 * quarantined again with the reason already recorded, and gets no second result.
 */
public class InputAlreadyEndedException extends RuntimeException {

    private final String reasonCode;

    public InputAlreadyEndedException(String ledgerId, String reasonCode, String state) {
        super("already ended as " + state + " (ledger " + ledgerId + "); its result stands");
        this.reasonCode = reasonCode;
    }

    public String reasonCode() {
        return reasonCode;
    }
}

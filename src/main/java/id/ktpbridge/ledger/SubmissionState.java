package id.ktpbridge.ledger;

/**
 * Where an input stands. Each state is written before the external step whose effect could not
 * be repeated safely (the confirm), so the ledger always says what may have happened at OneKYC.
 */
public enum SubmissionState {
    /** Accepted locally; about to presign. */
    RECEIVED,
    /**
     * Presigned: the submission id is held for this input (no other input may upload to it);
     * about to upload. A restart uploads to the stored URL while it has more than 30 s left, else
     * presigns again.
     */
    PRESIGNED,
    /** Presigned and the bytes stored at the URL (submission id known); about to confirm. */
    UPLOADED,
    /** Confirmed at OneKYC; waiting for a final outcome by poll or callback. */
    CONFIRMED,
    /** One collector (poll or callback) owns the outcome; nobody else may deliver it. */
    COLLECTING,
    /** The result document is stored and queued for every target (see the delivery outbox). Final. */
    DELIVERED,
    /** Refused locally (bad input); its REJECTED result has been delivered. Final. */
    REJECTED,
    /** Could not be submitted; its FAILED result has been delivered. Final. */
    FAILED;

    public boolean isFinal() {
        return this == DELIVERED || this == REJECTED || this == FAILED;
    }
}

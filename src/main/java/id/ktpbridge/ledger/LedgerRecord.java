package id.ktpbridge.ledger;

/** One row of the ledger as read back. Times are epoch milliseconds, null when not reached yet. */
public record LedgerRecord(
        String id,
        String sourceType,
        String sourceRef,
        String sourceFile,
        String sourceSha256,
        Long sourceSize,
        String contentType,
        String onboardingPartner,
        String partnerUserId,
        String partnerUserIdType,
        String partnerSessionId,
        String sdkSessionId,
        String submissionId,
        SubmissionState state,
        String reasonCode,
        String errorMessage,
        String confirmMetadata,
        Long callbackAt,
        String receivedVia,
        int pollAttempts,
        Long nextPollAt,
        Long deadlineAt,
        Long submittedAt,
        Long completedAt,
        String resultStatus,
        String result,
        Long deliveredAt,
        long createdAt) {

    /** Whether its poll deadline has come by {@code now}. */
    public boolean pastDeadline(long now) {
        return deadlineAt != null && now >= deadlineAt;
    }

    /** The next look at this submission: {@code at}, but never later than its poll deadline. */
    public long notAfterDeadline(long at) {
        return deadlineAt == null ? at : Math.min(at, deadlineAt);
    }

    /**
     * Ids and state only: Camel logs bean arguments and traced bodies with it, and the user id, the
     * source's path and name, the error text and the result (the OCR document) may hold a NIK or a name.
     */
    @Override
    public String toString() {
        return "LedgerRecord[id=" + id + ", sourceType=" + sourceType + ", submissionId=" + submissionId + ", state="
                + state + ", reasonCode=" + reasonCode + ", resultStatus=" + resultStatus + "]";
    }
}

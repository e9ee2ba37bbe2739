package id.ktpbridge.ledger;

/** What the ledger records when an input is first seen. */
public record NewInput(
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
        String confirmMetadata) {

    /** Without the user id, the source's path and name or the metadata: they may hold a NIK or a name. */
    @Override
    public String toString() {
        return "NewInput[id=" + id + ", sourceType=" + sourceType + ", sourceSize=" + sourceSize + ", contentType="
                + contentType + "]";
    }
}

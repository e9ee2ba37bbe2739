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
}

package id.ktpbridge.gtf;

import java.time.Duration;

/**
 * Everything the OneKYC client needs to know about the API it talks to. Hosts, paths and the
 * answers to the reference's open questions are all settings.
 *
 * @param partnerSessionPerCall false (default): one {@code x-partner-session-id} per submission, as the
 *                              CoE details lookup needs; true: a fresh one per call, as the ESIGN pages
 *                              describe (details are then looked up by submission id alone)
 * @param detailsTokenSource which token {@code GET /coe/v1/submissions} gets: {@code user} (the
 *                           submission's user token, as the KTP scan flow does) or {@code partner}
 *                           (the partner token the details page describes)
 */
public record GtfSettings(
        String tokenUrl,
        String apiUrl,
        String clientId,
        String passKey,
        String onboardingPartner,
        String userTokenPath,
        String partnerTokenPath,
        String presignPath,
        String confirmPath,
        String statusPath,
        String detailsPath,
        String submissionType,
        String primaryDocumentKey,
        String detailsTokenSource,
        Duration connectTimeout,
        Duration readTimeout,
        Duration uploadTimeout,
        Duration tokenRefreshSkew,
        int tokenCacheMaxEntries,
        int retryMaxAttempts,
        Duration retryInitialDelay,
        Duration retryMaxDelay,
        boolean partnerSessionPerCall) {

    public boolean detailsUsePartnerToken() {
        return "partner".equalsIgnoreCase(detailsTokenSource);
    }

    public String statusPathFor(String submissionId) {
        return statusPath.replace("{submissionId}", submissionId);
    }

    /** A copy with other base URLs (the embedded sandbox picks its own port). */
    public GtfSettings withBaseUrls(String newTokenUrl, String newApiUrl) {
        return new GtfSettings(newTokenUrl, newApiUrl, clientId, passKey, onboardingPartner, userTokenPath,
                partnerTokenPath, presignPath, confirmPath, statusPath, detailsPath, submissionType,
                primaryDocumentKey, detailsTokenSource, connectTimeout, readTimeout, uploadTimeout, tokenRefreshSkew,
                tokenCacheMaxEntries, retryMaxAttempts, retryInitialDelay, retryMaxDelay, partnerSessionPerCall);
    }
}

package id.ktpbridge.gtf;

import java.time.Duration;

/**
 * Everything the OneKYC client needs to know about the API it talks to. Hosts, paths and the
 * answers to the reference's open questions are all settings.
 *
 * @param partnerSessionPerCall false (default): one {@code x-partner-session-id} per submission, as the
 *                              CoE details lookup needs; true: a fresh one per call, as the ESIGN pages
 *                              describe (details are then looked up by submission id alone)
 * @param sdkSessionPerCall false (default): one {@code x-sdk-session-id} per submission, sent on its
 *                          presign, confirm and status calls; true: a fresh one per call (the
 *                          reference leaves open whether it must stay the same)
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
        boolean partnerSessionPerCall,
        boolean sdkSessionPerCall) {

    public GtfSettings {
        // paths start with '/': a base URL given with a trailing slash must not make them '//'
        tokenUrl = withoutTrailingSlash(tokenUrl);
        apiUrl = withoutTrailingSlash(apiUrl);
        requireHeaderValue("gtf.client-id", clientId);
        requireHeaderValue("gtf.pass-key", passKey);
        requireHeaderValue("gtf.onboarding-partner", onboardingPartner);
    }

    /**
     * Refuses a credential HTTP cannot carry in a header (a control character, a character outside
     * ASCII, such as an invisible one pasted with it); the message names the setting and the
     * position, never the value.
     */
    private static void requireHeaderValue(String setting, String value) {
        if (value == null) {
            return;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c > 0x7E) {
                throw new IllegalStateException("Setting '" + setting + "' has a character that cannot be sent in an"
                        + " HTTP header at position " + (i + 1) + " (a control or non-ASCII character)");
            }
        }
    }

    /** Without the pass-key. */
    @Override
    public String toString() {
        return "GtfSettings[tokenUrl=" + tokenUrl + ", apiUrl=" + apiUrl + ", onboardingPartner=" + onboardingPartner
                + ", submissionType=" + submissionType + "]";
    }

    /** With one {@code x-sdk-session-id} per submission (the default). */
    public GtfSettings(String tokenUrl, String apiUrl, String clientId, String passKey, String onboardingPartner,
                       String userTokenPath, String partnerTokenPath, String presignPath, String confirmPath,
                       String statusPath, String detailsPath, String submissionType, String primaryDocumentKey,
                       String detailsTokenSource, Duration connectTimeout, Duration readTimeout, Duration uploadTimeout,
                       Duration tokenRefreshSkew, int tokenCacheMaxEntries, int retryMaxAttempts,
                       Duration retryInitialDelay, Duration retryMaxDelay, boolean partnerSessionPerCall) {
        this(tokenUrl, apiUrl, clientId, passKey, onboardingPartner, userTokenPath, partnerTokenPath, presignPath,
                confirmPath, statusPath, detailsPath, submissionType, primaryDocumentKey, detailsTokenSource,
                connectTimeout, readTimeout, uploadTimeout, tokenRefreshSkew, tokenCacheMaxEntries, retryMaxAttempts,
                retryInitialDelay, retryMaxDelay, partnerSessionPerCall, false);
    }

    public boolean detailsUsePartnerToken() {
        return "partner".equalsIgnoreCase(detailsTokenSource);
    }

    /** The status path of one submission; an id with characters a path segment cannot carry is escaped. */
    public String statusPathFor(String submissionId) {
        return statusPath.replace("{submissionId}", pathSegment(submissionId));
    }

    static String pathSegment(String value) {
        StringBuilder out = new StringBuilder(value.length());
        for (byte b : value.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xFF);
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "-._~".indexOf(c) >= 0) {
                out.append(c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
            }
        }
        return out.toString();
    }

    private static String withoutTrailingSlash(String url) {
        String u = url;
        while (u != null && u.endsWith("/")) {
            u = u.substring(0, u.length() - 1);
        }
        return u;
    }

    /** A copy with other base URLs (the embedded sandbox picks its own port). */
    public GtfSettings withBaseUrls(String newTokenUrl, String newApiUrl) {
        return new GtfSettings(newTokenUrl, newApiUrl, clientId, passKey, onboardingPartner, userTokenPath,
                partnerTokenPath, presignPath, confirmPath, statusPath, detailsPath, submissionType,
                primaryDocumentKey, detailsTokenSource, connectTimeout, readTimeout, uploadTimeout, tokenRefreshSkew,
                tokenCacheMaxEntries, retryMaxAttempts, retryInitialDelay, retryMaxDelay, partnerSessionPerCall,
                sdkSessionPerCall);
    }
}

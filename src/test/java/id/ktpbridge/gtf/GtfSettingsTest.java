package id.ktpbridge.gtf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class GtfSettingsTest {

    private static GtfSettings settings(String tokenUrl, String apiUrl) {
        return GtfClientTest.settings("https://x", Duration.ofMinutes(5), false).withBaseUrls(tokenUrl, apiUrl);
    }

    @Test
    void trailingSlashesOfBaseUrlsAreDropped() {
        GtfSettings s = settings("https://token.example/", "https://api.example//");
        assertEquals("https://token.example", s.tokenUrl());
        assertEquals("https://api.example", s.apiUrl());
        assertEquals("https://api.example", s.withBaseUrls("https://x/", "https://api.example/").apiUrl());
    }

    @Test
    void aSubmissionIdIsOnePathSegment() {
        GtfSettings s = settings("https://t", "https://a");
        assertEquals("/coe/v1/submissions/3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44/status",
                s.statusPathFor("3f1c2a9e-7b4d-4e51-9c0a-2d8e6f1b7a44"));
        assertEquals("/coe/v1/submissions/a%2Fb%3Fc%20d%C3%A9/status", s.statusPathFor("a/b?c dé"));
    }

    @Test
    void aPassKeyHttpCannotCarryStopsTheStartWithoutBeingQuoted() {
        GtfSettings good = settings("https://t", "https://a");
        String pasted = "pk-live-42\u200b";
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new GtfSettings(good.tokenUrl(),
                good.apiUrl(), good.clientId(), pasted, good.onboardingPartner(), good.userTokenPath(),
                good.partnerTokenPath(), good.presignPath(), good.confirmPath(), good.statusPath(), good.detailsPath(),
                good.submissionType(), good.primaryDocumentKey(), good.detailsTokenSource(), good.connectTimeout(),
                good.readTimeout(), good.uploadTimeout(), good.tokenRefreshSkew(), good.tokenCacheMaxEntries(),
                good.retryMaxAttempts(), good.retryInitialDelay(), good.retryMaxDelay(), false, false));
        assertTrue(e.getMessage().contains("gtf.pass-key") && e.getMessage().contains("position 11"), e.getMessage());
        assertFalse(e.getMessage().contains("pk-live"), "the value is not quoted");
        assertFalse(good.toString().contains(good.passKey()), "toString leaves the pass-key out");
    }
}

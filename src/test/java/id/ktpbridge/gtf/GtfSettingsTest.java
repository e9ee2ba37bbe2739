package id.ktpbridge.gtf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class GtfSettingsTest {

    private static GtfSettings settings(String tokenUrl, String apiUrl) {
        return new GtfSettings(tokenUrl, apiUrl, "client", "key", "PARTNER", "/v2/coe/authentication",
                "/v1/coe/partner/authentication", "/coe/v1/submissions/urls", "/coe/v1/submissions/urls",
                "/coe/v1/submissions/{submissionId}/status", "/coe/v1/submissions", "KTP_SCAN", "KTP_FRONT", "user",
                Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofMinutes(5), 10, 3,
                Duration.ofMillis(10), Duration.ofMillis(100), false);
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
}

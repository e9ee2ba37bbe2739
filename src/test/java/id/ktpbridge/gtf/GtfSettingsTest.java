package id.ktpbridge.gtf;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}

package id.ktpbridge.testkit;

import java.net.http.HttpClient;
import java.time.Duration;

import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.gtf.GtfClient;
import id.ktpbridge.gtf.GtfHttp;
import id.ktpbridge.gtf.GtfSettings;

/** A OneKYC client for the metrics' token and circuit gauges, pointed at nothing: never called. */
public final class IdleGtfClient {

    private IdleGtfClient() {
    }

    public static GtfClient create() {
        ObjectMapper json = new ObjectMapper();
        GtfSettings s = new GtfSettings("http://127.0.0.1:9", "http://127.0.0.1:9", "client", "pass-key", "PARTNER",
                "/v2/coe/authentication", "/v1/coe/partner/authentication", "/coe/v1/submissions/urls",
                "/coe/v1/submissions/urls", "/coe/v1/submissions/{submissionId}/status", "/coe/v1/submissions",
                "KTP_SCAN", "KTP_FRONT", "user", Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10),
                Duration.ofMinutes(5), 100, 1, Duration.ofMillis(20), Duration.ofMillis(200), false);
        return new GtfClient(s, new GtfHttp(HttpClient.newHttpClient(), json, 1, Duration.ofMillis(20),
                Duration.ofMillis(200)), json);
    }
}

package id.ktpbridge.gtf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class UrlExpiryTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long NOW = Instant.parse("2026-05-07T11:07:54Z").toEpochMilli();
    private static final String SIGNED = "https://b.oss-ap-southeast-5.aliyuncs.com/KTP_SCAN/x_KTP_FRONT"
            + "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20260507T110754Z&X-Amz-SignedHeaders=host"
            + "&X-Amz-Expires=600&X-Amz-Credential=a%2Fb&X-Amz-Signature=c";

    @Test
    void theAnswersValueCountsAsAStringANumberOrADecimal() throws Exception {
        for (String given : new String[] {"\"600\"", "600", "\" 600 \"", "\"600.0\"", "600.7"}) {
            assertEquals(600, UrlExpiry.seconds(JSON.readTree(given), "https://s/x", NOW), given);
        }
    }

    @Test
    void withoutAUsableValueTheUrlsSignatureSaysIt() throws Exception {
        JsonNode missing = JSON.readTree("{}").path("expiryInSeconds");
        assertEquals(600, UrlExpiry.seconds(missing, SIGNED, NOW));
        assertEquals(540, UrlExpiry.seconds(JSON.readTree("\"\""), SIGNED, NOW + 60_000), "signed a minute ago");
        assertEquals(600, UrlExpiry.seconds(JSON.readTree("0"), "https://s/x?X-Amz-Expires=600", NOW));
        long ossExpires = NOW / 1000 + 432_000;
        assertEquals(432_000, UrlExpiry.seconds(missing, "https://s/x?OSSAccessKeyId=k&Expires=" + ossExpires
                + "&Signature=s", NOW));
        // this host's clock ahead of the signer's: the storage's clock decides, so the URL is still tried
        assertEquals(UrlExpiry.MIN_FROM_URL_SECONDS, UrlExpiry.seconds(missing, SIGNED, NOW + 700_000));
    }

    @Test
    void withNothingToGoByTheExamplesTenMinutesAreTaken() throws Exception {
        assertEquals(UrlExpiry.FALLBACK_SECONDS, UrlExpiry.seconds(JSON.readTree("null"), "https://s/x", NOW));
        assertEquals(UrlExpiry.FALLBACK_SECONDS, UrlExpiry.seconds(JSON.readTree("\"soon\""), null, NOW));
    }
}

package id.ktpbridge.gtf;

import java.math.BigDecimal;
import java.net.URI;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * How long a presigned upload URL lasts, in seconds. The presign answer's {@code expiryInSeconds}
 * (a string in the reference, a number accepted too, decimals cut); the reference does not mark
 * it required, so without a usable one the URL's own signature parameters say it
 * ({@code X-Amz-Date} + {@code X-Amz-Expires}, or OSS's {@code Expires} epoch), and failing those
 * the COE example's 600 s. A wrong guess costs little: storage refuses an expired URL with 403, and
 * the input presigns again.
 */
final class UrlExpiry {

    static final long FALLBACK_SECONDS = 600;
    static final long MIN_FROM_URL_SECONDS = 60;
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");

    private UrlExpiry() {
    }

    static long seconds(JsonNode expiryInSeconds, String url, long nowMillis) {
        long given = number(expiryInSeconds);
        if (given > 0) {
            return given;
        }
        long fromUrl = fromUrl(url, nowMillis);
        // read against this host's clock, which may run ahead of the signer's: at least a minute, and
        // the storage, whose clock counts, refuses the URL if it has really run out
        return fromUrl > 0 ? Math.max(MIN_FROM_URL_SECONDS, fromUrl) : FALLBACK_SECONDS;
    }

    private static long number(JsonNode node) {
        if (node == null || node.isMissingNode() || node.isNull()) {
            return 0;
        }
        if (node.isNumber()) {
            return node.asLong();
        }
        try {
            return new BigDecimal(node.asText("").trim()).longValue();
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Seconds left by the URL's signature parameters, or 0 when it names none. */
    private static long fromUrl(String url, long nowMillis) {
        String query;
        try {
            query = url == null ? null : new URI(url).getRawQuery();
        } catch (java.net.URISyntaxException e) {
            return 0;
        }
        if (query == null) {
            return 0;
        }
        String amzDate = null;
        long amzExpires = 0;
        long ossExpires = 0;
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            switch (name) {
                case "X-Amz-Date" -> amzDate = value;
                case "X-Amz-Expires" -> amzExpires = parse(value);
                case "Expires" -> ossExpires = parse(value);
                default -> { }
            }
        }
        if (amzExpires > 0) {
            if (amzDate == null) {
                return amzExpires;
            }
            try {
                long signedAt = LocalDateTime.parse(amzDate, AMZ_DATE).toEpochSecond(ZoneOffset.UTC);
                return Math.max(1, signedAt + amzExpires - nowMillis / 1000);
            } catch (DateTimeParseException e) {
                return amzExpires;
            }
        }
        return ossExpires > 0 ? Math.max(1, ossExpires - nowMillis / 1000) : 0;
    }

    private static long parse(String value) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}

package id.ktpbridge.sandbox;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * S3-style presigned URLs for the sandbox storage. The signature covers the method, the raw
 * path and the raw query string exactly as issued (minus the signature parameter), so a
 * client that decodes or re-encodes the URL — e.g. turns the {@code %2F} in the credential
 * into {@code /} or {@code %252F} — is rejected just like by real object storage.
 */
final class PresignedUrls {

    static final String SIGNATURE_PARAM = "X-Amz-Signature";
    private static final String REGION = "ap-southeast-5";
    private static final DateTimeFormatter AMZ_DATE =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter AMZ_DAY =
            DateTimeFormatter.ofPattern("yyyyMMdd").withZone(ZoneOffset.UTC);

    /** Why verification failed; maps onto the S3 XML error code. */
    enum Failure { MISSING_AUTH, SIGNATURE_MISMATCH, EXPIRED }

    private final byte[] secret = new byte[32];

    PresignedUrls() {
        new SecureRandom().nextBytes(secret);
    }

    /** A presigned URL for {@code method} on {@code /storage/<objectKey>}. */
    String presign(String baseUrl, String method, String objectKey, long expirySeconds) {
        return presign(baseUrl, method, objectKey, expirySeconds, Instant.now());
    }

    /** As above but signed at {@code now}; a time far enough in the past yields an already expired URL. */
    String presign(String baseUrl, String method, String objectKey, long expirySeconds, Instant now) {
        String rawPath = "/storage/" + objectKey;
        String credential = "SANDBOXKEY%2F" + AMZ_DAY.format(now) + "%2F" + REGION + "%2Fs3%2Faws4_request";
        String query = "X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=" + credential
                + "&X-Amz-Date=" + AMZ_DATE.format(now)
                + "&X-Amz-Expires=" + expirySeconds
                + "&X-Amz-SignedHeaders=host";
        return baseUrl + rawPath + "?" + query + "&" + SIGNATURE_PARAM + "=" + sign(method, rawPath, query);
    }

    /** Null when the raw request path/query carry a valid, unexpired signature for {@code method}. */
    Failure verify(String method, String rawPath, String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) {
            return Failure.MISSING_AUTH;
        }
        StringBuilder unsigned = new StringBuilder();
        String signature = null;
        Map<String, String> params = new LinkedHashMap<>();
        for (String part : rawQuery.split("&", -1)) {
            if (part.startsWith(SIGNATURE_PARAM + "=")) {
                signature = part.substring(SIGNATURE_PARAM.length() + 1);
                continue;
            }
            if (unsigned.length() > 0) {
                unsigned.append('&');
            }
            unsigned.append(part);
            int eq = part.indexOf('=');
            if (eq > 0) {
                params.putIfAbsent(part.substring(0, eq), part.substring(eq + 1));
            }
        }
        if (signature == null || !params.containsKey("X-Amz-Date") || !params.containsKey("X-Amz-Expires")) {
            return Failure.MISSING_AUTH;
        }
        String expected = sign(method, rawPath, unsigned.toString());
        if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                signature.getBytes(StandardCharsets.US_ASCII))) {
            return Failure.SIGNATURE_MISMATCH;
        }
        try {
            Instant signedAt = Instant.from(AMZ_DATE.parse(params.get("X-Amz-Date")));
            long expires = Long.parseLong(params.get("X-Amz-Expires"));
            return Instant.now().isAfter(signedAt.plusSeconds(expires)) ? Failure.EXPIRED : null;
        } catch (DateTimeParseException | NumberFormatException e) {
            return Failure.MISSING_AUTH; // cannot happen for a URL we signed, but stay defensive
        }
    }

    private String sign(String method, String rawPath, String rawQueryWithoutSignature) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            String canonical = method + "\n" + rawPath + "\n" + rawQueryWithoutSignature;
            return HexFormat.of().formatHex(mac.doFinal(canonical.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}

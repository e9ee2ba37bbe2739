package id.ktpbridge.collect;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import java.util.function.Function;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Checks that a callback comes from OneKYC, by the mode agreed at onboarding:
 * <ul>
 *   <li>{@code bearer}: {@code Authorization: Bearer <token>} (the scheme in any case)</li>
 *   <li>{@code basic}: {@code Authorization: Basic base64(user:password)} (likewise)</li>
 *   <li>{@code api-key}: a configured header carries the key</li>
 *   <li>{@code hmac}: a configured header carries HMAC-SHA256 of the raw body, hex or base64,
 *       optionally prefixed {@code sha256=}</li>
 *   <li>{@code none}</li>
 * </ul>
 * Every comparison is constant-time.
 */
public class CallbackAuth {

    private final String mode;
    private final String headerName;
    /** Authentication scheme in front of the credentials (Bearer, Basic), matched in any case; null for none. */
    private final String scheme;
    private final byte[] expected;
    private final byte[] hmacKey;

    public CallbackAuth(String mode, String token, String username, String password, String apiKeyHeader,
                        String apiKey, String hmacHeader, String hmacSecret) {
        this.mode = mode == null ? "bearer" : mode.trim().toLowerCase(Locale.ROOT);
        switch (this.mode) {
            case "none" -> {
                headerName = null;
                scheme = null;
                expected = null;
                hmacKey = null;
            }
            case "bearer" -> {
                headerName = "Authorization";
                scheme = "Bearer";
                expected = bytes(required(token, "ktp.callback.auth-token", "KTP_CALLBACK_AUTH_TOKEN"));
                hmacKey = null;
            }
            case "basic" -> {
                headerName = "Authorization";
                String pair = required(username, "ktp.callback.username", "KTP_CALLBACK_USERNAME") + ":"
                        + required(password, "ktp.callback.password", "KTP_CALLBACK_PASSWORD");
                scheme = "Basic";
                expected = bytes(Base64.getEncoder().encodeToString(bytes(pair)));
                hmacKey = null;
            }
            case "api-key" -> {
                headerName = required(apiKeyHeader, "ktp.callback.api-key-header", "KTP_CALLBACK_API_KEY_HEADER");
                scheme = null;
                expected = bytes(required(apiKey, "ktp.callback.api-key", "KTP_CALLBACK_API_KEY"));
                hmacKey = null;
            }
            case "hmac" -> {
                headerName = required(hmacHeader, "ktp.callback.hmac-header", "KTP_CALLBACK_HMAC_HEADER");
                scheme = null;
                expected = null;
                hmacKey = bytes(required(hmacSecret, "ktp.callback.hmac-secret", "KTP_CALLBACK_HMAC_SECRET"));
            }
            default -> throw new IllegalStateException("Setting 'ktp.callback.auth-mode' (KTP_CALLBACK_AUTH_MODE)"
                    + " must be bearer, basic, api-key, hmac or none, not '" + mode + "'");
        }
    }

    /** Convenience for the bearer mode. */
    public CallbackAuth(String mode, String token) {
        this(mode, token, null, null, null, null, null, null);
    }

    /** The mode ({@code ktp.callback.auth-mode}), for log lines: it names no credential. */
    public String mode() {
        return mode;
    }

    /** Whether any caller is accepted. */
    public boolean isNone() {
        return "none".equals(mode);
    }

    /** @param header looks a request header up by name (case-insensitive) */
    public boolean accepts(Function<String, String> header, byte[] rawBody) {
        if ("none".equals(mode)) {
            return true;
        }
        String presented = header.apply(headerName);
        if (presented == null) {
            return false;
        }
        if (hmacKey == null) {
            return MessageDigest.isEqual(expected, bytes(credentials(presented.trim())));
        }
        byte[] mac = hmac(rawBody == null ? new byte[0] : rawBody);
        String value = presented.trim();
        if (value.regionMatches(true, 0, "sha256=", 0, 7)) {
            value = value.substring(7);
        }
        byte[] hex = bytes(HexFormat.of().formatHex(mac));
        byte[] b64 = bytes(Base64.getEncoder().encodeToString(mac));
        // both encodings are compared, without short-circuit, so timing says nothing about which one matched
        return MessageDigest.isEqual(hex, bytes(value.toLowerCase(Locale.ROOT))) | MessageDigest.isEqual(b64, bytes(value));
    }

    /**
     * The credentials after the scheme: the scheme name is case-insensitive and may be followed by
     * more than one space (RFC 9110 11.4); a value without the scheme yields an empty string.
     */
    private String credentials(String value) {
        if (scheme == null) {
            return value;
        }
        int n = scheme.length();
        if (value.length() <= n || !value.regionMatches(true, 0, scheme, 0, n) || value.charAt(n) != ' ') {
            return "";
        }
        return value.substring(n).stripLeading();
    }

    private byte[] hmac(byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(hmacKey, "HmacSHA256"));
            return mac.doFinal(body);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String required(String value, String key, String env) {
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("ktp.callback.auth-mode needs " + key + " (environment variable " + env + ")");
        }
        return value;
    }
}

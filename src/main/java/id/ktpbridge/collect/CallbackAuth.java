package id.ktpbridge.collect;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Checks the {@code Authorization} header of a OneKYC callback. Modes: {@code bearer} (expects
 * {@code Bearer <token>}) and {@code none}. Comparison is constant-time.
 */
public class CallbackAuth {

    private final String mode;
    private final byte[] expected;

    public CallbackAuth(String mode, String token) {
        this.mode = mode == null ? "bearer" : mode.trim().toLowerCase(java.util.Locale.ROOT);
        switch (this.mode) {
            case "none" -> this.expected = null;
            case "bearer" -> {
                if (token == null || token.isBlank()) {
                    throw new IllegalStateException("ktp.callback.auth-mode=bearer needs ktp.callback.auth-token"
                            + " (environment variable KTP_CALLBACK_AUTH_TOKEN)");
                }
                this.expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
            }
            default -> throw new IllegalStateException("Unknown ktp.callback.auth-mode '" + mode
                    + "' (expected bearer or none)");
        }
    }

    public boolean accepts(String authorizationHeader) {
        if (expected == null) {
            return true;
        }
        return authorizationHeader != null
                && MessageDigest.isEqual(expected, authorizationHeader.trim().getBytes(StandardCharsets.UTF_8));
    }
}

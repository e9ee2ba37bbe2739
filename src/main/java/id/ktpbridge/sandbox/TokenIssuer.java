package id.ktpbridge.sandbox;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Mints and validates JWT-shaped tokens. The tokens only look like JWTs (so clients cannot
 * rely on decoding them); validity is decided by lookup in the issued-token table.
 */
final class TokenIssuer {

    /** What a token stands for; {@code user} is null for partner tokens. */
    record Grant(UserKey user, long expiresAtEpochSecond) {
        boolean isPartner() { return user == null; }
    }

    /** Result of minting. */
    record Minted(String token, long ttlSeconds, long expiresAtEpochSecond) {

        /** Without the token. */
        @Override
        public String toString() {
            return "Minted[ttlSeconds=" + ttlSeconds + ", expiresAtEpochSecond=" + expiresAtEpochSecond + "]";
        }
    }

    private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

    private final SecureRandom random = new SecureRandom();
    private final byte[] signingKey = new byte[32];
    private final String keyId;
    private final Map<String, Grant> grants = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> userTokenCounts = new ConcurrentHashMap<>();
    private final AtomicLong issued = new AtomicLong();
    private final AtomicLong partnerIssued = new AtomicLong();

    TokenIssuer() {
        random.nextBytes(signingKey);
        byte[] kid = new byte[9];
        random.nextBytes(kid);
        keyId = "sbx-" + B64URL.encodeToString(kid);
    }

    Minted mintUserToken(UserKey user, long ttlSeconds) {
        userTokenCounts.computeIfAbsent(user.partnerUserId(), k -> new AtomicLong()).incrementAndGet();
        return mint(user, ttlSeconds, "user");
    }

    Minted mintPartnerToken(long ttlSeconds) {
        partnerIssued.incrementAndGet();
        return mint(null, ttlSeconds, "partner");
    }

    private Minted mint(UserKey user, long ttlSeconds, String scope) {
        long now = System.currentTimeMillis() / 1000;
        long exp = now + ttlSeconds;
        byte[] jti = new byte[16];
        random.nextBytes(jti);
        String header = "{\"kid\":\"" + keyId + "\",\"typ\":\"JWT\",\"alg\":\"HS256\"}";
        // The payload deliberately carries no user identifiers: tokens end up in client logs by mistake.
        String payload = "{\"iss\":\"gtf-sandbox\",\"scope\":\"" + scope + "\",\"jti\":\""
                + B64URL.encodeToString(jti) + "\",\"iat\":" + now + ",\"exp\":" + exp + "}";
        String unsigned = b64(header) + "." + b64(payload);
        String token = unsigned + "." + B64URL.encodeToString(hmac(unsigned));
        grants.put(token, new Grant(user, exp));
        issued.incrementAndGet();
        return new Minted(token, ttlSeconds, exp);
    }

    /** The grant behind a token, or null when unknown, revoked or expired. */
    Grant validate(String token) {
        if (token == null) {
            return null;
        }
        Grant grant = grants.get(token.trim());
        if (grant == null || System.currentTimeMillis() / 1000 >= grant.expiresAtEpochSecond()) {
            return null;
        }
        return grant;
    }

    /** Forgets one token; true when it was still known. */
    boolean revoke(String token) {
        return token != null && grants.remove(token.trim()) != null;
    }

    /** Forgets every token issued so far; they become "unknown" and fail with 401. */
    void revokeAll() {
        grants.clear();
    }

    long issuedCount() { return issued.get(); }

    long partnerIssuedCount() { return partnerIssued.get(); }

    long issuedCount(String partnerUserId) {
        AtomicLong count = userTokenCounts.get(partnerUserId);
        return count == null ? 0 : count.get();
    }

    private static String b64(String json) {
        return B64URL.encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }

    private byte[] hmac(String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(signingKey, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.US_ASCII));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}

package id.ktpbridge.collect;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.junit.jupiter.api.Test;

class CallbackAuthTest {

    private static final byte[] BODY = "{\"submissionId\":\"a\",\"status\":\"COMPLETED\"}".getBytes(StandardCharsets.UTF_8);

    private static Function<String, String> headers(String... pairs) {
        Map<String, String> m = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m::get;
    }

    @Test
    void bearer() {
        CallbackAuth auth = new CallbackAuth("bearer", "t0k3n");
        assertTrue(auth.accepts(headers("authorization", "Bearer t0k3n"), BODY));
        assertFalse(auth.accepts(headers("Authorization", "Bearer t0k3"), BODY));
        assertFalse(auth.accepts(headers("Authorization", "t0k3n"), BODY));
        assertFalse(auth.accepts(headers(), BODY));
        // the scheme name is case-insensitive and may be followed by several spaces (RFC 9110)
        assertTrue(auth.accepts(headers("Authorization", "bearer t0k3n"), BODY));
        assertTrue(auth.accepts(headers("Authorization", "BEARER   t0k3n"), BODY));
        assertFalse(auth.accepts(headers("Authorization", "Bearert0k3n"), BODY));
        assertFalse(auth.accepts(headers("Authorization", "Basic t0k3n"), BODY));
        assertFalse(auth.accepts(headers("Authorization", "Bearer "), BODY));
        assertFalse(auth.accepts(headers("Authorization", "Bearer t0k3n t0k3n"), BODY));
    }

    @Test
    void basic() {
        CallbackAuth auth = new CallbackAuth("basic", null, "gtf", "s3cret", null, null, null, null);
        String good = "Basic " + Base64.getEncoder().encodeToString("gtf:s3cret".getBytes(StandardCharsets.UTF_8));
        assertTrue(auth.accepts(headers("Authorization", good), BODY));
        assertTrue(auth.accepts(headers("Authorization", good.replace("Basic ", "basic  ")), BODY));
        assertFalse(auth.accepts(headers("Authorization", "Basic Z3RmOndyb25n"), BODY));
    }

    @Test
    void apiKey() {
        CallbackAuth auth = new CallbackAuth("api-key", null, null, null, "X-API-Key", "k-123", null, null);
        assertTrue(auth.accepts(headers("x-api-key", "k-123"), BODY));
        assertFalse(auth.accepts(headers("X-API-Key", "k-124"), BODY));
        assertFalse(auth.accepts(headers("Authorization", "k-123"), BODY));
    }

    @Test
    void aBareTokenInAuthorizationIsTakenByApiKeyModeOnThatHeader() {
        // bearer mode refuses it (see bearer()); a sender that sends it so is served this way (README)
        CallbackAuth auth = new CallbackAuth("api-key", null, null, null, "Authorization", "t0k3n", null, null);
        assertTrue(auth.accepts(headers("Authorization", "t0k3n"), BODY));
        assertTrue(auth.accepts(headers("authorization", " t0k3n "), BODY));
        assertFalse(auth.accepts(headers("Authorization", "Bearer t0k3n"), BODY));
        assertFalse(auth.accepts(headers("Authorization", "t0k3"), BODY));
        assertFalse(auth.accepts(headers("X-API-Key", "t0k3n"), BODY));
        assertFalse(auth.accepts(headers(), BODY));
    }

    @Test
    void hmacOverTheRawBodyHexOrBase64() throws Exception {
        CallbackAuth auth = new CallbackAuth("hmac", null, null, null, null, null, "X-Signature", "shh");
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec("shh".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        byte[] sig = mac.doFinal(BODY);
        String hex = HexFormat.of().formatHex(sig);
        assertTrue(auth.accepts(headers("X-Signature", hex), BODY));
        assertTrue(auth.accepts(headers("X-Signature", "sha256=" + hex.toUpperCase()), BODY));
        assertTrue(auth.accepts(headers("X-Signature", Base64.getEncoder().encodeToString(sig)), BODY));
        byte[] tampered = BODY.clone();
        tampered[5] ^= 1;
        assertFalse(auth.accepts(headers("X-Signature", hex), tampered));
        assertFalse(auth.accepts(headers(), BODY));
    }

    @Test
    void missingSecretsNameTheSetting() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new CallbackAuth("bearer", ""));
        assertTrue(e.getMessage().contains("KTP_CALLBACK_AUTH_TOKEN"));
        e = assertThrows(IllegalStateException.class,
                () -> new CallbackAuth("hmac", null, null, null, "X-Sig", null, "X-Sig", null));
        assertTrue(e.getMessage().contains("ktp.callback.hmac-secret"));
        assertThrows(IllegalStateException.class, () -> new CallbackAuth("digest", "x"));
    }

    @Test
    void allowlistMatchesCidrBlocks() {
        CallerAllowlist list = new CallerAllowlist("10.1.0.0/16, 127.0.0.1/32, 2001:db8::/32");
        assertTrue(list.allows("10.1.200.3"));
        assertFalse(list.allows("10.2.0.1"));
        assertTrue(list.allows("127.0.0.1"));
        assertFalse(list.allows("127.0.0.2"));
        assertTrue(list.allows("2001:db8::1"));
        assertFalse(list.allows("2001:db9::1"));
        assertFalse(list.allows("not-an-ip"));
        assertFalse(list.allows(null));
        assertTrue(new CallerAllowlist("").allows("8.8.8.8"), "an empty list allows everyone");
        assertThrows(IllegalStateException.class, () -> new CallerAllowlist("example.com/24"));
        assertThrows(IllegalStateException.class, () -> new CallerAllowlist("10.0.0.0/33"));
    }

    @Test
    void aForwardedAddressWithItsPortOrInBracketsIsTheAddress() {
        CallerAllowlist list = new CallerAllowlist("10.1.0.0/16, 2001:db8::/32");
        assertTrue(list.allows("10.1.200.3:41234"), "IPv4 with the caller's port, as some load balancers write it");
        assertTrue(list.allows("[2001:db8::1]"));
        assertTrue(list.allows("[2001:db8::1]:443"));
        assertFalse(list.allows("10.2.0.1:41234"));
        assertFalse(list.allows("[2001:db9::1]:443"));
    }

    @Test
    void onlyAddressLiteralsAreTakenNeverAHostName() {
        // hex letters only: the JDK would look "cafe" up as a host name on the request thread
        assertThrows(IllegalStateException.class, () -> new CallerAllowlist("cafe/16"));
        assertThrows(IllegalStateException.class, () -> new CallerAllowlist("10.1/16"));
        CallerAllowlist list = new CallerAllowlist("0.0.0.0/0");
        assertFalse(list.allows("cafe"));
        assertFalse(list.allows("10.1"), "not a dotted quad");
        assertFalse(list.allows("256.1.1.1"));
        assertTrue(list.allows("255.1.1.1"));
    }
}

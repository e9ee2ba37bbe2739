package id.ktpbridge.sandbox;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * The embedded sandbox's records, should one be logged, name ids and state only: no partner user
 * id, token, presigned URL signature, callback authorization or OCR data (as {@code LoggedRecordsTest}
 * for the bundle's own).
 */
class LoggedSandboxRecordsTest {

    private static final String USER_ID = "3201234567890001";
    private static final String AUTHORIZATION = "Bearer cb-7Qw2secret";
    private static final String BODY = "{\"ktpData\":{\"nik\":\"3201234567890003\",\"name\":\"BUDI SANTOSO\"}}";

    private static void leavesOut(Object record, List<String> secrets, String... carried) {
        String text = record.toString();
        for (String value : secrets) {
            assertFalse(text.contains(value), text + " names " + value);
        }
        for (String value : carried) {
            assertTrue(text.contains(value), text + " lacks " + value);
        }
    }

    @Test
    void aUserKeyNamesNoUser() {
        UserKey user = new UserKey("PARTNER", USER_ID, "PARTNER_USER_ID");
        leavesOut(user, List.of(USER_ID, "3201234567890"), "PARTNER", "PARTNER_USER_ID");
        leavesOut(new TokenIssuer.Grant(user, 99L), List.of(USER_ID), "PARTNER_USER_ID", "99");
    }

    @Test
    void aMintedTokenIsNotPrinted() {
        TokenIssuer.Minted minted = new TokenIssuer().mintUserToken(new UserKey("PARTNER", USER_ID, "PARTNER_USER_ID"),
                300);
        leavesOut(minted, List.of(minted.token(), minted.token().substring(0, 20)), "300");
    }

    @Test
    void aStorageRequestLeavesOutItsSignatureAndHeaders() {
        URI presigned = URI.create(new PresignedUrls().presign("http://127.0.0.1:1", "PUT", "KTP_SCAN/sub-1_KTP_FRONT",
                900));
        String signature = presigned.getRawQuery().substring(presigned.getRawQuery().indexOf("X-Amz-Signature=") + 16);
        StorageRequest request = new StorageRequest("PUT", presigned.getRawPath() + "?" + presigned.getRawQuery(),
                Map.of("authorization", List.of(AUTHORIZATION), "x-amz-meta-user", List.of(USER_ID)), "image/png",
                1234, 200);
        leavesOut(request, List.of(signature, "X-Amz", AUTHORIZATION, USER_ID),
                "PUT", "/storage/KTP_SCAN/sub-1_KTP_FRONT", "image/png", "1234", "200");
    }

    @Test
    void aCallbackDeliveryLeavesOutItsAuthorizationAndBody() {
        CallbackSender.Delivery delivery = new CallbackSender.Delivery(
                "https://bridge.example/coe/submissions-callback?key=cb-Url9k", AUTHORIZATION, BODY, "sub-2", 1, 3, 0);
        leavesOut(delivery, List.of("cb-Url9k", AUTHORIZATION, "cb-7Qw2", "3201234567890", "BUDI", "ktpData"),
                "sub-2");
    }
}

package id.ktpbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

import org.junit.jupiter.api.Test;

/** What a refused start prints to stderr (a pod's log): the reasons, without the secrets they quote. */
class KtpScanBridgeTest {

    @Test
    void aDatabaseUrlTheDriverCannotParseIsShownWithoutItsPassword() {
        // pgjdbc's own message quotes the whole URL
        SQLException refused = assertRefused("jdbc:postgresql://pg:5432?user=ktp&password=S3cr3t-pw");
        assertTrue(refused.getMessage().contains("S3cr3t-pw"), "the driver quotes it: " + refused.getMessage());

        String shown = KtpScanBridge.reasons(new IllegalStateException("ledger not opened", refused));

        assertFalse(shown.contains("S3cr3t-pw"), shown);
        assertTrue(shown.contains("password=***"), shown);
        assertTrue(shown.contains("ledger not opened"), shown);
    }

    @Test
    void userInfoSignaturesAndAValueThePlaceholderParserQuotesAreNotShown() {
        String shown = KtpScanBridge.reasons(new IllegalArgumentException("Missing }} from the text: pa{{ss-w0rd",
                new RuntimeException("GET https://ops:hunter2@store.test/x?X-Amz-Signature=abc123&part=1 failed")));

        assertFalse(shown.contains("pa{{ss-w0rd"), shown);
        assertFalse(shown.contains("hunter2"), shown);
        assertFalse(shown.contains("abc123"), shown);
        assertTrue(shown.contains("Missing }} from the text: (not shown)"), shown);
        assertTrue(shown.contains("part=1"), "other parameters stay, they help: " + shown);
    }

    @Test
    void secretsUnderLongerNamesAndPasswordsHoldingAtOrSlashAreNotShown() {
        String shown = KtpScanBridge.reasons(new IllegalStateException(
                "Unable to parse URL jdbc:postgresql://pg:5432?user=ktp&sslpassword=S3cr3t&client_secret=c5&access_token=t0k"));
        assertFalse(shown.contains("S3cr3t") || shown.contains("c5") || shown.contains("t0k"), shown);
        assertTrue(shown.contains("user=ktp"), shown);

        for (String url : new String[] {"jdbc:postgresql://ktp:p@ss@pg:5432/db", "jdbc:postgresql://ktp:ab/cd@pg/db"}) {
            String masked = KtpScanBridge.reasons(new IllegalStateException("Unable to parse URL " + url));
            assertFalse(masked.contains("ss@pg") || masked.contains("ab/cd") || masked.contains("p@ss"), masked);
            assertTrue(masked.contains("@pg"), "the host stays: " + masked);
        }

        String placeholder = KtpScanBridge.reasons(new IllegalArgumentException(
                "Property with key [q] not found in properties from text: p{{q}}r"));
        assertFalse(placeholder.contains("p{{q}}r"), placeholder);
    }

    @Test
    void messagesWithoutSecretsAreShownAsTheyAre() {
        assertEquals("Setting 'ktp.poll.interval' must be a number <- bad",
                KtpScanBridge.reasons(new IllegalStateException("Setting 'ktp.poll.interval' must be a number",
                        new IllegalArgumentException("bad"))));
    }

    private static SQLException assertRefused(String url) {
        try {
            DriverManager.getConnection(url, new Properties()).close();
        } catch (SQLException e) {
            return e;
        }
        throw new AssertionError("the driver took " + url);
    }
}

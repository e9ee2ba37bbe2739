package id.ktpbridge.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import id.ktpbridge.gtf.GtfApiException;
import org.junit.jupiter.api.Test;

/** What a failure's message may carry into a FAILED result, an error report and the log. */
class FailureReportTest {

    @Test
    void anotherLibrarysMessageIsCutAtItsFirstQuotedValue() {
        // the JDK's HTTP client quotes a header value it refuses: here a pass-key with a stray character
        assertEquals("IllegalArgumentException: invalid header value: …", FailureReport.safeMessage(
                new IllegalArgumentException("invalid header value: \"pk-live-42\u200b\"")));
        assertEquals("IllegalStateException: Value too long for column …", FailureReport.safeMessage(
                new IllegalStateException("Value too long for column 'RESULT_JSON': '{\"nik\":\"3174...\"}'")));
        assertEquals("NullPointerException", FailureReport.safeMessage(new NullPointerException()));
    }

    @Test
    void theBundlesOwnMessagesAreKept() {
        GtfApiException e = new GtfApiException("confirm", 422, "1545", "UPLOAD_NOT_FOUND");
        assertEquals(e.getMessage(), FailureReport.safeMessage(e));
        assertEquals("unknown error", FailureReport.safeMessage(null));
    }
}

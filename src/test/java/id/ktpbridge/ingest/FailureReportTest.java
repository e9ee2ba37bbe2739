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

    @Test
    void unquotedPathsBracketedValuesAndLongDigitRunsAreLeftOutToo() {
        // Camel's conversion error for an SFTP input whose local copy vanished names the file twice
        assertEquals("IllegalStateException: Error during type conversion from type: RemoteFile to the required"
                + " type: byte[] with value RemoteFile …", FailureReport.safeMessage(new IllegalStateException(
                "Error during type conversion from type: RemoteFile to the required type: byte[] with value"
                        + " RemoteFile[inbox/3171012345678901.png] due to java.io.FileNotFoundException:"
                        + " /data/sftp-work/inbox/3171012345678901.png")));
        assertEquals("IllegalStateException: no user for # …", FailureReport.safeMessage(
                new IllegalStateException("no user for 3171012345678901 /x")));
        // what an operator acts on stays: a refused address, a timeout, a byte array type
        assertEquals("IllegalStateException: Connect to http://recv:8080 [recv/10.0.0.5] failed: Connection refused",
                FailureReport.safeMessage(new IllegalStateException(
                        "Connect to http://recv:8080 [recv/10.0.0.5] failed: Connection refused")));
        assertEquals("IllegalStateException: Connection is not available, request timed out after 120000ms",
                FailureReport.safeMessage(new IllegalStateException(
                        "Connection is not available, request timed out after 120000ms")));
    }

    @Test
    void oneKycsErrorTextsLoseTheirDigitRuns() {
        GtfApiException e = new GtfApiException("presign", 400, "1539", "USER 3171012345678901 NOT FOUND",
                java.util.List.of("ALSO 3171012345678901"));
        assertEquals("presign answered HTTP 400 (code 1539, USER # NOT FOUND; also ALSO #)", e.getMessage());
        assertEquals("USER 3171012345678901 NOT FOUND", e.errorCause(), "the cause itself is kept for decisions");
    }
}

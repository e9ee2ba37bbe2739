package id.ktpbridge.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.SubmissionState;
import org.junit.jupiter.api.Test;

/** The batch summary goes where the log goes: OneKYC's words in it are made fit for a log line. */
class BatchSummaryTest {

    @Test
    void oneKycsResultAndReasonCannotForgeLinesOrShowANik() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BatchSummary summary = new BatchSummary(new PrintStream(bytes, true, StandardCharsets.UTF_8), false);

        summary.add(row("REJECTED\nfake-line      FILE    COMPLETED", "NIK_3201010101010001_MISMATCH"));

        String printed = bytes.toString(StandardCharsets.UTF_8);
        assertFalse(printed.contains("3201010101010001"), printed);
        assertTrue(printed.contains("NIK_#_MISMATCH"), printed);
        assertEquals(4, printed.lines().count(), "a blank line, the title, the header, one row: " + printed);
    }

    private static LedgerRecord row(String result, String reasonCode) {
        return new LedgerRecord("l1", "FILE", "/in/u1.png", "u1.png", "sha", 1L, "image/png", "P", "u1",
                "PARTNER_USER_ID", "ps", "sdk", "s1", SubmissionState.DELIVERED, reasonCode, null, null, null, "poll",
                0, null, null, 1L, 2L, "COMPLETED", result, 3L, 1L);
    }
}

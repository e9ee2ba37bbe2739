package id.ktpbridge.submit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
import java.util.List;

import id.ktpbridge.ingest.Settlement;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerException;
import id.ktpbridge.ledger.SubmissionState;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the submit route's failure recorder does with an input whose step failed before its work
 * item existed: a row resumed uploaded (its confirm may be in effect at OneKYC) stays in its source
 * when the ledger failed; one before its upload ends FAILED with a result.
 */
class FailureRecorderTest {

    private final LedgerRows rows = LedgerRows.inMemory("failure-recorder");
    private final Ledger ledger = rows.ledger();
    private final NotedResults publisher = new NotedResults(ledger, (r, status, reason, message) -> r.id() + " "
            + status);
    private final List<String> published = publisher.published;
    private final FailureRecorder recorder = new FailureRecorder(ledger, publisher);

    @AfterEach
    void tearDown() {
        rows.close();
    }

    private static Exchange failedAt(String ledgerId, Exception failure) {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.setProperty(WorkItem.LEDGER_ID, ledgerId);
        exchange.setProperty(Exchange.EXCEPTION_CAUGHT, failure);
        return exchange;
    }

    private static LedgerException refused() {
        return new LedgerException(new SQLException("permission denied for table ktp_submission", "42501"));
    }

    @Test
    void aRowResumedUploadedWhoseLedgerFailedBeforeItsWorkItemStaysInItsSource() {
        String uploaded = rows.insert("sftp", "sftp://h:22/inbox/u1.png", SubmissionState.UPLOADED, 1L);
        Exchange exchange = failedAt(uploaded, refused());
        recorder.process(exchange);
        assertEquals(SubmissionState.UPLOADED, rows.state(uploaded), "not ended: OneKYC may have its confirm");
        assertEquals(List.of(), published);
        assertTrue(Settlement.staysInSource(exchange));
        assertEquals(java.time.Duration.ofSeconds(5), Settlement.pause(exchange));
    }

    @Test
    void aRejectionWhoseResultWasNotStoredStaysInItsSourceWhateverTheLedgerError() {
        String rejected = rows.insert("file", "file:/inbox/u3.png", SubmissionState.RECEIVED, 1L);
        ledger.markEnded(rejected, SubmissionState.REJECTED, "CORRUPT_IMAGE", "truncated");
        // the rejection's result write refused: it is stored when the input is taken again
        Exchange exchange = failedAt(rejected, refused());
        recorder.process(exchange);
        assertEquals(SubmissionState.REJECTED, rows.state(rejected));
        assertEquals(List.of(), published);
        assertTrue(Settlement.staysInSource(exchange), "quarantined without its result");
        assertEquals(java.time.Duration.ofSeconds(5), Settlement.pause(exchange));
    }

    @Test
    void aFailureWhoseResultIsRefusedStaysInItsSource() {
        String received = rows.insert("file", "file:/inbox/u4.png", SubmissionState.RECEIVED, 1L);
        FailureRecorder refusing = new FailureRecorder(ledger, new NotedResults(ledger, (r, status, reason, message) -> {
            throw refused();
        }));
        Exchange exchange = failedAt(received, new IllegalStateException("presign refused"));
        refusing.process(exchange);
        assertEquals(SubmissionState.FAILED, rows.state(received), "its outcome is recorded");
        assertTrue(Settlement.staysInSource(exchange), "quarantined without its result");
        assertEquals(java.time.Duration.ofSeconds(5), Settlement.pause(exchange));

        // taken again, the row ended without its result: still kept should that write fail too
        Exchange again = failedAt(received, refused());
        refusing.process(again);
        assertTrue(Settlement.staysInSource(again));
    }

    @Test
    void aRowBeforeItsUploadEndsFailedWithOneResult() {
        String received = rows.insert("sftp", "sftp://h:22/inbox/u2.png", SubmissionState.RECEIVED, 1L);
        Exchange exchange = failedAt(received, refused());
        recorder.process(exchange);
        assertEquals(SubmissionState.FAILED, rows.state(received));
        assertEquals(List.of(received + " FAILED"), published);
        assertFalse(Settlement.staysInSource(exchange));
    }
}

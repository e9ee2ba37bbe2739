package id.ktpbridge.submit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.ingest.Settlement;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerException;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.SchemaMigrator;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.result.ResultPublisher;
import id.ktpbridge.result.ResultStatus;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the submit route's failure recorder does with an input whose step failed before its work
 * item existed: a row resumed uploaded (its confirm may be in effect at OneKYC) stays in its source
 * when the ledger failed; one before its upload ends FAILED with a result.
 */
class FailureRecorderTest {

    private final JdbcConnectionPool ds = JdbcConnectionPool.create("jdbc:h2:mem:failure-recorder-" + UUID.randomUUID()
            + ";DB_CLOSE_DELAY=-1", "sa", "");
    private final Ledger ledger = new Ledger(migrated(ds));
    private final LedgerRows rows = new LedgerRows(ledger, ds);
    private final List<String> published = new CopyOnWriteArrayList<>();
    private final ResultPublisher publisher = new ResultPublisher(ledger, new ObjectMapper(), null) {
        @Override
        public void publishLocal(LedgerRecord r, ResultStatus status, String reason, String message) {
            published.add(r.id() + " " + status);
        }
    };
    private final FailureRecorder recorder = new FailureRecorder(ledger, publisher);

    private static javax.sql.DataSource migrated(javax.sql.DataSource ds) {
        SchemaMigrator.migrate(ds);
        return ds;
    }

    @AfterEach
    void tearDown() {
        ds.dispose();
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
    void aRowBeforeItsUploadEndsFailedWithOneResult() {
        String received = rows.insert("sftp", "sftp://h:22/inbox/u2.png", SubmissionState.RECEIVED, 1L);
        Exchange exchange = failedAt(received, refused());
        recorder.process(exchange);
        assertEquals(SubmissionState.FAILED, rows.state(received));
        assertEquals(List.of(received + " FAILED"), published);
        assertFalse(Settlement.staysInSource(exchange));
    }
}

package id.ktpbridge.submit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.sql.SQLTransientConnectionException;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.ingest.InputHeaders;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerException;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.NewInput;
import id.ktpbridge.ledger.SchemaMigrator;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.result.ResultPublisher;
import id.ktpbridge.result.ResultStatus;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An uploaded input met again and rejected before its bytes are read is handed to the poller on its
 * own row; the intake run again after that write's answer was lost (the write made) leaves it so,
 * and does not reject the confirmed row as a new input.
 */
class UnreadInFlightTest {

    private static final String REF = "s3://inbox/u9201.png";

    @TempDir
    Path dir;

    private JdbcConnectionPool ds;
    private Ledger ledger;
    private final List<String> published = new CopyOnWriteArrayList<>();
    private final List<String> steps = new CopyOnWriteArrayList<>();
    private volatile boolean loseConfirmReply;
    private DefaultCamelContext camel;

    /** Stands in for the OneKYC steps. */
    public class Steps {
        public void presign(Exchange e) {
            steps.add("presign");
        }

        public void upload(Exchange e) {
            steps.add("upload");
        }

        public void confirm(Exchange e) {
            steps.add("confirm");
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        ds = JdbcConnectionPool.create("jdbc:h2:mem:unread-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "");
        SchemaMigrator.migrate(ds);
        ledger = new Ledger(ds) {
            @Override
            public void markConfirmed(String id, long submittedAt, long firstPollAt, long deadlineAt) {
                super.markConfirmed(id, submittedAt, firstPollAt, deadlineAt);
                if (loseConfirmReply) {
                    loseConfirmReply = false;
                    throw new LedgerException(new SQLTransientConnectionException("connection lost"));
                }
            }
        };
        ResultPublisher publisher = new ResultPublisher(ledger, new ObjectMapper(), null) {
            @Override
            public void publishLocal(LedgerRecord r, ResultStatus status, String reason, String message) {
                published.add(status + " " + reason);
            }
        };
        camel = SubmitRouteHarness.start(ledger, publisher, new Steps(), dir.resolve("spool"),
                new InputsInHand(ledger, "here", 60_000, false));
    }

    @AfterEach
    void tearDown() {
        camel.stop();
        ds.dispose();
    }

    @Test
    void anUploadedInputWhoseHandOverToThePollerIsRunAgainIsNotRejected() {
        String row = UUID.randomUUID().toString();
        ledger.insert(new NewInput(row, "s3", REF, "u9201.png", "ab".repeat(32), 1234L, "image/png", "partner", "u9201",
                "PARTNER_USER_ID", UUID.randomUUID().toString(), UUID.randomUUID().toString(), null),
                SubmissionState.RECEIVED);
        ledger.markUploaded(row, "sub-1", "psid-1", "sdk-1", "https://storage.test/1", System.currentTimeMillis()
                + 600_000);
        loseConfirmReply = true;

        Exchange done = camel.createProducerTemplate().request("direct:submit-ktp", e -> {
            e.getMessage().setHeader(InputHeaders.SOURCE_TYPE, "s3");
            e.getMessage().setHeader(InputHeaders.SOURCE_REF, REF);
            e.getMessage().setHeader(InputHeaders.SOURCE_FILE, "u9201.png");
            // its reads broke off again and again: rejected before its bytes are read
            e.getMessage().setHeader(InputHeaders.UNREADABLE, "reading it broke off 5 times in a row");
            e.getMessage().setBody(new byte[0]);
        });

        assertNull(done.getException(), "submitted: its source lets go of it");
        assertEquals(List.of(), published, "no result of its own: the poller collects its outcome");
        assertEquals(List.of(), steps);
        List<LedgerRecord> rows = ledger.createdSince(0);
        assertEquals(1, rows.size(), "no second row");
        assertEquals(SubmissionState.CONFIRMED, rows.get(0).state());
        assertEquals(row, done.getProperty(WorkItem.LEDGER_ID, String.class));
    }
}

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

    @Test
    void aSubmittedOrEndedInputWhoseMoveFailedAndWhoseReadsThenFailKeepsItsOutcome() {
        // submitted, its outcome stored; its source's move failed for a passing reason
        String submitted = row(REF, "ab");
        ledger.markUploaded(submitted, "sub-2", "psid-2", "sdk-2", "https://storage.test/2", System.currentTimeMillis()
                + 600_000);
        ledger.markConfirmed(submitted, System.currentTimeMillis(), 0, Long.MAX_VALUE);
        ledger.recordResult(submitted, "COMPLETED", "OK", null, System.currentTimeMillis(), "{}", c -> { });
        // rejected for its bytes, its result stored; its quarantine failed so
        String other = "s3://inbox/u9202.png";
        String rejected = row(other, "cd");
        ledger.markEnded(rejected, SubmissionState.REJECTED, "UNSUPPORTED_FORMAT", "not an image");
        ledger.recordResult(rejected, "REJECTED", null, "UNSUPPORTED_FORMAT", System.currentTimeMillis(), "{}",
                c -> { });

        // met again, its reads failing: its source only moves it, to done
        Exchange done = unread(REF, 1234L);
        assertNull(done.getException(), "submitted: its source moves it");
        assertEquals(submitted, done.getProperty(WorkItem.LEDGER_ID, String.class));
        // or quarantines it again
        Exchange ended = unread(other, 1234L);
        assertEquals("InputAlreadyEndedException", ended.getException().getClass().getSimpleName());
        assertEquals(rejected, ended.getProperty(WorkItem.LEDGER_ID, String.class));
        assertEquals(List.of(), published, "no second result");
        assertEquals(2, ledger.createdSince(0).size(), "no row of its own");

        // another size is another version of the object: an input of its own
        Exchange replaced = unread(REF, 999L);
        assertEquals(List.of("REJECTED UNREADABLE_SOURCE"), published);
        assertEquals(3, ledger.createdSince(0).size());
        assertEquals("InputRejectedException", replaced.getException().getClass().getSimpleName());
    }

    /** A row at {@code ref} of 1,234 bytes, read (a hash), just received. */
    private String row(String ref, String hash) {
        String id = UUID.randomUUID().toString();
        ledger.insert(new NewInput(id, "s3", ref, ref.substring(ref.lastIndexOf('/') + 1), hash.repeat(32), 1234L,
                "image/png", "partner", "u9202", "PARTNER_USER_ID", UUID.randomUUID().toString(),
                UUID.randomUUID().toString(), null), SubmissionState.RECEIVED);
        return id;
    }

    /** The input at {@code ref}, listed at {@code size}, whose reads failed until it was given up. */
    private Exchange unread(String ref, long size) {
        return camel.createProducerTemplate().request("direct:submit-ktp", e -> {
            e.getMessage().setHeader(InputHeaders.SOURCE_TYPE, "s3");
            e.getMessage().setHeader(InputHeaders.SOURCE_REF, ref);
            e.getMessage().setHeader(InputHeaders.SOURCE_FILE, ref.substring(ref.lastIndexOf('/') + 1));
            e.getMessage().setHeader(InputHeaders.UNREADABLE, "fetching it failed 5 times in a row");
            e.getMessage().setHeader(Exchange.FILE_LENGTH, size);
            e.getMessage().setBody(new byte[0]);
        });
    }
}

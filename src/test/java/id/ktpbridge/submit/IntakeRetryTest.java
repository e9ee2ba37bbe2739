package id.ktpbridge.submit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLTransientConnectionException;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerException;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.NewInput;
import id.ktpbridge.ledger.SchemaMigrator;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.result.ResultPublisher;
import id.ktpbridge.result.ResultStatus;
import id.ktpbridge.testkit.SampleImages;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code direct:submit-ktp} when the ledger's first write fails for a moment: the intake is run
 * again, and that must give one ledger row and one outcome per input, whatever the input.
 */
class IntakeRetryTest {

    @TempDir
    Path dir;

    private JdbcConnectionPool ds;
    private final AtomicInteger inserts = new AtomicInteger();
    private final AtomicInteger markEndedCalls = new AtomicInteger();
    private volatile boolean failFirstInsert = true;
    private volatile boolean failFirstMarkEnded;
    private final List<String> published = new CopyOnWriteArrayList<>();
    private final List<String> submitted = new CopyOnWriteArrayList<>();
    private Ledger ledger;
    private DefaultCamelContext camel;

    /** Stands in for the OneKYC steps: records that they ran. */
    public class Steps {
        public void presign(Exchange e) {
            submitted.add("presign");
        }

        public void upload(Exchange e) {
            submitted.add("upload");
        }

        public void confirm(Exchange e) {
            submitted.add("confirm");
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        ds = JdbcConnectionPool.create("jdbc:h2:mem:intake-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "");
        SchemaMigrator.migrate(ds);
        ledger = new Ledger(ds) {
            @Override
            public void insert(NewInput in, SubmissionState state) {
                if (inserts.incrementAndGet() == 1 && failFirstInsert) {
                    throw new LedgerException(new SQLTransientConnectionException("connection lost"));
                }
                super.insert(in, state);
            }

            @Override
            public boolean markEnded(String id, SubmissionState finalState, String reasonCode, String message) {
                if (failFirstMarkEnded && markEndedCalls.incrementAndGet() == 1) {
                    throw new LedgerException(new SQLTransientConnectionException("connection lost"));
                }
                return super.markEnded(id, finalState, reasonCode, message);
            }
        };
        ResultPublisher publisher = new ResultPublisher(ledger, new ObjectMapper(), null) {
            @Override
            public void publishLocal(LedgerRecord r, ResultStatus status, String reason, String message) {
                published.add(status + " " + reason);
            }
        };
        camel = SubmitRouteHarness.start(ledger, publisher, new Steps(), dir.resolve("spool"));
    }

    @AfterEach
    void tearDown() {
        camel.stop();
        ds.dispose();
    }

    @Test
    void aStreamedInputIsReadOnceAndSubmittedOnce() {
        byte[] png = SampleImages.card("u801", "png");
        // like an S3 object's stream: it cannot be read again once closed
        InputStream once = new ByteArrayInputStream(png) {
            private boolean closed;

            @Override
            public synchronized int read(byte[] b, int off, int len) {
                if (closed) {
                    throw new IllegalStateException("read after close");
                }
                return super.read(b, off, len);
            }

            @Override
            public void close() throws IOException {
                closed = true;
            }
        };
        Exchange done = send("s3://bucket/inbox/u801.png", "u801.png", once);
        assertEquals(null, done.getException());
        assertEquals(2, inserts.get(), "the first write failed and was tried again");
        List<LedgerRecord> rows = ledger.createdSince(0);
        assertEquals(1, rows.size());
        assertEquals(SubmissionState.RECEIVED, rows.get(0).state());
        assertEquals(List.of("presign", "upload", "confirm"), submitted);
        assertEquals(List.of(), published);
    }

    @Test
    void aRejectedInputGetsOneRecordAndOneResult() throws Exception {
        Path file = Files.write(dir.resolve("bad name.png"), SampleImages.card("bad", "png"));
        Exchange done = send("file:" + file, "bad name.png", file.toFile());
        assertEquals("InputRejectedException", done.getException().getClass().getSimpleName());
        List<LedgerRecord> rows = ledger.createdSince(0);
        assertEquals(1, rows.size(), "one ledger row");
        assertEquals(SubmissionState.REJECTED, rows.get(0).state());
        assertEquals(List.of("REJECTED INVALID_PARTNER_USER_ID"), published);
        assertEquals(List.of(), submitted);
    }

    @Test
    void aRejectionWhoseReasonWasNotWrittenYetIsRecordedOnceWhenRunAgain() throws Exception {
        failFirstInsert = false;
        failFirstMarkEnded = true;
        Path file = Files.write(dir.resolve("bad name.png"), SampleImages.card("bad", "png"));
        Exchange done = send("file:" + file, "bad name.png", file.toFile());
        assertEquals("InputRejectedException", done.getException().getClass().getSimpleName());
        List<LedgerRecord> rows = ledger.createdSince(0);
        assertEquals(1, rows.size());
        assertEquals("INVALID_PARTNER_USER_ID", rows.get(0).reasonCode());
        assertEquals(List.of("REJECTED INVALID_PARTNER_USER_ID"), published, "one result");
    }

    @Test
    void anInputThatEndedWithoutItsResultGetsItWhenTakenAgain() throws Exception {
        // a stop (or a ledger outage past the retries) between the row's end and its result
        failFirstInsert = false;
        byte[] png = SampleImages.card("u802", "png");
        Path file = Files.write(dir.resolve("u802.png"), png);
        String id = UUID.randomUUID().toString();
        ledger.insert(new NewInput(id, "file", "file:" + file, "u802.png",
                java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(png)),
                (long) png.length, "image/png", "partner", "u802", "PARTNER_USER_ID", UUID.randomUUID().toString(),
                UUID.randomUUID().toString(), null), SubmissionState.RECEIVED);
        ledger.markEnded(id, SubmissionState.FAILED, "GTF_PRESIGN_FAILED", "refused");

        Exchange done = send("file:" + file, "u802.png", file.toFile());
        assertEquals("InputAlreadyEndedException", done.getException().getClass().getSimpleName());
        assertEquals(List.of("FAILED GTF_PRESIGN_FAILED"), published, "its one result, and no new row");
        assertEquals(1, ledger.createdSince(0).size());
        assertEquals(List.of(), submitted);
    }

    private Exchange send(String ref, String name, Object body) {
        return camel.createProducerTemplate().request("direct:submit-ktp", e -> {
            e.getMessage().setHeader("KtpSourceType", ref.startsWith("s3") ? "s3" : "file");
            e.getMessage().setHeader("KtpSourceRef", ref);
            e.getMessage().setHeader("KtpSourceFile", name);
            e.getMessage().setBody(body);
        });
    }
}

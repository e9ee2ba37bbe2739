package id.ktpbridge.submit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLTransientConnectionException;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
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
 * Two inputs with the same bytes taken at the same moment (two workers, or two instances of a
 * cluster): both pass the intake checks before either has written its row. Only one of them may
 * be submitted; the other is rejected as a duplicate.
 */
class ContentClaimTest {

    @TempDir
    Path dir;

    private JdbcConnectionPool ds;
    private final List<String> published = new CopyOnWriteArrayList<>();
    private final List<String> presigned = new CopyOnWriteArrayList<>();
    private final CountDownLatch bothLooked = new CountDownLatch(2);
    private volatile boolean holdInserts;
    /** Inserts that went ahead without the other intake having looked first: the race did not happen. */
    private final AtomicInteger insertsAlone = new AtomicInteger();
    private volatile RuntimeException claimError;
    private volatile Runnable beforeFirstPublish;
    private Ledger ledger;
    private DefaultCamelContext camel;

    /** Stands in for the OneKYC steps: records which ledger rows were presigned. */
    public class Steps {
        public void presign(Exchange e) {
            presigned.add(e.getProperty(WorkItem.LEDGER_ID, String.class));
        }

        public void upload(Exchange e) {
        }

        public void confirm(Exchange e) {
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        ds = JdbcConnectionPool.create("jdbc:h2:mem:claim-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "");
        SchemaMigrator.migrate(ds);
        ledger = new Ledger(ds) {
            @Override
            public void insert(NewInput in, SubmissionState state) {
                if (holdInserts) {
                    // both intakes have looked for an earlier row of this content before either writes its own
                    bothLooked.countDown();
                    try {
                        if (!bothLooked.await(20, TimeUnit.SECONDS)) {
                            insertsAlone.incrementAndGet();
                        }
                    } catch (InterruptedException e) {
                        insertsAlone.incrementAndGet();
                        Thread.currentThread().interrupt();
                    }
                }
                super.insert(in, state);
            }

            @Override
            public Optional<LedgerRecord> claimContent(String sha256, String id) {
                if (claimError != null) {
                    throw claimError;
                }
                return super.claimContent(sha256, id);
            }
        };
        ResultPublisher publisher = new ResultPublisher(ledger, new ObjectMapper(), null) {
            @Override
            public void publishLocal(LedgerRecord r, ResultStatus status, String reason, String message) {
                Runnable once = beforeFirstPublish;
                beforeFirstPublish = null;
                if (once != null) {
                    once.run();
                }
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
    void twoCopiesTakenAtOnceGiveOneSubmissionAndOneDuplicate() throws Exception {
        holdInserts = true;
        byte[] png = SampleImages.card("u901", "png");
        Path first = Files.write(dir.resolve("u901.png"), png);
        Path second = Files.write(dir.resolve("u902.png"), png);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            CyclicBarrier start = new CyclicBarrier(2);
            Future<Exchange> a = pool.submit(() -> {
                start.await();
                return send(first);
            });
            Future<Exchange> b = pool.submit(() -> {
                start.await();
                return send(second);
            });
            Exchange doneA = a.get(30, TimeUnit.SECONDS);
            Exchange doneB = b.get(30, TimeUnit.SECONDS);
            assertEquals(1, (doneA.getException() == null ? 1 : 0) + (doneB.getException() == null ? 1 : 0),
                    "exactly one of the two goes on to be submitted");
        } finally {
            pool.shutdownNow();
        }
        // the outcome below only proves the claim if both intakes really overlapped
        assertTrue(bothLooked.await(0, TimeUnit.SECONDS), "both intakes reached the insert");
        assertEquals(0, insertsAlone.get(), "an intake wrote its row before the other had looked");
        assertEquals(1, presigned.size(), "one submission for one content");
        assertEquals(List.of("REJECTED DUPLICATE_CONTENT"), published);
        List<LedgerRecord> rows = ledger.createdSince(0);
        assertEquals(2, rows.size());
        LedgerRecord kept = rows.stream().filter(r -> r.id().equals(presigned.get(0))).findFirst().orElseThrow();
        LedgerRecord duplicate = rows.stream().filter(r -> !r.id().equals(presigned.get(0))).findFirst().orElseThrow();
        assertEquals(SubmissionState.RECEIVED, kept.state());
        assertEquals(SubmissionState.REJECTED, duplicate.state());
        assertTrue(duplicate.errorMessage().contains(kept.id()), "the duplicate names the input it repeats");
    }

    @Test
    void aClaimHeldByARejectedOrVanishedRowIsTakenOver() {
        String sha = "ab".repeat(32);
        String failed = UUID.randomUUID().toString();
        insertRow(failed, sha);
        assertNull(ledger.claimContent(sha, failed).orElse(null));
        ledger.markEnded(failed, SubmissionState.FAILED, "GTF_PRESIGN_FAILED", "refused");

        String next = UUID.randomUUID().toString();
        insertRow(next, sha);
        assertNull(ledger.claimContent(sha, next).orElse(null), "a failed holder gives its content up");
        String third = UUID.randomUUID().toString();
        insertRow(third, sha);
        assertEquals(next, ledger.claimContent(sha, third).orElseThrow().id(), "a live holder keeps it");
        assertNull(ledger.claimContent(sha, next).orElse(null), "claiming again is harmless");
    }

    @Test
    void aClaimThatFailsForGoodEndsTheInputFailedWithAResult() throws Exception {
        claimError = new LedgerException("the claim table refused the row");
        Path file = Files.write(dir.resolve("u903.png"), SampleImages.card("u903", "png"));
        Exchange done = send(file);
        assertNotNull(done.getException());
        assertEquals(List.of("FAILED INTERNAL_ERROR"), published, "one result for the input");
        List<LedgerRecord> rows = ledger.createdSince(0);
        assertEquals(1, rows.size());
        assertEquals(SubmissionState.FAILED, rows.get(0).state());
        assertEquals(List.of(), presigned);
    }

    @Test
    void aRejectionRunAgainAfterAPassingLedgerErrorStaysARejection() throws Exception {
        byte[] png = SampleImages.card("u904", "png");
        Exchange original = send(Files.write(dir.resolve("u904.png"), png));
        assertNull(original.getException());
        String holder = presigned.get(0);
        // the duplicate's result fails to be stored for a moment; meanwhile its holder fails, which
        // would let a fresh look at the content take the claim over
        beforeFirstPublish = () -> {
            ledger.markEnded(holder, SubmissionState.FAILED, "GTF_CONFIRM_FAILED", "refused");
            throw new LedgerException(new SQLTransientConnectionException("connection lost"));
        };
        Exchange duplicate = send(Files.write(dir.resolve("u905.png"), png));

        assertEquals("InputRejectedException", duplicate.getException().getClass().getSimpleName());
        assertEquals(List.of("REJECTED DUPLICATE_CONTENT"), published, "one result, stored on the second run");
        assertEquals(List.of(holder), presigned, "the duplicate is never submitted");
        LedgerRecord row = ledger.createdSince(0).stream().filter(r -> !r.id().equals(holder)).findFirst().orElseThrow();
        assertEquals(SubmissionState.REJECTED, row.state());
        assertEquals("DUPLICATE_CONTENT", row.reasonCode());
    }

    private void insertRow(String id, String sha) {
        ledger.insert(new NewInput(id, "file", "file:/in/" + id, id + ".png", sha, 1L, "image/png", "partner", "u1",
                "PARTNER_USER_ID", UUID.randomUUID().toString(), UUID.randomUUID().toString(), null),
                SubmissionState.RECEIVED);
    }

    private Exchange send(Path file) {
        return camel.createProducerTemplate().request("direct:submit-ktp", e -> {
            e.getMessage().setHeader("KtpSourceType", "file");
            e.getMessage().setHeader("KtpSourceRef", "file:" + file);
            e.getMessage().setHeader("KtpSourceFile", file.getFileName().toString());
            e.getMessage().setBody(file.toFile());
        });
    }
}

package id.ktpbridge.submit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.ledger.Leases;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.NewInput;
import id.ktpbridge.ledger.SchemaMigrator;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.result.ResultPublisher;
import id.ktpbridge.result.ResultStatus;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances of a cluster over one ledger, each reading a drop folder of its own at the same path
 * (a pod's volume, as the shipped Kubernetes manifests have it). An input pod A took and left waiting
 * for another attempt has its file in A's folder only: pod B, not finding it in its own, must not end
 * it as gone (or replaced), or A would take the file again as a new input and it would have two
 * results. Pod A itself still ends it once its file has left its folder.
 */
class DropFolderOfItsOwnTest {

    @TempDir
    Path dir;

    private JdbcConnectionPool ds;
    private Ledger ledger;
    private final List<String> results = new CopyOnWriteArrayList<>();
    private DefaultCamelContext camel;
    private Path inbox;
    private InputsInHand inHandA;
    private ReplacedInputs podA;
    private ReplacedInputs podB;

    @BeforeEach
    void setUp() throws Exception {
        ds = JdbcConnectionPool.create("jdbc:h2:mem:own-folder-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "");
        SchemaMigrator.migrate(ds);
        ledger = new Ledger(ds);
        ResultPublisher publisher = new ResultPublisher(ledger, new ObjectMapper(), null) {
            @Override
            public void publishLocal(LedgerRecord r, ResultStatus status, String reason, String message) {
                results.add(r.id() + " " + status + " " + reason);
            }
        };
        camel = new DefaultCamelContext();
        // the same path on both pods; pod A's file in it is not in pod B's
        inbox = Files.createDirectories(dir.resolve("inbox"));
        inHandA = new InputsInHand(ledger, "pod-a", 600_000, true);
        podA = sweep(publisher, "pod-a", inHandA);
        podB = sweep(publisher, "pod-b", new InputsInHand(ledger, "pod-b", 600_000, true));
    }

    private ReplacedInputs sweep(ResultPublisher publisher, String instance, InputsInHand inHand) {
        return new ReplacedInputs(ledger, publisher, new Leases(ds, instance), inHand, inbox, Duration.ofMinutes(10),
                Duration.ofSeconds(30), Duration.ofMinutes(30));
    }

    @AfterEach
    void tearDown() {
        camel.stop();
        ds.dispose();
    }

    @Test
    void anotherPodsSweepLeavesAnInputWhoseFileIsOnlyMissingFromItsOwnFolder() throws Exception {
        String row = waitingInputOfPodA("u9301.png", "a1");

        podB.sweep();
        assertEquals(SubmissionState.RECEIVED, ledger.findById(row).orElseThrow().state(), "left open");
        assertEquals(List.of(), results, "no result");
        assertEquals(1, ledger.findUnconfirmedAt(ref("u9301.png")).size(), "its source has not let go of it");

        // pod A took it from its own folder: it can tell that the file has gone (here, as in pod B's)
        podA.sweep();
        assertEquals(SubmissionState.FAILED, ledger.findById(row).orElseThrow().state());
        assertEquals(List.of(row + " FAILED " + Intake.SOURCE_GONE), results);
    }

    @Test
    void anotherPodsFileOfTheSameNameDoesNotEndTheInputAsReplaced() throws Exception {
        String row = waitingInputOfPodA("u9302.png", "a2");

        // pod B takes a file of its own under the same path, with other bytes
        podB.endAt(ref("u9302.png"), "b2");
        assertEquals(SubmissionState.RECEIVED, ledger.findById(row).orElseThrow().state(), "left open");
        assertEquals(List.of(), results);

        podA.endAt(ref("u9302.png"), "b2");
        assertEquals(List.of(row + " FAILED " + Intake.SOURCE_REPLACED), results);
    }

    @Test
    void withADropFolderDeclaredSharedAnyPodEndsAGoneFilesInput() throws Exception {
        String row = waitingInputOfPodA("u9303.png", "a3");
        podB.dropFolderShared(true);

        podB.sweep();
        assertEquals(SubmissionState.FAILED, ledger.findById(row).orElseThrow().state());
        assertEquals(List.of(row + " FAILED " + Intake.SOURCE_GONE), results);
    }

    /**
     * A file drop input pod A took and let go of (left in its folder for another attempt, an outage),
     * untouched for an hour; its file is not in the folder this test's sweeps look in.
     */
    private String waitingInputOfPodA(String name, String sha256) throws Exception {
        String id = UUID.randomUUID().toString();
        ledger.insert(new NewInput(id, "file", ref(name), name, sha256, 100L, "image/png", "partner", "u1",
                "PARTNER_USER_ID", UUID.randomUUID().toString(), UUID.randomUUID().toString(), null),
                SubmissionState.RECEIVED);
        Exchange worker = new DefaultExchange(camel);
        inHandA.take(worker, id);
        worker.getExchangeExtension().handoverCompletions().forEach(s -> s.onComplete(worker));
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE ktp_submission SET updated_at = ? WHERE id = ?")) {
            ps.setLong(1, System.currentTimeMillis() - 3_600_000);
            ps.setString(2, id);
            ps.executeUpdate();
        }
        assertNull(ledger.findById(id).orElseThrow().completedAt());
        return id;
    }

    private String ref(String name) {
        return "file:" + inbox.toAbsolutePath().normalize().resolve(name);
    }
}

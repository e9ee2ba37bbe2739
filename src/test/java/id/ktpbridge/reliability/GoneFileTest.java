package id.ktpbridge.reliability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.submit.InputsInHand;
import id.ktpbridge.submit.ReplacedInputs;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import id.ktpbridge.testkit.WaitingInputs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file drop input waiting for another attempt (an outage) whose file is moved, renamed or
 * deleted out of the drop folder: it ends FAILED {@code SOURCE_GONE} with its result instead of
 * staying open for good (every batch run would wait for it), and the same image under another name
 * is submitted instead of being turned away as a duplicate of it.
 */
class GoneFileTest {

    private static final Map<String, String> OUTAGE = Map.of("gtf.retry.max-attempts", "1",
            "gtf.circuit-breaker.failure-threshold", "1000", "gtf.sandbox.faults.failure-rate.presign", "1.0",
            "gtf.sandbox.faults.failure-statuses", "503");

    @TempDir
    Path dataDir;

    @Test
    void anImageRenamedWhileItWaitedIsSubmittedUnderItsNewName() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, OUTAGE)) {
            byte[] image = SampleImages.card("u9201", "png");
            Results.drop(app.inbox(), "u9201.png", image);
            Path file = app.inbox().resolve("u9201.png");
            await().atMost(Duration.ofSeconds(20)).until(() -> app.sandbox().injectedFailures("presign") >= 1);
            Files.move(file, app.inbox().resolve("u9201-again.png"));
            app.sandbox().settings().setFailureRate("presign", 0.0);

            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);
            Map<String, JsonNode> byName = Results.read(app.results()).stream()
                    .collect(Collectors.toMap(r -> r.path("sourceFile").asText(), r -> r));
            assertEquals("COMPLETED", byName.get("u9201-again.png").path("status").asText(), byName.toString());
            assertEquals("FAILED", byName.get("u9201.png").path("status").asText(), byName.toString());
            assertEquals("SOURCE_GONE", byName.get("u9201.png").path("reasonCode").asText());
            assertEquals(1, app.sandbox().submissionCount(), "one submission");
            assertEquals(Map.of(), app.ledger().openCounts());
        }
    }

    /**
     * The same bytes under a new name while a worker still has the first input in hand (a slow upload,
     * say): the new file waits, given back with a pause each time, not taken, read, hashed and copied
     * again at every scan for as long as the hold lasts.
     */
    @Test
    void anImageRenamedWhileAWorkerHasItWaitsWithAPause() throws Exception {
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, OUTAGE)) {
            Results.drop(app.inbox(), "u9208.png", SampleImages.card("u9208", "png"));
            LedgerRecord row = WaitingInputs.afterARefusedPresign(app);
            WaitingInputs.noWorkerHasIt(app, row, "ingest-file");
            // held here as its worker would hold it
            InputsInHand inHand = app.bean("inputsInHand", InputsInHand.class);
            assertTrue(inHand.takeToEnd(row.id()));
            Files.move(app.inbox().resolve("u9208.png"), app.inbox().resolve("u9208-again.png"));
            app.context().getRouteController().startRoute("ingest-file");

            String deferred = "the same bytes are on their way from a file that left its folder";
            await().atMost(Duration.ofSeconds(20)).until(() -> logs.count(deferred) >= 1);
            // the scans come every 200 ms meanwhile
            await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6))
                    .until(() -> logs.count("no outcome recorded yet (" + deferred) <= 2);
            assertEquals(0, Results.count(app.results()));

            inHand.letGo(row.id());
            app.sandbox().settings().setFailureRate("presign", 0.0);
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);
            Map<String, JsonNode> byName = Results.bySourceFile(app.results());
            assertEquals("COMPLETED", byName.get("u9208-again.png").path("status").asText(), byName.toString());
            assertEquals("SOURCE_GONE", byName.get("u9208.png").path("reasonCode").asText(), byName.toString());
        }
    }

    @Test
    void anImageDeletedWhileItWaitedIsEndedByTheSweep() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, OUTAGE)) {
            Results.drop(app.inbox(), "u9202.png", SampleImages.card("u9202", "png"));
            Path file = app.inbox().resolve("u9202.png");
            await().atMost(Duration.ofSeconds(20)).until(() -> app.sandbox().injectedFailures("presign") >= 1);
            Files.delete(file);
            LedgerRecord row = app.ledger().createdSince(0).get(0);
            // left alone a while (the sweep leaves inputs touched within the last minute, and those a
            // worker has in hand: one may be waiting out the outage's Retry-After)
            ReplacedInputs sweep = app.bean("replacedInputs", ReplacedInputs.class);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> {
                try (var c = app.ledger().dataSource().getConnection(); var ps = c.prepareStatement(
                        "UPDATE ktp_submission SET updated_at = ? WHERE id = ? AND state = ?")) {
                    ps.setLong(1, System.currentTimeMillis() - 3_600_000);
                    ps.setString(2, row.id());
                    ps.setString(3, SubmissionState.RECEIVED.name());
                    ps.executeUpdate();
                }
                sweep.sweep();
                return Results.count(app.results()) == 1;
            });
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("FAILED", result.path("status").asText());
            assertEquals("SOURCE_GONE", result.path("reasonCode").asText());
            assertEquals(Map.of(), app.ledger().openCounts(), "nothing left open for a batch run to wait for");
        }
    }

    @Test
    void theSweepRouteEndsAnImageDeletedWhileItWaitedOnItsOwn() throws Exception {
        // the route's timer, not this test, runs the sweep: soon after start, then every claim-ttl
        Map<String, String> props = new java.util.HashMap<>(OUTAGE);
        props.put("ktp.source.sweep-first-delay", "500ms");
        props.put("ktp.source.claim-ttl", "2s");
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            Results.drop(app.inbox(), "u9208.png", SampleImages.card("u9208", "png"));
            LedgerRecord row = WaitingInputs.afterARefusedPresign(app);
            WaitingInputs.noWorkerHasIt(app, row, "ingest-file");
            Files.delete(app.inbox().resolve("u9208.png"));
            WaitingInputs.leftAloneAnHour(app, row);

            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("FAILED", result.path("status").asText());
            assertEquals("SOURCE_GONE", result.path("reasonCode").asText());
            assertEquals(Map.of(), app.ledger().openCounts());
        }
    }

    @Test
    void aDropFolderThatIsNotThereEndsNothing() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, OUTAGE)) {
            Results.drop(app.inbox(), "u9204.png", SampleImages.card("u9204", "png"));
            await().atMost(Duration.ofSeconds(20)).until(() -> app.sandbox().injectedFailures("presign") >= 1);
            LedgerRecord row = app.ledger().createdSince(0).get(0);
            WaitingInputs.noWorkerHasIt(app, row, "ingest-file");
            // as a share unmounted for a while: the folder and all its files out of sight
            Path away = Files.move(app.inbox(), app.inbox().resolveSibling("inbox-away"));
            WaitingInputs.leftAloneAnHour(app, row);
            app.bean("replacedInputs", ReplacedInputs.class).sweep();
            assertFalse(app.ledger().findById(row.id()).orElseThrow().state().isFinal(), "left open");
            assertEquals(0, Results.count(app.results()));

            Files.move(away, app.inbox());
            app.context().getRouteController().startRoute("ingest-file");
            app.sandbox().settings().setFailureRate("presign", 0.0);
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
        }
    }

    @Test
    void anImageStillInTheDropFolderIsLeftToItsAttempts() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, OUTAGE)) {
            Results.drop(app.inbox(), "u9203.png", SampleImages.card("u9203", "png"));
            Path file = app.inbox().resolve("u9203.png");
            await().atMost(Duration.ofSeconds(20)).until(() -> app.sandbox().injectedFailures("presign") >= 1);
            LedgerRecord row = app.ledger().createdSince(0).get(0);
            WaitingInputs.noWorkerHasIt(app, row, "ingest-file");
            WaitingInputs.leftAloneAnHour(app, row);
            app.bean("replacedInputs", ReplacedInputs.class).sweep();

            assertFalse(app.ledger().findById(row.id()).orElseThrow().state().isFinal(), "left open");
            assertEquals(0, Results.count(app.results()));
            assertTrue(Files.exists(file));
            app.context().getRouteController().startRoute("ingest-file");
            app.sandbox().settings().setFailureRate("presign", 0.0);
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            assertEquals(List.of("COMPLETED"), Results.read(app.results()).stream()
                    .map(r -> r.path("status").asText()).collect(Collectors.toList()));
        }
    }

    @Test
    void aShareNotYetMountedAtTheNextStartEndsNothingAndItsFilesGetOneResult() throws Exception {
        // a share is a file system of its own: here tmpfs, apart from the data folder's
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm), "no /dev/shm");
        Path share = Files.createTempDirectory(shm, "ktp-share-");
        try {
            assumeFalse(Files.getFileStore(share).equals(Files.getFileStore(dataDir)), "/dev/shm on the data folder's");
            Path inbox = dataDir.resolve("inbox");
            Files.createSymbolicLink(inbox, share);
            String id;
            try (BridgeApp app = BridgeApp.start(dataDir, OUTAGE)) {
                Path staging = share.resolve(".u9206.png");
                Files.write(staging, SampleImages.card("u9206", "png"));
                Files.move(staging, share.resolve("u9206.png"));
                await().atMost(Duration.ofSeconds(20)).until(() -> app.sandbox().injectedFailures("presign") >= 1);
                id = app.ledger().createdSince(0).get(0).id();
            }
            // the next start comes before the share is mounted: its mount point is an empty folder on the
            // file system below it, where every waiting input's file looks gone
            Files.delete(inbox);
            Files.createDirectory(inbox);
            try (BridgeApp app = BridgeApp.start(dataDir, OUTAGE)) {
                WaitingInputs.leftAloneAnHour(app, app.ledger().findById(id).orElseThrow());
                app.bean("replacedInputs", ReplacedInputs.class).sweep();
                assertFalse(app.ledger().findById(id).orElseThrow().state().isFinal(), "left open");
                assertEquals(0, Results.count(app.results()));

                Files.delete(inbox);
                Files.createSymbolicLink(inbox, share);
                app.sandbox().settings().setFailureRate("presign", 0.0);
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
                app.bean("replacedInputs", ReplacedInputs.class).sweep();
                assertEquals(List.of("COMPLETED"), Results.read(app.results()).stream()
                        .map(r -> r.path("status").asText()).collect(Collectors.toList()));
            }
        } finally {
            try (var files = Files.walk(share)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    @Test
    void anImageDeletedWhileTheBundleWasDownIsEndedAfterTheRestart() throws Exception {
        String id;
        try (BridgeApp app = BridgeApp.start(dataDir, OUTAGE)) {
            Results.drop(app.inbox(), "u9207.png", SampleImages.card("u9207", "png"));
            await().atMost(Duration.ofSeconds(20)).until(() -> app.sandbox().injectedFailures("presign") >= 1);
            id = app.ledger().createdSince(0).get(0).id();
        }
        // the drop folder lists empty from the start: it is judged by the file system it had files on before
        Files.delete(dataDir.resolve("inbox").resolve("u9207.png"));
        try (BridgeApp app = BridgeApp.start(dataDir, OUTAGE)) {
            WaitingInputs.leftAloneAnHour(app, app.ledger().findById(id).orElseThrow());
            app.bean("replacedInputs", ReplacedInputs.class).sweep();
            await().atMost(Duration.ofSeconds(10)).until(() -> Results.count(app.results()) == 1);
            assertEquals("SOURCE_GONE", Results.read(app.results()).get(0).path("reasonCode").asText());
            assertEquals(Map.of(), app.ledger().openCounts());
        }
    }
}

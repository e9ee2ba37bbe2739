package id.ktpbridge.sftp;

import static id.ktpbridge.sftp.SftpSourceTest.PASSWORD;
import static id.ktpbridge.sftp.SftpSourceTest.sftp;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.submit.ReplacedInputs;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import id.ktpbridge.testkit.WaitingInputs;
import id.ktpbridge.testkit.SftpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An SFTP input left waiting by an outage whose file is deleted from the server by hand: the sweep
 * ends it FAILED {@code SOURCE_GONE} with one result, once nobody has touched it for
 * {@code ktp.source.claim-ttl}, and the same image put again is submitted instead of being turned
 * away as a duplicate of it. A file still there, or a server that cannot be asked, ends nothing.
 */
class SftpGoneFileTest {

    @TempDir
    Path tmp;

    /** OneKYC refuses every presign for now (the input waits), and a claim lives 3 s. */
    private Map<String, String> waiting(SftpServer server) {
        return sftp(server, tmp, "ktp.source.claim-ttl", "3s", "gtf.retry.max-attempts", "1",
                "gtf.circuit-breaker.failure-threshold", "1000", "gtf.sandbox.faults.failure-rate.presign", "1.0",
                "gtf.sandbox.faults.failure-statuses", "503");
    }

    @Test
    void aFileDeletedFromTheServerWhileItsInputWaitedIsEndedByTheSweep() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            byte[] image = SampleImages.card("u9301", "png");
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), waiting(server))) {
                Files.write(inbox.resolve("u9301.png"), image);
                LedgerRecord row = WaitingInputs.afterARefusedPresign(app);
                Files.delete(inbox.resolve("u9301.png"));

                // the listing goes on, without the file: only the sweep can end its input, once its
                // worker has let go and it has been left alone for the claim's 3 s
                ReplacedInputs sweep = app.bean("replacedInputs", ReplacedInputs.class);
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> {
                    sweep.sweep();
                    return Results.count(app.results()) == 1;
                });
                JsonNode result = Results.read(app.results()).get(0);
                assertEquals(row.id(), result.path("ledgerId").asText());
                assertEquals("FAILED", result.path("status").asText());
                assertEquals("SOURCE_GONE", result.path("reasonCode").asText());
                assertEquals("its file left the SFTP folder before its upload", result.path("errorMessage").asText());
                sweep.sweep();
                assertEquals(1, Results.count(app.results()), "one result");
                assertEquals(Map.of(), app.ledger().openCounts(), "nothing left open");
                assertEquals(1, log.count("Ledger " + row.id() + ": its file left the SFTP folder"), log.text());
                assertFalse(log.text().contains("u9301"), "the file name (it may hold a NIK) is in the log");

                // its content claim let go: the same image put again is an input of its own, submitted
                app.sandbox().settings().setFailureRate("presign", 0.0);
                Files.write(inbox.resolve("u9301-again.png"), image);
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);
                JsonNode again = Results.bySourceFile(app.results()).get("u9301-again.png");
                assertEquals("COMPLETED", again.path("status").asText(), again.toString());
                assertEquals(1, app.sandbox().submissionCount());
            }
        }
    }

    @Test
    void theSameImagePutBackUnderAnotherNameIsSubmittedAtOnceAndTheWaitingInputEnded() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            byte[] image = SampleImages.card("u9311", "png");
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), waiting(server))) {
                Files.write(inbox.resolve("u9311.png"), image);
                LedgerRecord row = WaitingInputs.afterARefusedPresign(app);
                // renamed by hand while it waited
                Files.move(inbox.resolve("u9311.png"), inbox.resolve("u9311-renamed.png"));
                app.sandbox().settings().setFailureRate("presign", 0.0);

                // before any sweep (its first comes a minute after the start): not a duplicate of the gone one
                await().atMost(Duration.ofSeconds(40)).until(() -> Results.count(app.results()) == 2);
                Map<String, JsonNode> bySource = Results.bySourceFile(app.results());
                assertEquals("COMPLETED", bySource.get("u9311-renamed.png").path("status").asText(),
                        bySource.toString());
                JsonNode old = bySource.get("u9311.png");
                assertEquals(row.id(), old.path("ledgerId").asText());
                assertEquals("SOURCE_GONE", old.path("reasonCode").asText(), old.toString());
                assertEquals(1, app.sandbox().submissionCount());
            }
        }
    }

    @Test
    void aFileStillOnTheServerIsLeftToItsAttempts() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), waiting(server))) {
                Files.write(inbox.resolve("u9302.png"), SampleImages.card("u9302", "png"));
                LedgerRecord row = WaitingInputs.afterARefusedPresign(app);
                WaitingInputs.noWorkerHasIt(app, row, "ingest-sftp", "ingest-sftp-oversized");
                WaitingInputs.leftAloneAnHour(app, row);
                app.bean("replacedInputs", ReplacedInputs.class).sweep();

                assertEquals(SubmissionState.RECEIVED, app.ledger().findById(row.id()).orElseThrow().state(), "left open");
                assertEquals(0, Results.count(app.results()));
                startSource(app);
                app.sandbox().settings().setFailureRate("presign", 0.0);
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                        && Files.exists(server.path("/inbox/.done/u9302.png")));
                assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
            }
        }
    }

    @Test
    void aServerThatCannotBeAskedEndsNothingUntilItAnswers() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), waiting(server))) {
                Files.write(inbox.resolve("u9303.png"), SampleImages.card("u9303", "png"));
                LedgerRecord row = WaitingInputs.afterARefusedPresign(app);
                WaitingInputs.noWorkerHasIt(app, row, "ingest-sftp", "ingest-sftp-oversized");
                Files.delete(inbox.resolve("u9303.png"));
                server.suspend();
                WaitingInputs.leftAloneAnHour(app, row);
                ReplacedInputs sweep = app.bean("replacedInputs", ReplacedInputs.class);
                sweep.sweep();

                assertEquals(SubmissionState.RECEIVED, app.ledger().findById(row.id()).orElseThrow().state(), "left open");
                assertEquals(0, Results.count(app.results()));
                assertTrue(log.text().contains("could not look whether the files of 1 input(s) left waiting are still on the server: cannot reach"),
                        log.text());

                server.resume();
                sweep.sweep();
                await().atMost(Duration.ofSeconds(10)).until(() -> Results.count(app.results()) == 1);
                assertEquals("SOURCE_GONE", Results.read(app.results()).get(0).path("reasonCode").asText());
            }
        }
    }

    @Test
    void onlyAFileTheServerSaysIsNotInItsFolderIsGone() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Files.write(inbox.resolve("u9304.png"), SampleImages.card("u9304", "png"));
            String at = "sftp://127.0.0.1:" + server.port() + "/";
            Files.createDirectories(inbox.resolve("branch-b"));
            List<String> refs = List.of(at + "inbox/u9304.png", at + "inbox/u9305.png",
                    // its folder gone too (as a mount on the server that is away): nothing to tell by
                    at + "inbox/branch-a/u9306.png",
                    // its folder there but empty (as a mount point whose mount is away): nothing either
                    at + "inbox/branch-b/u9307.png");

            assertEquals(Set.of(at + "inbox/u9305.png"), check(server, PASSWORD).look(refs).gone());
            // a server that answers a missing path with a plain failure: its folder's listing tells
            server.answerMissingWithFailure();
            assertEquals(Set.of(at + "inbox/u9305.png"), check(server, PASSWORD).look(refs).gone());
            assertTrue(server.missingAnsweredWithFailure() > 0);
            // a login refused tells nothing
            assertEquals(Set.of(), check(server, "wrong-password").look(refs).gone());
        }
    }

    @Test
    void aLookWhoseServerStopsAnsweringIsCutOffAndTellsNothing() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Files.write(inbox.resolve("u9308.png"), SampleImages.card("u9308", "png"));
            String at = "sftp://127.0.0.1:" + server.port() + "/";
            // the gone file's folder is listed to tell whether it holds files: that listing hangs
            server.hangListingOf("inbox");
            try {
                SftpGoneCheck check = new SftpGoneCheck(new SftpConnector(settings(server, PASSWORD)),
                        Duration.ofSeconds(1));
                var answer = java.util.concurrent.CompletableFuture.supplyAsync(() -> check.look(
                        List.of(at + "inbox/u9309.png", at + "inbox/u9308.png"))).get(30, java.util.concurrent.TimeUnit.SECONDS);
                assertEquals(Set.of(), answer.gone());
                assertEquals(Set.of(), answer.answered(), "the rest is asked again at the next sweep");
            } finally {
                server.releaseListings();
            }
        }
    }

    private SftpGoneCheck check(SftpServer server, String password) {
        return new SftpGoneCheck(settings(server, password));
    }

    private static SftpSettings settings(SftpServer server, String password) {
        return new SftpSettings("127.0.0.1", server.port(), server.user(), password, null, null,
                "no", null, "inbox", ".done", ".failed", false, Duration.ofSeconds(5), null, null);
    }

    private static void startSource(BridgeApp app) throws Exception {
        app.context().getRouteController().startRoute("ingest-sftp");
        app.context().getRouteController().startRoute("ingest-sftp-oversized");
    }
}

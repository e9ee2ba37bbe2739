package id.ktpbridge.reliability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.ledger.NewInput;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.submit.StrandedInputs;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inputs a stopped run left unconfirmed at a place the new configuration's sources do not read (the
 * drop folder moved, a source turned off): only their source hands an input back, so they stayed
 * open for good, and the same image from the new place was turned away as a duplicate of them. A
 * single instance ends them at start, FAILED {@code SOURCE_GONE} with their result.
 */
class SourcePlaceChangedTest {

    private static final Map<String, String> OUTAGE = Map.of("gtf.retry.max-attempts", "1",
            "gtf.circuit-breaker.failure-threshold", "1000", "gtf.sandbox.faults.failure-rate.presign", "1.0",
            "gtf.sandbox.faults.failure-statuses", "503");

    @TempDir
    Path dataDir;

    @Test
    void anImageWaitingWhenTheDropFolderMovedIsEndedAndSubmittedFromTheNewFolder() throws Exception {
        Path oldInbox = dataDir.resolve("old-inbox");
        Map<String, String> before = new java.util.HashMap<>(OUTAGE);
        before.put("ktp.source.dir", oldInbox.toString());
        String waiting;
        try (BridgeApp app = BridgeApp.start(dataDir, before)) {
            Results.drop(oldInbox, "u9401.png", SampleImages.card("u9401", "png"));
            await().atMost(Duration.ofSeconds(20)).until(() -> app.sandbox().injectedFailures("presign") >= 1);
            waiting = app.ledger().createdSince(0).get(0).id();
        }
        // the new configuration reads another folder, and the waiting files were moved there
        Files.createDirectories(dataDir.resolve("inbox"));
        Files.move(oldInbox.resolve("u9401.png"), dataDir.resolve("inbox").resolve("u9401.png"));

        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);
            Map<String, JsonNode> byLedgerId = Results.read(app.results()).stream()
                    .collect(Collectors.toMap(r -> r.path("ledgerId").asText(), r -> r));
            JsonNode old = byLedgerId.remove(waiting);
            assertNotNull(old, byLedgerId.toString());
            assertEquals("FAILED", old.path("status").asText());
            assertEquals("SOURCE_GONE", old.path("reasonCode").asText());
            JsonNode moved = byLedgerId.values().iterator().next();
            assertEquals("COMPLETED", moved.path("status").asText(), moved.toString());
            assertEquals(1, app.sandbox().submissionCount());
            await().atMost(Duration.ofSeconds(10)).until(() -> app.ledger().openCounts().isEmpty());
        }
    }

    @Test
    void inputsOfASourceTurnedOffOrPointedElsewhereAreEndedAtStartWithTheirResult() throws Exception {
        String sftp;
        String s3;
        String subFolder;
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            // this run's own look for stranded inputs first (it may come just after the start): the
            // rows below are for the next run to find
            app.bean("strandedInputs", StrandedInputs.class).atStart();
            // left by a run with the SFTP and S3 sources on, killed while they waited out an outage
            sftp = insert(app, "sftp", "sftp://sftp.example:22/inbox/u9411.png", SubmissionState.RECEIVED);
            s3 = insert(app, "s3", "s3://ktp-in/inbox/u9412.png", SubmissionState.PRESIGNED);
            // a file drop input of a folder inside today's (the drop reads its own folder only)
            subFolder = insert(app, "file", "file:" + app.inbox().resolve("old").resolve("u9413.png").toAbsolutePath(),
                    SubmissionState.RECEIVED);
        }
        try (LogCapture log = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 3);
            for (JsonNode result : Results.read(app.results())) {
                assertEquals("FAILED", result.path("status").asText(), result.toString());
                assertEquals("SOURCE_GONE", result.path("reasonCode").asText(), result.toString());
            }
            assertTrue(Results.read(app.results()).stream().anyMatch(r -> r.path("ledgerId").asText().equals(sftp)
                    && r.path("errorMessage").asText().contains("ktp.source.sftp.enabled")), Results.read(app.results())
                    .toString());
            for (String id : new String[] {sftp, s3, subFolder}) {
                assertEquals(SubmissionState.FAILED, app.ledger().findById(id).orElseThrow().state());
            }
            assertEquals(Map.of(), app.ledger().openCounts(), "nothing left open for a batch run to wait for");
            assertEquals(1, log.count("1 sftp input(s) left unconfirmed by an earlier run were at a place this"
                    + " configuration does not read (the SFTP source is off"), log.text());
            assertTrue(!log.text().contains("u9411") && !log.text().contains("u9413"), "no file names in the log");
        }
    }

    static String insert(BridgeApp app, String type, String ref, SubmissionState state) throws Exception {
        String id = UUID.randomUUID().toString();
        String name = ref.substring(ref.lastIndexOf('/') + 1);
        app.ledger().insert(new NewInput(id, type, ref, name, UUID.randomUUID().toString().replace("-", ""), 1L,
                "image/png", "P", name.substring(0, 5), "T", UUID.randomUUID().toString(),
                UUID.randomUUID().toString(), null), state);
        long hourAgo = System.currentTimeMillis() - 3_600_000;
        try (var c = app.ledger().dataSource().getConnection(); var ps = c.prepareStatement(
                "UPDATE ktp_submission SET created_at = ?, updated_at = ? WHERE id = ?")) {
            ps.setLong(1, hourAgo);
            ps.setLong(2, hourAgo);
            ps.setString(3, id);
            ps.executeUpdate();
        }
        return id;
    }
}

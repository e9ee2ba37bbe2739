package id.ktpbridge.reliability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.ledger.NewInput;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.result.ResultPublisher;
import id.ktpbridge.result.ResultStatus;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same image content met more than once: dropped as several files at the same moment, or
 * dropped again under its own name after its result. One submission per content, and every
 * input still gets exactly one result.
 */
class DuplicateContentTest {

    @TempDir
    Path dataDir;

    @TempDir
    Path staging;

    @Test
    void identicalImagesTakenTogetherAreSubmittedOnce() throws Exception {
        int groups = 3;
        int copies = 6;
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.source.poll-delay", "500"))) {
            Files.createDirectories(app.inbox());
            // written aside first, then moved in together: one scan takes them all, and the
            // submission workers inspect the copies side by side
            for (int g = 0; g < groups; g++) {
                byte[] image = SampleImages.card("u84" + g, "png");
                for (int c = 0; c < copies; c++) {
                    Files.write(staging.resolve("u84" + g + c + ".png"), image);
                }
            }
            try (var files = Files.list(staging)) {
                for (Path f : files.toList()) {
                    Files.move(f, app.inbox().resolve(f.getFileName()));
                }
            }

            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == groups * copies);
            List<JsonNode> results = Results.read(app.results());
            for (int g = 0; g < groups; g++) {
                String prefix = "u84" + g;
                Map<String, Long> outcomes = results.stream()
                        .filter(r -> r.path("sourceFile").asText().startsWith(prefix))
                        .collect(Collectors.groupingBy(r -> r.path("status").asText() + " "
                                + r.path("reasonCode").asText(""), Collectors.counting()));
                assertEquals(Map.of("COMPLETED ", 1L, "REJECTED DUPLICATE_CONTENT", (long) copies - 1), outcomes,
                        "group " + prefix);
            }
            assertEquals(groups, app.sandbox().submissionCount(), "one submission per distinct image");
        }
    }

    @Test
    void theSameFileDroppedAgainAfterItsResultIsRejectedAsADuplicate() throws Exception {
        byte[] image = SampleImages.card("u8500", "png");
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            Results.drop(app.inbox(), "u8500.png", image);
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                    && Files.exists(app.done().resolve("u8500.png")));

            Results.drop(app.inbox(), "u8500.png", image);
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);

            Map<String, Long> outcomes = Results.read(app.results()).stream().collect(Collectors.groupingBy(
                    r -> r.path("status").asText() + " " + r.path("reasonCode").asText(""), Collectors.counting()));
            assertEquals(Map.of("COMPLETED ", 1L, "REJECTED DUPLICATE_CONTENT", 1L), outcomes);
            assertEquals(1, app.sandbox().submissionCount());
            await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(app.failed().resolve("u8500.png")));
            assertTrue(Files.exists(app.done().resolve("u8500.png")), "the first drop stays in the done folder");
            // both were let go of: the move to done by the consumer, the quarantine by the bundle
            for (var row : app.ledger().createdSince(0)) {
                await().atMost(Duration.ofSeconds(5)).until(() -> releasedAt(app, row.id()) != null);
            }
        }
    }

    @Test
    void withoutDedupeTheSameFileDroppedAgainIsSubmittedAgain() throws Exception {
        byte[] image = SampleImages.card("u8600", "jpg");
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.source.dedupe", "none"))) {
            Results.drop(app.inbox(), "u8600.jpg", image);
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                    && Files.exists(app.done().resolve("u8600.jpg")));

            Results.drop(app.inbox(), "u8600.jpg", image);
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);

            List<String> statuses = Results.read(app.results()).stream().map(r -> r.path("status").asText()).toList();
            assertEquals(List.of("COMPLETED", "COMPLETED"), statuses);
            assertEquals(2, app.sandbox().submissionCount());
        }
    }

    @Test
    void aFileItsSourceNeverLetGoOfGetsNoSecondResult() throws Exception {
        // a process that delivered this file's result but died before the file was moved: the row
        // is there, the file is still in the drop folder
        byte[] image = SampleImages.card("u8700", "png");
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            Path file = app.inbox().resolve("u8700.png");
            String ledgerId = UUID.randomUUID().toString();
            app.ledger().insert(new NewInput(ledgerId, "file", "file:" + file.toAbsolutePath(), "u8700.png",
                    SampleImages.sha256(image), (long) image.length, "image/png", "partner", "u8700", "ANONYMOUS",
                    UUID.randomUUID().toString(), UUID.randomUUID().toString(), null), SubmissionState.RECEIVED);
            try (Connection c = app.ledger().dataSource().getConnection();
                 PreparedStatement ps = c.prepareStatement("UPDATE ktp_submission SET state = 'DELIVERED',"
                         + " submission_id = 'earlier-submission', submitted_at = 1 WHERE id = ?")) {
                ps.setString(1, ledgerId);
                assertEquals(1, ps.executeUpdate());
            }

            Results.drop(app.inbox(), "u8700.png", image);
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(app.done().resolve("u8700.png")));
            await().atMost(Duration.ofSeconds(5)).until(() -> releasedAt(app, ledgerId) != null);

            assertEquals(0, Results.count(app.results()), "the earlier result stands alone");
            assertEquals(0, app.sandbox().submissionCount());
            assertNotNull(releasedAt(app, ledgerId));
        }
    }

    @Test
    void aFileWhoseFailureIsRecordedButThatWasNeverMovedIsQuarantinedWithoutASecondResult() throws Exception {
        // results recorded, then the process died before the quarantine moved the files
        byte[] rejected = SampleImages.card("u8801", "png");
        byte[] failed = SampleImages.card("u8802", "jpg");
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            String rejectedId = endedRow(app, "u8801.png", rejected, "REJECTED", "INVALID_SIDECAR");
            String failedId = endedRow(app, "u8802.jpg", failed, "FAILED", "GTF_PRESIGN_FAILED");

            await().atMost(Duration.ofSeconds(10)).until(() -> Results.count(app.results()) == 2);
            Results.drop(app.inbox(), "u8801.png", rejected);
            Results.drop(app.inbox(), "u8802.jpg", failed);
            for (String name : List.of("u8801.png", "u8802.jpg")) {
                // the report is written first and the image moved after it: both are waited for
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> Files.exists(app.failed().resolve(name))
                        && Results.parse(app.failed().resolve(name + ".error.json")).has("reasonCode"));
            }
            assertEquals("INVALID_SIDECAR",
                    Results.parse(app.failed().resolve("u8801.png.error.json")).path("reasonCode").asText());
            assertEquals("GTF_PRESIGN_FAILED",
                    Results.parse(app.failed().resolve("u8802.jpg.error.json")).path("reasonCode").asText());
            await().atMost(Duration.ofSeconds(5)).until(() -> releasedAt(app, rejectedId) != null
                    && releasedAt(app, failedId) != null);
            assertEquals(2, Results.count(app.results()), "the recorded results stand alone");
            assertEquals(0, app.sandbox().submissionCount());
            assertEquals(2, app.ledger().createdSince(0).size(), "no new ledger rows");
        }
    }

    private static String endedRow(BridgeApp app, String name, byte[] image, String state, String reason)
            throws Exception {
        String ledgerId = UUID.randomUUID().toString();
        app.ledger().insert(new NewInput(ledgerId, "file", "file:" + app.inbox().resolve(name).toAbsolutePath(), name,
                SampleImages.sha256(image), (long) image.length, "image/png", "partner", name.substring(0, 5),
                "ANONYMOUS",
                UUID.randomUUID().toString(), UUID.randomUUID().toString(), null), SubmissionState.RECEIVED);
        app.ledger().markEnded(ledgerId, SubmissionState.valueOf(state), reason, "recorded earlier");
        // and its result, as the earlier run stored and delivered it
        app.bean("resultPublisher", ResultPublisher.class).publishLocal(app.ledger().findById(ledgerId).orElseThrow(),
                ResultStatus.valueOf(state), reason, "recorded earlier");
        return ledgerId;
    }

    static Long releasedAt(BridgeApp app, String ledgerId) throws Exception {
        try (Connection c = app.ledger().dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT source_released_at FROM ktp_submission WHERE id = ?")) {
            ps.setString(1, ledgerId);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                long v = rs.getLong(1);
                return rs.wasNull() ? null : v;
            }
        }
    }
}

package id.ktpbridge.reliability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.sandbox.StorageRequest;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A file overwritten in the drop folder after it was taken: OneKYC receives the bytes that were
 * hashed and recorded (the bundle's own copy), not the new ones; and the new file is not moved to
 * done/ with the input it replaced (the file consumer would move it unread), but gets a submission
 * and a result of its own.
 */
class SourceReplacedTest {

    @TempDir
    Path dataDir;

    @Test
    void theUploadIsTheCopyThatWasHashed() throws Exception {
        byte[] first = SampleImages.card("u7201", "png");
        byte[] second = SampleImages.card("u7201-other-card", "png");
        assertNotEquals(first.length, second.length);
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.sandbox.faults.latency", "700"))) {
            Results.drop(app.inbox(), "u7201.png", first);
            await().atMost(Duration.ofSeconds(20)).until(() -> !app.ledger().createdSince(0).isEmpty());
            String ledgerId = app.ledger().createdSince(0).get(0).id();
            Files.write(app.inbox().resolve("u7201.png"), second);

            await().atMost(Duration.ofSeconds(30)).until(() -> Results.read(app.results()).stream()
                    .anyMatch(r -> ledgerId.equals(r.path("ledgerId").asText())));
            JsonNode result = Results.read(app.results()).stream()
                    .filter(r -> ledgerId.equals(r.path("ledgerId").asText())).findFirst().orElseThrow();
            List<StorageRequest> uploads = app.sandbox().storageRequests().stream()
                    .filter(r -> r.httpStatus() / 100 == 2).toList();
            assertEquals((long) first.length, uploads.get(0).bodySize(), "the bytes taken in were uploaded");
            assertEquals(first.length, result.path("sourceSize").asLong());
        }
    }

    @Test
    void aFileReplacedWhileItIsSubmittedIsTakenAgainAsAnInputOfItsOwn() throws Exception {
        byte[] first = SampleImages.card("u7201-first", "png");
        byte[] second = SampleImages.card("u7201-second", "png");
        // each OneKYC call takes a while, so the file can be replaced between reading and confirming
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.sandbox.faults.latency", "400ms"))) {
            // a sidecar names the partner user; it stays with the new file
            Files.writeString(app.inbox().resolve("u7201.json"), "{\"partnerUserId\": \"cust-7201\"}");
            Results.drop(app.inbox(), "u7201.png", first);
            await().atMost(Duration.ofSeconds(20)).until(() -> app.ledger().createdSince(0).stream()
                    .anyMatch(r -> r.state() == SubmissionState.PRESIGNED));
            Files.write(app.inbox().resolve("u7201.png"), second);

            await().atMost(Duration.ofSeconds(40)).until(() -> Results.count(app.results()) == 2);
            Set<String> submitted = Results.read(app.results()).stream()
                    .peek(r -> assertEquals("COMPLETED", r.path("status").asText(), r.toString()))
                    .map(r -> r.path("sourceSha256").asText()).collect(Collectors.toSet());
            assertEquals(Set.of(SampleImages.sha256(first), SampleImages.sha256(second)), submitted,
                    "each version submitted once");
            assertEquals(2, app.sandbox().submissionCount());
            for (JsonNode r : Results.read(app.results())) {
                assertEquals("cust-7201", r.path("partnerUserId").asText(), "the sidecar applied to both versions");
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> !Files.exists(app.inbox().resolve("u7201.png")));
        }
    }

    /**
     * A sync client touching the file, or copying the same bytes over it again, while it is submitted:
     * the file now there is the one that was read, so it goes to done/ with its input's one result
     * (it was left as replaced, taken again and rejected DUPLICATE_CONTENT into failed/).
     */
    @ParameterizedTest
    @ValueSource(strings = {"touched", "copied again"})
    void aFileTouchedOrCopiedAgainWithTheSameBytesWhileItIsSubmittedIsDoneOnce(String how) throws Exception {
        byte[] image = SampleImages.card("u7202", "png");
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.sandbox.faults.latency", "400ms"))) {
            Results.drop(app.inbox(), "u7202.png", image);
            Path file = app.inbox().resolve("u7202.png");
            await().atMost(Duration.ofSeconds(20)).until(() -> app.ledger().createdSince(0).stream()
                    .anyMatch(r -> r.state() == SubmissionState.PRESIGNED));
            if (how.equals("touched")) {
                Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() + 5_000));
            } else {
                Path staging = Files.write(app.inbox().resolveSibling("u7202.png.part"), image);
                Files.move(staging, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }

            await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(app.done().resolve("u7202.png")));
            // the scans go on: a file left in the drop folder would be taken again within this
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
                    .until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertFalse(Files.exists(file), "left in the drop folder");
            assertFalse(Files.exists(app.failed().resolve("u7202.png")), "taken again and failed");
            assertEquals(1, app.sandbox().submissionCount());
        }
    }

    @Test
    void anInputWaitingOutAnOutageWhoseFileIsReplacedEndsAndTheNewFileIsSubmitted() throws Exception {
        byte[] first = SampleImages.card("u7301-first", "png");
        byte[] second = SampleImages.card("u7301-second", "png");
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.retry.max-attempts", "1",
                "gtf.circuit-breaker.failure-threshold", "1000", "ktp.submit.retry-window", "10m",
                "gtf.sandbox.faults.failure-rate.presign", "1.0", "gtf.sandbox.faults.failure-statuses", "503"))) {
            Results.drop(app.inbox(), "u7301.png", first);
            // presign fails: the input waits in the inbox for its next attempt
            await().atMost(Duration.ofSeconds(20)).until(() -> app.sandbox().injectedFailures("presign") >= 1);
            Files.write(app.inbox().resolve("u7301.png"), second);
            app.sandbox().settings().setFailureRate("presign", 0.0);

            await().atMost(Duration.ofSeconds(40)).until(() -> Results.count(app.results()) == 2);
            Map<String, String> statusBySha = Results.read(app.results()).stream().collect(Collectors.toMap(
                    r -> r.path("sourceSha256").asText(), r -> (r.path("status").asText() + " " + r.path("reasonCode").asText()).trim()));
            assertEquals(Map.of(SampleImages.sha256(first), "FAILED SOURCE_REPLACED", SampleImages.sha256(second),
                    "COMPLETED"), statusBySha);
            assertEquals(1, app.sandbox().submissionCount(), "only the new bytes were submitted");
            await().atMost(Duration.ofSeconds(10)).until(() -> app.ledger().openCounts().isEmpty());
        }
    }

    @Test
    void anObjectInputReplacedBeforeItsUploadIsEndedOnceLeftAlone() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            long hourAgo = System.currentTimeMillis() - 3_600_000;
            String ref = "s3://inbox/u7301.png";
            // an instance was killed on the old version; the new one was taken as an input of its own
            String orphan = insert(app, "orphan", ref, "a".repeat(64), SubmissionState.PRESIGNED, hourAgo);
            insert(app, "newer", ref, "b".repeat(64), SubmissionState.DELIVERED, hourAgo + 60_000);
            // left alone as long, but its reference was taken again with the same bytes: resumable
            String sameBytes = insert(app, "same", "s3://inbox/u7302.png", "c".repeat(64), SubmissionState.RECEIVED,
                    hourAgo);
            insert(app, "same-newer", "s3://inbox/u7302.png", "c".repeat(64), SubmissionState.DELIVERED,
                    hourAgo + 60_000);
            // replaced, but touched a moment ago: another instance may have it in hand
            String fresh = insert(app, "fresh", "s3://inbox/u7303.png", "d".repeat(64), SubmissionState.RECEIVED,
                    System.currentTimeMillis());
            insert(app, "fresh-newer", "s3://inbox/u7303.png", "e".repeat(64), SubmissionState.DELIVERED,
                    System.currentTimeMillis() + 1);

            // replaced and untouched as long, but a worker of this instance has it in hand (a long
            // Retry-After wait, say): the sweep leaves inputs in hand alone (a single instance keeps
            // them in memory; the holds a cluster keeps in the ledger are InputsInHandTest's)
            String inHand = insert(app, "in-hand", "s3://inbox/u7304.png", "f".repeat(64), SubmissionState.RECEIVED,
                    hourAgo);
            insert(app, "in-hand-newer", "s3://inbox/u7304.png", "0".repeat(64), SubmissionState.DELIVERED,
                    hourAgo + 60_000);
            // the newer input at its reference could not be read: nothing says the bytes changed
            String unread = insert(app, "unread", "s3://inbox/u7305.png", "1".repeat(64), SubmissionState.RECEIVED,
                    hourAgo);
            insert(app, "unread-newer", "s3://inbox/u7305.png", null, SubmissionState.REJECTED, hourAgo + 60_000);

            id.ktpbridge.submit.ReplacedInputs replaced = app.bean("replacedInputs",
                    id.ktpbridge.submit.ReplacedInputs.class);
            id.ktpbridge.submit.InputsInHand inputsInHand = app.bean("inputsInHand", id.ktpbridge.submit.InputsInHand.class);
            inputsInHand.take(new org.apache.camel.support.DefaultExchange(app.context()), inHand);
            inputsInHand.renew();
            replaced.sweep();

            assertEquals(SubmissionState.FAILED, app.ledger().findById(orphan).orElseThrow().state());
            await().atMost(Duration.ofSeconds(10)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("FAILED", result.path("status").asText());
            assertEquals("SOURCE_REPLACED", result.path("reasonCode").asText());
            assertEquals(SubmissionState.RECEIVED, app.ledger().findById(sameBytes).orElseThrow().state());
            assertEquals(SubmissionState.RECEIVED, app.ledger().findById(fresh).orElseThrow().state());
            assertEquals(SubmissionState.RECEIVED, app.ledger().findById(inHand).orElseThrow().state());
            assertEquals(SubmissionState.RECEIVED, app.ledger().findById(unread).orElseThrow().state());
        }
    }

    @Test
    void aReplacedInputEndedWithoutItsResultGetsItFromTheNextSweep() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            long hourAgo = System.currentTimeMillis() - 3_600_000;
            // ended FAILED SOURCE_REPLACED, and the process stopped before the result was stored
            String ended = insert(app, "ended", "s3://inbox/u7311.png", "a".repeat(64), SubmissionState.RECEIVED, hourAgo);
            assertTrue(app.ledger().markEnded(ended, SubmissionState.FAILED, "SOURCE_REPLACED", "replaced"));
            try (var c = app.ledger().dataSource().getConnection(); var ps = c.prepareStatement(
                    "UPDATE ktp_submission SET completed_at = ? WHERE id = ?")) {
                ps.setLong(1, hourAgo);
                ps.setString(2, ended);
                ps.executeUpdate();
            }
            assertEquals(1, app.ledger().endedWithoutResult());

            app.bean("replacedInputs", id.ktpbridge.submit.ReplacedInputs.class).sweep();

            await().atMost(Duration.ofSeconds(10)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("FAILED", result.path("status").asText());
            assertEquals("SOURCE_REPLACED", result.path("reasonCode").asText());
            assertEquals(0, app.ledger().endedWithoutResult());
        }
    }

    private static String insert(BridgeApp app, String name, String ref, String sha, SubmissionState state, long at)
            throws Exception {
        String id = java.util.UUID.randomUUID().toString();
        app.ledger().insert(new id.ktpbridge.ledger.NewInput(id, "s3", ref, name + ".png", sha, 1L, "image/png",
                "P", "u7301", "T", java.util.UUID.randomUUID().toString(), java.util.UUID.randomUUID().toString(),
                null), state);
        try (var c = app.ledger().dataSource().getConnection(); var ps = c.prepareStatement(
                "UPDATE ktp_submission SET created_at = ?, updated_at = ? WHERE id = ?")) {
            ps.setLong(1, at);
            ps.setLong(2, at);
            ps.setString(3, id);
            ps.executeUpdate();
        }
        return id;
    }
}

package id.ktpbridge;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.sandbox.ApiCall;
import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.testkit.ApiCalls;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A folder of images through the whole application and the embedded sandbox, once per collection path. */
class EndToEndTest {

    private static final List<String> IMAGES = List.of("u1001.png", "u1002.jpg", "u1003-notektp.png",
            "u1004-error.jpg", "u1005.jpeg", "u1006.png");

    @TempDir
    Path dataDir;

    @Test
    void callbacksOnlyDeliverOneResultPerImage() throws Exception {
        try (LogCapture logs = new LogCapture();
             BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.poll.enabled", "false"))) {
            dropAll(app);
            Map<String, JsonNode> results = awaitResults(app);
            assertOutcomes(results, "callback");
            assertOneSubmissionEach(app.sandbox(), results);
            assertNoSecretsOrPersonalData(logs.text(), results);
        }
    }

    @Test
    void pollerAloneDeliversWhenCallbacksAreOff() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.sandbox.callback.enabled", "false"))) {
            dropAll(app);
            Map<String, JsonNode> results = awaitResults(app);
            assertOutcomes(results, "poll");
            assertOneSubmissionEach(app.sandbox(), results);
            assertEquals(0, app.sandbox().callbackAttempts());
        }
    }

    @Test
    void bothPathsActiveStillDeliverExactlyOnce() throws Exception {
        try (LogCapture log = new LogCapture();
             BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.sandbox.callback.duplicates", "2",
                "ktp.poll.first-delay", "0", "ktp.poll.interval", "100"))) {
            dropAll(app);
            Map<String, JsonNode> results = awaitResults(app);
            assertOneSubmissionEach(app.sandbox(), results);
            // let late duplicate callbacks and poll ticks arrive; the count must not grow
            await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5))
                    .until(() -> Results.count(app.results()) == IMAGES.size());
            // a second collection would overwrite the same file with the same document, and find its
            // delivery row there already: the log line each stored result gets counts them
            for (JsonNode r : results.values()) {
                assertEquals(1, log.count("Result ready: ledger " + r.path("ledgerId").asText() + " "),
                        "results stored for " + r.path("sourceFile").asText());
            }
            // both paths really ran: polls asked while the sandbox processed (1.5 s each, ticks every
            // 100 ms), and the callbacks, sent whoever collected first, were accepted
            assertTrue(app.sandbox().requestLog().stream()
                    .anyMatch(c -> c.endpoint().equals("status") && c.httpStatus() == 200), "no status call answered");
            await().atMost(Duration.ofSeconds(30)).until(() -> app.sandbox().callbacksDelivered() > 0);
            for (JsonNode r : results.values()) {
                assertEquals(1, ApiCalls.detailsAnswered(app.sandbox().requestLog(), r.path("submissionId").asText()),
                        "collections of " + r.path("sourceFile").asText());
            }
        }
    }

    @Test
    void imageUrlsArePassedOnOnlyWhenAskedFor() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.results.image-urls", "keep"))) {
            Results.drop(app.inbox(), "u1101.png", SampleImages.card("u1101", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            JsonNode urls = Results.read(app.results()).get(0).path("submissionDetails").path("imageUrls");
            assertTrue(urls.isObject() && urls.toString().contains("X-Amz-Signature"), urls.toString());
        }
    }

    @Test
    void spoolCopiesLeftByAKilledProcessAreDeletedAtStartAndNothingElse() throws Exception {
        Path spool = Files.createDirectories(dataDir.resolve("spool"));
        Path left = Files.write(spool.resolve(java.util.UUID.randomUUID() + ".img"), SampleImages.card("u6399", "png"));
        Path notOurs = Files.writeString(spool.resolve("notes.txt"), "kept");
        try (LogCapture log = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            assertFalse(Files.exists(left), "a KTP image no exchange holds");
            assertTrue(Files.exists(notOurs), "a name the bundle never gives is left alone");
            assertTrue(log.text().contains("1 spool copies left by an earlier process that did not stop were deleted"),
                    log.text());
            // and the spool serves the next input as before
            Results.drop(app.inbox(), "u6398.png", SampleImages.card("u6398", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
        }
    }

    @Test
    void aFileNamedAsOneAlreadyInTheDoneFolderGoesInBesideItWithItsSidecar() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            // a scanner that numbers its images anew each day
            byte[] monday = SampleImages.card("monday", "png");
            byte[] tuesday = SampleImages.card("tuesday", "png");
            Results.drop(app.inbox(), "u6341.png", monday);
            await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(app.done().resolve("u6341.png")));
            Files.writeString(app.inbox().resolve("u6341.json"), "{\"partnerUserId\": \"u6341-b\"}");
            Results.drop(app.inbox(), "u6341.png", tuesday);
            await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 2);
            String second = Results.read(app.results()).stream()
                    .filter(r -> r.path("partnerUserId").asText().equals("u6341-b"))
                    .findFirst().orElseThrow().path("ledgerId").asText();
            await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(app.done().resolve(second + "-u6341.png")));
            assertTrue(java.util.Arrays.equals(monday, Files.readAllBytes(app.done().resolve("u6341.png"))),
                    "the earlier image is kept");
            assertTrue(java.util.Arrays.equals(tuesday, Files.readAllBytes(app.done().resolve(second + "-u6341.png"))));
            assertTrue(Files.exists(app.done().resolve(second + "-u6341.json")), "the sidecar follows its image");
        }
    }

    @Test
    void anImageWhoseSidecarNameIsTakenInTheDoneOrFailedFolderGoesInBesideIt() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            // u6351.jpg after u6351.png (and u6352.jpg after u6352.png): another image name, the same sidecar name
            Files.writeString(app.inbox().resolve("u6351.json"), "{\"partnerUserId\": \"u6351-a\"}");
            Results.drop(app.inbox(), "u6351.png", SampleImages.card("u6351-a", "png"));
            Files.writeString(app.inbox().resolve("u6352.json"), "{\"partnerUserId\": \"u6352-a\"}");
            Results.drop(app.inbox(), "u6352.png", "not a picture, a".getBytes(StandardCharsets.UTF_8));
            await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(app.done().resolve("u6351.json"))
                    && Files.exists(app.failed().resolve("u6352.json")));
            Files.writeString(app.inbox().resolve("u6351.json"), "{\"partnerUserId\": \"u6351-b\"}");
            Results.drop(app.inbox(), "u6351.jpg", SampleImages.card("u6351-b", "jpg"));
            Files.writeString(app.inbox().resolve("u6352.json"), "{\"partnerUserId\": \"u6352-b\"}");
            Results.drop(app.inbox(), "u6352.jpg", "not a picture, b".getBytes(StandardCharsets.UTF_8));
            await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 4);
            Map<String, String> ledgerIds = Results.read(app.results()).stream().collect(java.util.stream.Collectors
                    .toMap(r -> r.path("partnerUserId").asText(), r -> r.path("ledgerId").asText()));
            String done = ledgerIds.get("u6351-b");
            String failed = ledgerIds.get("u6352-b");
            await().atMost(Duration.ofSeconds(15)).until(() -> Files.exists(app.done().resolve(done + "-u6351.json"))
                    && Files.exists(app.failed().resolve(failed + "-u6352.json")));
            assertTrue(Files.readString(app.done().resolve("u6351.json")).contains("u6351-a"), "the earlier sidecar is kept");
            assertTrue(Files.readString(app.done().resolve(done + "-u6351.json")).contains("u6351-b"));
            assertTrue(Files.exists(app.done().resolve(done + "-u6351.jpg")), "the image goes in beside it too");
            assertTrue(Files.exists(app.done().resolve("u6351.png")));
            assertTrue(Files.readString(app.failed().resolve("u6352.json")).contains("u6352-a"), "the earlier sidecar is kept");
            assertTrue(Files.readString(app.failed().resolve(failed + "-u6352.json")).contains("u6352-b"));
            assertTrue(Files.exists(app.failed().resolve(failed + "-u6352.jpg")), "the image goes in beside it too");
            assertTrue(Files.exists(app.failed().resolve(failed + "-u6352.jpg.error.json")));
        }
    }

    private static void assertNoSecretsOrPersonalData(String logText, Map<String, JsonNode> results) {
        assertTrue(logText.contains("Result ready"), "the capture saw the application's log");
        for (String secret : List.of("sandbox-pass-key", "eyJ", "X-Amz-Signature", "X-Amz-Credential", "Bearer ")) {
            assertFalse(logText.contains(secret), "log contains " + secret);
        }
        for (JsonNode r : results.values()) {
            JsonNode ktp = r.path("submissionDetails").path("ktpData");
            if (ktp.isObject()) {
                assertFalse(logText.contains(ktp.path("nik").asText()), "log contains a NIK");
                assertFalse(logText.contains(ktp.path("name").asText()), "log contains a name");
            }
        }
    }

    private static void dropAll(BridgeApp app) throws Exception {
        for (String name : IMAGES) {
            String format = name.endsWith(".png") ? "png" : "jpg";
            Results.drop(app.inbox(), name, SampleImages.card(name, format));
        }
    }

    private static Map<String, JsonNode> awaitResults(BridgeApp app) {
        await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) >= IMAGES.size());
        Map<String, JsonNode> results = Results.bySourceFile(app.results());
        assertEquals(Set.copyOf(IMAGES), results.keySet());
        for (String name : IMAGES) {
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(app.done().resolve(name)));
            assertFalse(Files.exists(app.inbox().resolve(name)), name + " left in the inbox");
        }
        return results;
    }

    private static void assertOutcomes(Map<String, JsonNode> results, String via) throws Exception {
        for (JsonNode r : results.values()) {
            String file = r.path("sourceFile").asText();
            String user = file.substring(0, file.indexOf('.'));
            assertEquals(user, r.path("partnerUserId").asText(), file);
            assertEquals("PARTNER_USER_ID", r.path("partnerUserIdType").asText(), file);
            assertEquals("file", r.path("sourceType").asText(), file);
            assertEquals(via, r.path("receivedVia").asText(), file);
            assertTrue(r.path("submissionId").asText().length() > 10, file);
            assertTrue(r.path("partnerSessionId").asText().length() > 10, file);
            assertEquals(64, r.path("sourceSha256").asText().length(), file);
            assertTrue(r.path("sourceSize").asLong() > 1000, file);
            assertTrue(r.hasNonNull("submittedAt") && r.hasNonNull("completedAt"), file);
            // presigned download links to the card images: a credential, left out by default
            assertFalse(r.path("submissionDetails").has("imageUrls"), file);
            assertFalse(r.toString().contains("X-Amz-Signature"), file);
            if (file.contains("notektp")) {
                assertEquals("COMPLETED", r.path("status").asText(), file);
                assertEquals("INVALID", r.path("result").asText(), file);
                assertEquals("NOT_EKTP", r.path("reasonCode").asText(), file);
            } else if (file.contains("error")) {
                assertEquals("ERROR", r.path("status").asText(), file);
                assertEquals("VERIFICATION_FAILED", r.path("reasonCode").asText(), file);
            } else {
                assertEquals("COMPLETED", r.path("status").asText(), file);
                assertEquals("VALID", r.path("result").asText(), file);
                JsonNode ktp = r.path("submissionDetails").path("ktpData");
                assertEquals(16, ktp.path("nik").asText().length(), file);
                assertFalse(ktp.path("name").asText().isEmpty(), file);
            }
        }
    }

    /** One submission and one confirm, answered 200, per image, and one pair of session ids per submission. */
    private static void assertOneSubmissionEach(GtfSandbox sandbox, Map<String, JsonNode> results) {
        assertEquals(IMAGES.size(), sandbox.submissionCount());
        Set<String> submissionIds = results.values().stream().map(r -> r.path("submissionId").asText())
                .collect(Collectors.toSet());
        assertEquals(Set.copyOf(sandbox.submissionIds()), submissionIds);
        for (String id : submissionIds) {
            // the sandbox's state says confirmed once however many confirms came: its log says how many
            assertEquals(List.of(200), ApiCalls.confirmAnswers(sandbox.requestLog(), id), "confirms of " + id);
            Set<String> partnerSessions = sandbox.requestLog().stream()
                    .filter(c -> id.equals(c.submissionId()) && c.partnerSessionId() != null)
                    .map(ApiCall::partnerSessionId).collect(Collectors.toSet());
            Set<String> sdkSessions = sandbox.requestLog().stream()
                    .filter(c -> id.equals(c.submissionId()) && c.sdkSessionId() != null)
                    .map(ApiCall::sdkSessionId).collect(Collectors.toSet());
            assertEquals(1, partnerSessions.size(), "partner session ids of " + id);
            assertTrue(sdkSessions.size() <= 1, "sdk session ids of " + id);
        }
        // one token per partner user, not per call
        assertEquals(IMAGES.size(), sandbox.tokenIssuedCount());
    }
}

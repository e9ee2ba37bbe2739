package id.ktpbridge.sftp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.OpenOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import id.ktpbridge.testkit.StopAndResume;
import id.ktpbridge.testkit.SftpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SFTP source end to end: a real SFTP server, the real application, the embedded GTF sandbox. */
class SftpSourceTest {

    /** Characters that would break a URI if the password were not passed RAW. */
    static final String PASSWORD = "s3cr3t+Pa55&w=rd%";

    @TempDir
    Path tmp;

    /** The SFTP source on, against {@code server}, with test timings; {@code more} are key/value pairs that win. */
    static Map<String, String> sftp(SftpServer server, Path tmp, String... more) {
        Map<String, String> p = new HashMap<>();
        p.put("ktp.source.sftp.enabled", "true");
        p.put("ktp.source.sftp.host", "127.0.0.1");
        p.put("ktp.source.sftp.port", String.valueOf(server.port()));
        p.put("ktp.source.sftp.user", server.user());
        p.put("ktp.source.sftp.password", PASSWORD);
        // tests only: production keeps the default 'yes' with a known_hosts file (see keyLoginWith...)
        p.put("ktp.source.sftp.strict-host-key-checking", "no");
        p.put("ktp.source.sftp.known-hosts-file", tmp.resolve("no-known-hosts").toString());
        p.put("ktp.source.sftp.directory", "inbox");
        p.put("ktp.source.sftp.poll-delay", "200");
        p.put("ktp.source.sftp.read-lock-min-age", "0");
        p.put("ktp.source.sftp.read-lock-check-interval", "100");
        p.put("ktp.source.sftp.connect-timeout", "5000");
        for (int i = 0; i < more.length; i += 2) {
            p.put(more[i], more[i + 1]);
        }
        return p;
    }

    @Test
    void imagesOnTheServerGetOneResultEachAndMoveToTheDoneFolder() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture logs = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Files.write(inbox.resolve("u5001.png"), SampleImages.card("u5001", "png"));
            Files.write(inbox.resolve("u5002.jpg"), SampleImages.card("u5002", "jpg"));
            Files.writeString(inbox.resolve("u5003.json"),
                    "{\"partnerUserId\":\"cust-5003\",\"partnerUserIdType\":\"CLIENT_X_USER_ID\",\"metadata\":{\"k\":\"v\"}}");
            Files.write(inbox.resolve("u5003.png"), SampleImages.card("u5003", "png"));
            Files.writeString(inbox.resolve("u5004-text.jpg"), "not a picture", StandardCharsets.UTF_8);
            Files.writeString(inbox.resolve("u5005.json"), "{ not json", StandardCharsets.UTF_8);
            Files.write(inbox.resolve("u5005.png"), SampleImages.card("u5005", "png"));
            Files.write(inbox.resolve("u5006-empty.png"), new byte[0]);
            Files.writeString(inbox.resolve("notes.txt"), "left alone", StandardCharsets.UTF_8);
            Path branch = Files.createDirectories(inbox.resolve("branch-a"));
            Files.writeString(branch.resolve("u5007.json"), "{\"partnerUserId\":\"cust-5007\"}");
            Files.write(branch.resolve("u5007.jpg"), SampleImages.card("u5007", "jpg"));

            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"),
                    sftp(server, tmp, "ktp.source.sftp.recursive", "true"))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 7);
                Map<String, JsonNode> results = Results.bySourceFile(app.results());
                for (String ok : List.of("u5001.png", "u5002.jpg", "u5003.png", "branch-a/u5007.jpg")) {
                    assertEquals("COMPLETED", results.get(ok).path("status").asText(), ok);
                    assertEquals("sftp", results.get(ok).path("sourceType").asText(), ok);
                    await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(server.path("/inbox/.done/" + ok)));
                    assertFalse(Files.exists(inbox.resolve(ok)), ok);
                }
                assertEquals("u5001", results.get("u5001.png").path("partnerUserId").asText());
                assertEquals("sftp://127.0.0.1:" + server.port() + "/inbox/branch-a/u5007.jpg",
                        results.get("branch-a/u5007.jpg").path("sourceRef").asText());
                // the sidecar on the server sets the partner user and follows its image
                assertEquals("cust-5003", results.get("u5003.png").path("partnerUserId").asText());
                assertEquals("CLIENT_X_USER_ID", results.get("u5003.png").path("partnerUserIdType").asText());
                assertEquals(1, app.sandbox().tokenIssuedCount("cust-5003"));
                await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(server.path("/inbox/.done/u5003.json")));
                assertFalse(Files.exists(inbox.resolve("u5003.json")));
                // a sub-folder (recursive=true) keeps its path in the done folder, sidecar included
                assertEquals("cust-5007", results.get("branch-a/u5007.jpg").path("partnerUserId").asText());
                await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(server.path("/inbox/.done/branch-a/u5007.jpg"))
                        && Files.exists(server.path("/inbox/.done/branch-a/u5007.json")));

                Map<String, String> rejected = Map.of("u5004-text.jpg", "UNSUPPORTED_FORMAT",
                        "u5005.png", "INVALID_SIDECAR", "u5006-empty.png", "EMPTY_FILE");
                for (var e : rejected.entrySet()) {
                    JsonNode r = results.get(e.getKey());
                    assertEquals("REJECTED", r.path("status").asText(), e.getKey());
                    assertEquals(e.getValue(), r.path("reasonCode").asText(), e.getKey());
                    Path report = server.path("/inbox/.failed/" + e.getKey() + ".error.json");
                    // the report is uploaded first and the image renamed after it: both are waited for
                    await().atMost(Duration.ofSeconds(5)).ignoreExceptions()
                            .until(() -> Files.exists(server.path("/inbox/.failed/" + e.getKey()))
                                    && Results.parse(report).has("reasonCode"));
                    assertEquals(e.getValue(), Results.parse(report).path("reasonCode").asText(), e.getKey());
                    assertEquals(e.getKey(), Results.parse(report).path("sourceFile").asText());
                }
                await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(server.path("/inbox/.failed/u5005.json")));

                // nothing else left the inbox, nothing else was submitted, sidecars were never inputs
                try (Stream<Path> left = Files.list(inbox)) {
                    assertEquals(List.of("branch-a", "notes.txt"), left.map(p -> p.getFileName().toString())
                            .filter(n -> !n.startsWith(".")).sorted().toList());
                }
                try (Stream<Path> left = Files.list(branch)) {
                    assertEquals(0, left.count());
                }
                // the done and failed folders inside the inbox are not polled again (dot folders are skipped)
                await().during(Duration.ofMillis(800)).atMost(Duration.ofMillis(10_800))
                        .until(() -> Results.count(app.results()) == 7);
                assertEquals(4, app.sandbox().submissionCount());
                assertEquals(7, app.ledger().createdSince(0).size());
                try (Stream<Path> work = Files.list(tmp.resolve("data/sftp-work"))) {
                    assertEquals(0, work.filter(Files::isRegularFile).count(), "local copies are removed");
                }
                LedgerRecord row = app.ledger().createdSince(0).stream()
                        .filter(r -> r.sourceFile().equals("u5001.png")).findFirst().orElseThrow();
                assertEquals("sftp://127.0.0.1:" + server.port() + "/inbox/u5001.png", row.sourceRef());
            }
            assertTrue(logs.text().contains("SFTP source checked"), "the capture saw the application's log");
            assertFalse(logs.text().contains(PASSWORD), "the password is in the log");
        }
    }

    @Test
    void aDownloadThatBreaksOffIsTakenAgainAtALaterPoll() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            server.failNextRead("u5401.png");
            Files.write(inbox.resolve("u5401.png"), SampleImages.card("u5401", "png"));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                        && Files.exists(server.path("/inbox/.done/u5401.png")));
                assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
                assertTrue(log.text().contains("SFTP source: a file could not be downloaded"), log.text());
                assertFalse(log.text().contains("u5401"), "the file name (it may hold a NIK) is in the log");
            }
        }
    }

    @Test
    void aMoveCutOffByALostConnectionIsDoneByALaterPollWithoutASecondSubmission() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            server.dropConnectionOnMoveOf("u5405.png");
            Files.write(inbox.resolve("u5405.png"), SampleImages.card("u5405", "png"));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(server.path("/inbox/.done/u5405.png")));
                assertFalse(Files.exists(inbox.resolve("u5405.png")));
                await().atMost(Duration.ofSeconds(10)).until(() -> Results.count(app.results()) == 1);
                assertEquals(1, app.sandbox().submissionCount(), "moved later, submitted once");
                assertTrue(log.text().contains("the connection to the source went while its file was moved"), log.text());
                assertFalse(log.text().contains("u5405"), "the file name (it may hold a NIK) is in the log");
            }
        }
    }

    @Test
    void aMoveWhoseReplyIsLostIsFoundMadeAndTheSameImageUploadedAgainIsRejectedAsADuplicate() throws Exception {
        byte[] image = SampleImages.card("u5406", "png");
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            // the move to the done folder is made, then the connection goes before its reply
            server.loseReplyToMoveOf("u5406.png");
            Files.write(inbox.resolve("u5406.png"), image);
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                        && Files.exists(server.path("/inbox/.done/u5406.png")));
                // the source let go of it: no later poll would, the file being in the done folder already
                await().atMost(Duration.ofSeconds(10)).until(() -> unreleased(app) == 0);
                assertTrue(log.text().contains("the move was made"), log.text());

                // the same bytes uploaded again under the same name: a new input, a duplicate of the first
                uploadedAgainIsADuplicate(server, app, "u5406.png", image);
                assertFalse(log.text().contains("u5406"), "the file name (it may hold a NIK) is in the log");
            }
        }
    }

    @Test
    void aQuarantineCutOffByALostConnectionIsDoneByALaterPollWithoutASecondResult() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            // twice: the quarantine's own session tries once more on a new one
            server.dropConnectionOnMoveOf("u5407-text.png", 2);
            Files.writeString(inbox.resolve("u5407-text.png"), "not an image");
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(server.path("/inbox/.failed/u5407-text.png")));
                assertFalse(Files.exists(inbox.resolve("u5407-text.png")));
                assertTrue(Files.exists(server.path("/inbox/.failed/u5407-text.png.error.json")));
                await().atMost(Duration.ofSeconds(10)).until(() -> Results.count(app.results()) == 1);
                // one result, not one per attempt
                await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(11))
                        .until(() -> Results.count(app.results()) == 1);
                assertEquals("UNSUPPORTED_FORMAT", Results.read(app.results()).get(0).path("reasonCode").asText());
                assertTrue(log.text().contains("went while the failed input was moved"), log.text());
                assertFalse(log.text().contains("u5407"), "the file name (it may hold a NIK) is in the log");
            }
        }
    }

    @Test
    void aQuarantineWhoseReplyIsLostIsFoundMadeAndTheSameFileUploadedAgainGetsAResultOfItsOwn() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            // the move to the failed folder is made, then the connection goes before its reply: the
            // sidecar session asks again on a new one, and finds the file no longer in the inbox
            server.loseReplyToMoveOf("u5408-text.png");
            Files.writeString(inbox.resolve("u5408-text.png"), "not an image");
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                        && Files.exists(server.path("/inbox/.failed/u5408-text.png")));
                // the source let go of it: no later poll would, the file being in the failed folder already
                await().atMost(Duration.ofSeconds(10)).until(() -> unreleased(app) == 0);
                assertFalse(log.text().contains("could not be moved to"), log.text());
                assertTrue(Files.exists(server.path("/inbox/.failed/u5408-text.png.error.json")));

                // the same bytes uploaded again under the same name: a new input, with a result of its own
                Path again = Files.writeString(inbox.resolve("u5408-text.png"), "not an image");
                Files.setLastModifiedTime(again, FileTime.fromMillis(System.currentTimeMillis() + 5_000));
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2
                        && !Files.exists(inbox.resolve("u5408-text.png")));
                assertEquals(List.of("UNSUPPORTED_FORMAT", "UNSUPPORTED_FORMAT"), Results.read(app.results()).stream()
                        .map(r -> r.path("reasonCode").asText()).toList());
                await().atMost(Duration.ofSeconds(10)).until(() -> unreleased(app) == 0);
                assertFalse(log.text().contains("u5408"), "the file name (it may hold a NIK) is in the log");
            }
        }
    }

    @Test
    void aQuarantineWhoseReplyIsLostAndWhoseSecondTryIsCutOffIsFoundMade() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            // made, its reply lost; then the second try, on a new session, loses its connection too
            // as it asks whether the file is still in the inbox
            server.loseReplyToMoveOfThenDropTheNextLook("u5412-text.png");
            Files.writeString(inbox.resolve("u5412-text.png"), "not an image");
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                        && log.text().contains("went while the failed input was moved"));
                // a later poll would never see the file, in the failed folder already: let go of now
                await().atMost(Duration.ofSeconds(10)).until(() -> unreleased(app) == 0);
                assertEquals(1, server.movesAsked("u5412-text.png"));
                assertTrue(log.text().contains("but the move was made"), log.text());
                assertFalse(log.text().contains("a later poll moves it"), log.text());
                assertFalse(Files.exists(inbox.resolve("u5412-text.png")));
                assertTrue(Files.exists(server.path("/inbox/.failed/u5412-text.png")));
                assertTrue(Files.exists(server.path("/inbox/.failed/u5412-text.png.error.json")));
                assertFalse(log.text().contains("u5412"), "the file name (it may hold a NIK) is in the log");
            }
        }
    }

    @Test
    void aLongNameGoingInBesideAnEarlierFileOfItsNameIsCutToFit() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            // 240 bytes, the most a download takes is 244: beside the earlier file, as <ledger id>-<name>,
            // it would have 277, over the 255 a Linux file system takes
            String name = "u5409-" + "a".repeat(230) + ".png";
            assertEquals(240, name.length());
            Files.writeString(Files.createDirectories(server.path("/inbox/.failed")).resolve(name), "an earlier one");
            Files.writeString(inbox.resolve(name), "not an image");
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
                String ledgerId = Results.read(app.results()).get(0).path("ledgerId").asText();
                await().atMost(Duration.ofSeconds(10)).until(() -> !Files.exists(inbox.resolve(name)));
                try (Stream<Path> failed = Files.list(server.path("/inbox/.failed"))) {
                    List<String> names = failed.map(p -> p.getFileName().toString())
                            .filter(n -> n.startsWith(ledgerId)).sorted().toList();
                    assertEquals(2, names.size(), names.toString());
                    String image = names.get(0);
                    assertTrue(image.startsWith(ledgerId + "-u5409-aaa") && image.endsWith(".png"), image);
                    assertEquals(image + ".error.json", names.get(1));
                    assertTrue(names.get(1).length() <= 255, names.get(1));
                    assertEquals("not an image", Files.readString(server.path("/inbox/.failed/" + image)));
                }
                assertEquals("an earlier one", Files.readString(server.path("/inbox/.failed/" + name)));
            }
        }
    }

    @Test
    void aNameTooLongToDownloadIsLeftOnTheServerWithAWarning() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            // 250 bytes: Camel would download it as <name>.inprogress, 261 bytes, at every poll in vain
            String name = "u5410-" + "a".repeat(240) + ".png";
            Files.write(inbox.resolve(name), SampleImages.card("u5410", "png"));
            Files.write(inbox.resolve("u5411.png"), SampleImages.card("u5411", "png"));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
                assertEquals("u5411.png", Results.read(app.results()).get(0).path("sourceFile").asText());
                // it stays on the server, without a result
                await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(12))
                        .until(() -> Files.exists(inbox.resolve(name)) && Results.count(app.results()) == 1);
                assertTrue(log.text().contains("a file whose name has more than 244 bytes is left on the server (downloaded"), log.text());
                assertFalse(log.text().contains("could not be downloaded"), log.text());
                assertFalse(log.text().contains("u5410"), "the file name (it may hold a NIK) is in the log");
            }
        }
    }

    @Test
    void aSidecarMoveWhoseReplyIsLostIsNotUndoneByItsSecondTry() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Files.writeString(inbox.resolve("u5731.json"), "{\"partnerUserId\": \"cust-5731\"}");
            Files.write(inbox.resolve("u5731.png"), SampleImages.card("u5731", "png"));
            // the move is made, then the connection goes before its reply: the sidecar session asks again
            // on a new one, and finds the sidecar gone from the inbox and already in the done folder
            server.loseReplyToMoveOf("u5731.json");
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(server.path("/inbox/.done/u5731.png")));
                await().atMost(Duration.ofSeconds(10)).until(() -> server.movesAsked("u5731.json") == 2);
                await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(11))
                        .until(() -> Files.exists(server.path("/inbox/.done/u5731.json"))
                                && !Files.exists(inbox.resolve("u5731.json")));
                assertEquals(2, server.movesAsked("u5731.json"), "moved once, asked once more");
                assertFalse(log.text().contains("Could not move a sidecar"), log.text());
                assertFalse(log.text().contains("u5731"), "the file name (it may hold a NIK) is in the log");
            }
        }
    }

    @Test
    void aSidecarLeftBehindByItsImageIsNotAppliedToALaterImageOfItsName() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Path sidecar = inbox.resolve("u5741.json");
            // the server refuses to move the sidecar: it stays in the inbox when its image goes to done
            server.refuseMovesOf("u5741.json");
            Files.writeString(sidecar, "{\"partnerUserId\": \"cust-5741\"}");
            Files.write(inbox.resolve("u5741.png"), SampleImages.card("u5741-1", "png"));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                Set<String> seen = new java.util.HashSet<>();
                assertEquals("cust-5741", nextResult(app, inbox.resolve("u5741.png"), seen).path("partnerUserId").asText());
                // after the image's move
                await().atMost(Duration.ofSeconds(5)).until(() -> log.count("Could not move a sidecar") == 1);
                assertTrue(Files.exists(sidecar), "the sidecar stayed");

                // the name reused later, without a sidecar: the one left behind is not its own (before, it
                // was submitted under the earlier person's partner user and metadata)
                Path image = Files.write(inbox.resolve("u5741.png"), SampleImages.card("u5741-2", "png"));
                Files.setLastModifiedTime(image, FileTime.fromMillis(System.currentTimeMillis() + 2_000));
                assertEquals("u5741", nextResult(app, image, seen).path("partnerUserId").asText());

                // a sidecar written anew (another size and time) is the next image's own
                Files.writeString(sidecar, "{\"partnerUserId\": \"cust-5741-b\"}");
                Files.setLastModifiedTime(sidecar, FileTime.fromMillis(System.currentTimeMillis() + 3_000));
                image = Files.write(inbox.resolve("u5741.png"), SampleImages.card("u5741-3", "png"));
                Files.setLastModifiedTime(image, FileTime.fromMillis(System.currentTimeMillis() + 4_000));
                assertEquals("cust-5741-b", nextResult(app, image, seen).path("partnerUserId").asText());

                // once the server moves it again, the sidecar left behind goes where it should have gone
                // when the next image of its name comes, and is not applied to it either
                server.allowMovesOf("u5741.json");
                image = Files.write(inbox.resolve("u5741.png"), SampleImages.card("u5741-4", "png"));
                Files.setLastModifiedTime(image, FileTime.fromMillis(System.currentTimeMillis() + 6_000));
                assertEquals("u5741", nextResult(app, image, seen).path("partnerUserId").asText());
                await().atMost(Duration.ofSeconds(5)).until(() -> !Files.exists(sidecar));
                try (Stream<Path> done = Files.list(server.path("/inbox/.done"))) {
                    assertEquals(1, done.filter(p -> p.getFileName().toString().endsWith("-u5741.json")).count());
                }
                assertEquals(4, app.sandbox().submissionCount());
                assertFalse(log.text().contains("u5741"), "the file name (it may hold a NIK) is in the log");
            }
        }
    }

    /** The result of the image at {@code image} once it has left the inbox: the one not {@code seen} before. */
    private static JsonNode nextResult(BridgeApp app, Path image, Set<String> seen) {
        await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == seen.size() + 1
                && !Files.exists(image));
        JsonNode result = Results.read(app.results()).stream()
                .filter(r -> !seen.contains(r.path("ledgerId").asText())).findFirst().orElseThrow();
        seen.add(result.path("ledgerId").asText());
        assertEquals("COMPLETED", result.path("status").asText(), result.toString());
        return result;
    }

    @Test
    void aFileTheLoginMayNotReadIsTriedAgainLaterNotInALoop() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            // another account's upload, mode 0600: listed, but not readable by the bundle's login
            server.refuseReadsOf("u5403.png");
            Files.write(inbox.resolve("u5403.png"), SampleImages.card("u5403", "png"));
            Files.write(inbox.resolve("u5404.png"), SampleImages.card("u5404", "png"));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
                assertEquals("u5404.png", Results.read(app.results()).get(0).path("sourceFile").asText());
                await().atMost(Duration.ofSeconds(10)).until(() -> server.readsRefused() >= 1);
                // polls come every 200 ms here: the refused file is not listed, claimed and refused at each
                await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
                        .until(() -> server.readsRefused() <= 2 && log.count("may not be read by the bundle's login") == 1);
                assertTrue(Files.exists(inbox.resolve("u5403.png")), "it stays on the server");
                assertFalse(log.text().contains("u5403"), "the file name (it may hold a NIK) is in the log");
            }
        }
    }

    @Test
    void aSidecarTheServerCannotHandOverNowLeavesItsImageForALaterPoll() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            // the first look-up and its second try on a new session both fail
            server.failNextReads("u5411.json", 2);
            Files.writeString(inbox.resolve("u5411.json"), "{\"partnerUserId\": \"cust-5411\"}");
            Files.write(inbox.resolve("u5411.png"), SampleImages.card("u5411", "png"));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                        && Files.exists(server.path("/inbox/.done/u5411.png")));
                JsonNode result = Results.read(app.results()).get(0);
                assertEquals("COMPLETED", result.path("status").asText(), result.toString());
                assertEquals("cust-5411", result.path("partnerUserId").asText(), "submitted under its sidecar's user");
                assertEquals(1, app.sandbox().submissionCount());
                assertTrue(log.text().contains("Could not read a sidecar"), log.text());
                assertTrue(Files.exists(server.path("/inbox/.done/u5411.json")), "the sidecar followed its image");
                assertFalse(Files.exists(server.path("/inbox/.failed")) && Files.list(server.path("/inbox/.failed"))
                        .findAny().isPresent(), "nothing was quarantined");
            }
        }
    }

    @Test
    void anImageWhoseSidecarKeepsFailingIsRejectedAfterItsTries() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            // every read of the sidecar fails: each look, and its second try on a new session
            server.failNextReads("u5412.json", 1_000);
            Files.writeString(inbox.resolve("u5412.json"), "{\"partnerUserId\": \"cust-5412\"}");
            Files.write(inbox.resolve("u5412.png"), SampleImages.card("u5412", "png"));
            // 0: rejected at the 5th failed look-up, however fast they came
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp,
                    "ktp.source.sftp.broken-read-window", "0"))) {
                await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 1);
                JsonNode result = Results.read(app.results()).get(0);
                assertEquals("REJECTED", result.path("status").asText(), result.toString());
                assertEquals("INVALID_SIDECAR", result.path("reasonCode").asText());
                assertTrue(result.path("errorMessage").asText().contains("5 times in a row"), result.toString());
                assertEquals(0, app.sandbox().submissionCount());
                assertEquals(1, app.ledger().createdSince(0).size(), "the tries before left no rows");
            }
        }
    }

    @Test
    void aListingClaimsAtMostBatchSizeFilesAndTheNextListingFollowsAtOnce() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            for (int i = 10; i < 20; i++) {
                Files.write(inbox.resolve("u542" + i + ".png"), SampleImages.card("u542" + i, "png"));
            }
            // one worker and slow OneKYC calls: the files of a listing wait their turn; a long poll
            // delay that only greedy listing gets past within the wait below
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp, "ktp.source.batch-size", "2",
                    "ktp.concurrency", "1", "gtf.sandbox.faults.latency", "150", "ktp.source.sftp.poll-delay", "60000"))) {
                int most = 0;
                long until = System.currentTimeMillis() + 60_000;
                while (Results.count(app.results()) < 10 && System.currentTimeMillis() < until) {
                    most = Math.max(most, openClaims(app));
                    Thread.sleep(20);
                }
                assertEquals(10, Results.count(app.results()));
                // in cluster mode an open claim keeps the file from the other replicas: at most the
                // listing's two, plus the two the worker pool holds (one running, one queued)
                assertTrue(most <= 4, "open claims at once: " + most);
                assertTrue(most >= 1, "the claims were seen");
            }
        }
    }

    private static int openClaims(BridgeApp app) throws java.sql.SQLException {
        try (var c = app.ledger().dataSource().getConnection(); var st = c.createStatement();
             var rs = st.executeQuery("SELECT COUNT(*) FROM ktp_processed_input WHERE confirmed_at IS NULL"
                     + " AND input_key LIKE '%u542%'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void withHostKeyCheckingOffTheServersKeyIsNotWrittenToTheKnownHostsFile() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Files.write(inbox.resolve("u5431.png"), SampleImages.card("u5431", "png"));
            // an existing known_hosts: a key written there unchecked would be trusted once checking is on
            Path knownHosts = Files.writeString(tmp.resolve("known_hosts"), "");
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp,
                    "ktp.source.sftp.known-hosts-file", knownHosts.toString()))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                        && Files.exists(server.path("/inbox/.done/u5431.png")));
            }
            assertEquals("", Files.readString(knownHosts));
        }
    }

    @Test
    void theFilesAListingHadClaimedBeforeItBrokeOffAreTakenAtTheNextPoll() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            // listed after the images (name order), and its listing fails: the poll breaks off there
            Files.createDirectories(inbox.resolve("zz-unreadable"));
            server.failListing("zz-unreadable");
            Files.write(inbox.resolve("u5451.png"), SampleImages.card("u5451", "png"));
            Files.write(inbox.resolve("u5452.png"), SampleImages.card("u5452", "png"));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp,
                    "ktp.source.sftp.recursive", "true", "ktp.source.sftp.error-backoff-polls", "2"))) {
                await().atMost(Duration.ofSeconds(20)).until(() -> server.listingsRefused() >= 2);
                assertEquals(0, Results.count(app.results()), "nothing is taken from a listing that broke off");
                server.allowListing("zz-unreadable");
                // before, the two claims stayed until ktp.source.claim-ttl (10 min) ran out
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);
                assertTrue(log.text().contains("a listing broke off; the 2 file(s) it had claimed"), log.text());
                assertEquals(Set.of("u5451.png", "u5452.png"), Results.bySourceFile(app.results()).keySet());
                assertEquals(2, app.sandbox().submissionCount());
            }
        }
    }

    @Test
    void aSubFolderTheLoginMayNotListIsLeftOutAndTheOthersAreTaken() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            // another team's folder (mode 0700 on a real server), listed after the images
            Files.createDirectories(inbox.resolve("zz-private"));
            server.refuseListingOf("zz-private");
            Files.write(inbox.resolve("u5455.png"), SampleImages.card("u5455", "png"));
            Files.createDirectories(inbox.resolve("a-team"));
            Files.write(inbox.resolve("a-team/u5456.png"), SampleImages.card("u5456", "png"));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp,
                    "ktp.source.sftp.recursive", "true", "ktp.source.sftp.error-backoff-polls", "2"))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);
                assertEquals(Set.of("u5455.png", "a-team/u5456.png"), Results.bySourceFile(app.results()).keySet());
                // left out of the polls after the first refusal (one per consumer: the oversized files'
                // listing may have met it too before it was noted), not asked again every poll
                int refused = server.listingsRefused();
                assertTrue(refused >= 1 && refused <= 2, "refused " + refused);
                await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
                        .until(() -> server.listingsRefused() == refused);
                assertTrue(log.text().contains("1 sub-folder(s) of the directory may not be listed"), log.text());
                assertFalse(log.text().contains("zz-private"), "no folder names in the log");
            }
        }
    }

    @Test
    void filesTheServerRefusesToMoveAreSaidOnceNotDownloadedAgainAndMovedByTheNextStart() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            // the images' moves only: their sidecars' moves would go through
            server.refuseMovesOf("u5461.png");
            server.refuseMovesOf("u5462-text.png");
            Files.write(inbox.resolve("u5461.png"), SampleImages.card("u5461", "png"));
            Files.writeString(inbox.resolve("u5461.json"), "{\"partnerUserId\": \"u5461\"}");
            Files.write(inbox.resolve("u5462-text.png"), "not a picture\n".getBytes(StandardCharsets.UTF_8));
            Files.writeString(inbox.resolve("u5462-text.json"), "{\"partnerUserId\": \"u5462\"}");
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 2
                        && log.text().contains("could not move or delete its file")
                        && log.text().contains("could not be moved to"));
                Map<String, JsonNode> results = Results.bySourceFile(app.results());
                assertEquals("COMPLETED", results.get("u5461.png").path("status").asText());
                assertEquals("UNSUPPORTED_FORMAT", results.get("u5462-text.png").path("reasonCode").asText());
                long done = server.bytesRead("u5461.png");
                long failed = server.bytesRead("u5462-text.png");
                // later listings (every 200 ms) leave both alone
                await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(12))
                        .until(() -> Results.count(app.results()) == 2);
                assertEquals(done, server.bytesRead("u5461.png"), "downloaded again");
                assertEquals(failed, server.bytesRead("u5462-text.png"), "downloaded again");
                assertTrue(Files.exists(inbox.resolve("u5461.png")));
                assertTrue(Files.exists(inbox.resolve("u5462-text.png")));
                assertTrue(Files.exists(inbox.resolve("u5462-text.json")), "the sidecar stays beside its image");
                assertTrue(Files.exists(inbox.resolve("u5461.json")), "the sidecar stays beside its image");
                assertEquals(1, log.count("could not move or delete its file"), log.text());
                assertEquals(1, log.count("could not be moved to"), log.text());
                assertFalse(log.text().contains("u546"), "a file name (it may hold a NIK) is in the log");
            }
            // the folders fixed: the next start moves both away, without a second submission or result
            server.allowMovesOf("u5461.png");
            server.allowMovesOf("u5462-text.png");
            try (BridgeApp again = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(inbox.resolve(".done/u5461.png"))
                        && Files.exists(inbox.resolve(".failed/u5462-text.png"))
                        && Files.exists(inbox.resolve(".failed/u5462-text.json"))
                        && Files.exists(inbox.resolve(".done/u5461.json")));
                assertFalse(Files.exists(inbox.resolve("u5461.png")));
                assertFalse(Files.exists(inbox.resolve("u5462-text.png")));
                assertEquals(0, again.sandbox().submissionCount(), "submitted again");
                assertEquals(2, Results.count(again.results()), "a second result");
            }
        }
    }

    @Test
    void aNameAlreadyInTheDoneOrFailedFolderIsKeptAndTheNewcomerGoesInBesideItWithItsSidecar() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            byte[] monday = SampleImages.card("monday", "png");
            byte[] tuesday = SampleImages.card("tuesday", "png");
            Files.write(inbox.resolve("u5481.png"), monday);
            Files.write(inbox.resolve("u5482.png"), "not a picture, monday".getBytes(StandardCharsets.UTF_8));
            Files.writeString(inbox.resolve("u5482.json"), "{\"partnerUserId\": \"u5482-a\"}");
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 2
                        && Files.exists(inbox.resolve(".done/u5481.png")) && Files.exists(inbox.resolve(".failed/u5482.json")));
                Files.writeString(inbox.resolve("u5481.json"), "{\"partnerUserId\": \"u5481-b\"}");
                Files.write(inbox.resolve("u5481.png"), tuesday);
                Files.writeString(inbox.resolve("u5482.json"), "{\"partnerUserId\": \"u5482-b\"}");
                Files.write(inbox.resolve("u5482.png"), "not a picture, tuesday".getBytes(StandardCharsets.UTF_8));
                await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 4);
                Map<String, String> ledgerIds = Results.read(app.results()).stream().collect(Collectors.toMap(
                        r -> r.path("partnerUserId").asText(), r -> r.path("ledgerId").asText()));
                String done = ledgerIds.get("u5481-b");
                String failed = ledgerIds.get("u5482-b");
                await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(inbox.resolve(".done/" + done + "-u5481.png"))
                        && Files.exists(inbox.resolve(".failed/" + failed + "-u5482.json")));
                assertArrayEquals(monday, Files.readAllBytes(inbox.resolve(".done/u5481.png")), "the earlier image is kept");
                assertArrayEquals(tuesday, Files.readAllBytes(inbox.resolve(".done/" + done + "-u5481.png")));
                assertTrue(Files.exists(inbox.resolve(".done/" + done + "-u5481.json")), "the sidecar follows its image");
                assertTrue(Files.readString(inbox.resolve(".failed/u5482.json")).contains("u5482-a"),
                        "the earlier failed image keeps its sidecar");
                assertTrue(Files.readString(inbox.resolve(".failed/" + failed + "-u5482.json")).contains("u5482-b"));
                assertTrue(Files.exists(inbox.resolve(".failed/" + failed + "-u5482.png")));
            }
        }
    }

    @Test
    void namesWithWildcardCharactersAreTakenAsTheyAreAndNotLogged() throws Exception {
        // a '?' is what a wrong character set often leaves in a name; JSch reads '*' and '?' as wildcards
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Files.write(inbox.resolve("u55?1.png"), SampleImages.card("u55?1", "png"));
            Files.write(inbox.resolve("u55?3.png"), SampleImages.card("u55?3", "png"));
            Files.writeString(inbox.resolve("u55?3.json"), "{\"partnerUserId\": \"u5503-b\"}");
            Files.write(inbox.resolve("u55*2.png"), "not a picture".getBytes(StandardCharsets.UTF_8));
            Files.writeString(inbox.resolve("u55*2.json"), "{\"partnerUserId\": \"u5502-b\"}");
            // a backslash JSch would drop (taken as 'u5504.png'): left on the server
            Files.write(inbox.resolve("u55\\04.png"), SampleImages.card("u55-04", "png"));
            // what 'u55?3.png' matches as a pattern there: kept
            Path earlier = Files.write(Files.createDirectories(inbox.resolve(".done")).resolve("u5513.png"), new byte[] {1});
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 3);
                Map<String, JsonNode> results = Results.bySourceFile(app.results());
                // no sidecar: its name is no partner user id (not "could not look up its sidecar", five times)
                assertEquals("INVALID_PARTNER_USER_ID", results.get("u55?1.png").path("reasonCode").asText(),
                        results.toString());
                assertEquals("COMPLETED", results.get("u55?3.png").path("status").asText());
                assertEquals("u5503-b", results.get("u55?3.png").path("partnerUserId").asText(), "its own sidecar");
                assertEquals("UNSUPPORTED_FORMAT", results.get("u55*2.png").path("reasonCode").asText());
                String one = results.get("u55?1.png").path("ledgerId").asText();
                String two = results.get("u55*2.png").path("ledgerId").asText();
                String three = results.get("u55?3.png").path("ledgerId").asText();
                // moved away as <ledger id>-<name with '_' for the wildcards>, sidecars alike
                await().atMost(Duration.ofSeconds(15)).until(() -> StopAndResume.names(inbox).equals(List.of("u55\\04.png")));
                for (String moved : List.of(".failed/" + one + "-u55_1.png", ".failed/" + one + "-u55_1.png.error.json",
                        ".failed/" + two + "-u55_2.png", ".failed/" + two + "-u55_2.png.error.json",
                        ".failed/" + two + "-u55_2.json", ".done/" + three + "-u55_3.png", ".done/" + three + "-u55_3.json")) {
                    assertTrue(Files.exists(inbox.resolve(moved)), moved);
                }
                assertTrue(Files.exists(earlier), "a file the name matches as a pattern is deleted");
                assertTrue(log.text().contains("a file whose name has a backslash is left on the server"), log.text());
                assertEquals(3, Results.count(app.results()), "the backslash name was taken");
                assertFalse(log.text().contains("u55"), "a file name (it may hold a NIK) is in the log");
            }
        }
    }

    @Test
    void withDeleteANameWithWildcardsIsLeftOnTheServerSoItsDeleteCannotMatchOtherFiles() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Files.write(inbox.resolve("u55?6.png"), SampleImages.card("u55?6", "png"));
            Files.writeString(inbox.resolve("u55?6.json"), "{\"partnerUserId\": \"u5506-b\"}");
            Files.write(inbox.resolve("u5507.png"), SampleImages.card("u5507", "png"));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp,
                    "ktp.source.sftp.after-success", "delete"))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                        && log.text().contains("a file whose name has '*' or '?' and after-success=delete is left"));
                await().atMost(Duration.ofSeconds(15)).until(() -> !Files.exists(inbox.resolve("u5507.png")));
                assertEquals(Set.of("u5507.png"), Results.bySourceFile(app.results()).keySet());
                assertTrue(Files.exists(inbox.resolve("u55?6.png")));
                assertTrue(Files.exists(inbox.resolve("u55?6.json")));
                assertFalse(log.text().contains("u55"), "a file name (it may hold a NIK) is in the log");
            }
        }
    }

    @Test
    void anImageWhoseSidecarNameIsTakenInTheDoneOrFailedFolderGoesInBesideIt() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            // u5491.jpg after u5491.png (and u5492.jpg after u5492.png): the same sidecar name
            Files.writeString(inbox.resolve("u5491.json"), "{\"partnerUserId\": \"u5491-a\"}");
            Files.write(inbox.resolve("u5491.png"), SampleImages.card("u5491-a", "png"));
            Files.writeString(inbox.resolve("u5492.json"), "{\"partnerUserId\": \"u5492-a\"}");
            Files.write(inbox.resolve("u5492.png"), "not a picture, a".getBytes(StandardCharsets.UTF_8));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 2
                        && Files.exists(inbox.resolve(".done/u5491.json")) && Files.exists(inbox.resolve(".failed/u5492.json")));
                Files.writeString(inbox.resolve("u5491.json"), "{\"partnerUserId\": \"u5491-b\"}");
                Files.write(inbox.resolve("u5491.jpg"), SampleImages.card("u5491-b", "jpg"));
                Files.writeString(inbox.resolve("u5492.json"), "{\"partnerUserId\": \"u5492-b\"}");
                Files.write(inbox.resolve("u5492.jpg"), "not a picture, b".getBytes(StandardCharsets.UTF_8));
                await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 4);
                Map<String, String> ledgerIds = Results.read(app.results()).stream().collect(Collectors.toMap(
                        r -> r.path("partnerUserId").asText(), r -> r.path("ledgerId").asText()));
                String done = ledgerIds.get("u5491-b");
                String failed = ledgerIds.get("u5492-b");
                await().atMost(Duration.ofSeconds(15)).until(() -> Files.exists(inbox.resolve(".done/" + done + "-u5491.json"))
                        && Files.exists(inbox.resolve(".failed/" + failed + "-u5492.json")));
                assertTrue(Files.readString(inbox.resolve(".done/u5491.json")).contains("u5491-a"), "the earlier sidecar is kept");
                assertTrue(Files.readString(inbox.resolve(".done/" + done + "-u5491.json")).contains("u5491-b"));
                assertTrue(Files.exists(inbox.resolve(".done/" + done + "-u5491.jpg")), "the image goes in beside it too");
                assertTrue(Files.readString(inbox.resolve(".failed/u5492.json")).contains("u5492-a"), "the earlier sidecar is kept");
                assertTrue(Files.readString(inbox.resolve(".failed/" + failed + "-u5492.json")).contains("u5492-b"));
                assertTrue(Files.exists(inbox.resolve(".failed/" + failed + "-u5492.jpg")));
            }
        }
    }

    @Test
    void aFileReplacedOnTheServerWhileItIsSubmittedIsTakenAgainAsAnInputOfItsOwn() throws Exception {
        byte[] second = SampleImages.card("u5501-second", "png");
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Files.write(inbox.resolve("u5501.png"), SampleImages.card("u5501-first", "png"));
            // each OneKYC call takes a while, so the file can be replaced between download and confirm
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp,
                    "gtf.sandbox.faults.latency", "400ms"))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> app.ledger().createdSince(0).stream()
                        .anyMatch(r -> r.state() == SubmissionState.PRESIGNED));
                Path replaced = Files.write(inbox.resolve("u5501.png"), second);
                // the server's times are whole seconds: a replacement within the same one and of the same
                // size would look unchanged
                Files.setLastModifiedTime(replaced, FileTime.fromMillis(System.currentTimeMillis() + 5_000));

                await().atMost(Duration.ofSeconds(40)).until(() -> Results.count(app.results()) == 2);
                assertEquals(2, app.sandbox().submissionCount(), "each version submitted once");
                for (JsonNode r : Results.read(app.results())) {
                    assertEquals("COMPLETED", r.path("status").asText(), r.toString());
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> !Files.exists(inbox.resolve("u5501.png")));
                assertArrayEquals(second, Files.readAllBytes(server.path("/inbox/.done/u5501.png")));
            }
        }
    }

    @Test
    void theSameImageUploadedAgainAfterItsResultIsRejectedAsADuplicate() throws Exception {
        byte[] image = SampleImages.card("u5301", "png");
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Files.write(inbox.resolve("u5301.png"), image);
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                        && Files.exists(server.path("/inbox/.done/u5301.png")));

                uploadedAgainIsADuplicate(server, app, "u5301.png", image);
                assertFalse(Files.exists(inbox.resolve("u5301.png")));
            }
        }
    }

    @Test
    void deleteAfterSuccessRemovesTheImageAndItsSidecarFromTheServer() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Files.write(inbox.resolve("u5201.png"), SampleImages.card("u5201", "png"));
            Files.writeString(inbox.resolve("u5202.json"), "{\"partnerUserId\":\"cust-5202\"}");
            Files.write(inbox.resolve("u5202.jpg"), SampleImages.card("u5202", "jpg"));
            Files.writeString(inbox.resolve("u5203-text.png"), "not a picture", StandardCharsets.UTF_8);

            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"),
                    sftp(server, tmp, "ktp.source.sftp.after-success", "delete"))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 3);
                Map<String, JsonNode> results = Results.bySourceFile(app.results());
                assertEquals("COMPLETED", results.get("u5201.png").path("status").asText());
                assertEquals("cust-5202", results.get("u5202.jpg").path("partnerUserId").asText());
                assertEquals("REJECTED", results.get("u5203-text.png").path("status").asText());
                for (String gone : List.of("u5201.png", "u5202.jpg", "u5202.json")) {
                    await().atMost(Duration.ofSeconds(5)).until(() -> !Files.exists(inbox.resolve(gone)));
                }
                // a failure is still kept, with its report
                await().atMost(Duration.ofSeconds(5))
                        .until(() -> Files.exists(server.path("/inbox/.failed/u5203-text.png.error.json"))
                                && Files.exists(server.path("/inbox/.failed/u5203-text.png")));
                assertFalse(Files.exists(server.path("/inbox/.done")), "nothing is moved when deleting");
            }
        }
    }

    @Test
    void keyLoginWithAnEncryptedOpenSshKeyAndAKnownHostsFile() throws Exception {
        var clientKey = SftpServer.rsaKeyPair();
        // a server that refuses every password: only the key can log in
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "keyuser", null).authorize(clientKey.getPublic())) {
            Path key = SftpServer.writePrivateKey(clientKey, tmp.resolve("id_rsa"), "key-pass-phrase");
            assertTrue(Files.readString(key).startsWith("-----BEGIN OPENSSH PRIVATE KEY-----"));
            Path knownHosts = server.writeKnownHosts(tmp.resolve("known_hosts"));
            String trusted = Files.readString(knownHosts);
            Path inbox = Files.createDirectories(server.path("/drop/ktp"));
            Files.write(inbox.resolve("u5301.png"), SampleImages.card("u5301", "png"));

            Map<String, String> props = sftp(server, tmp,
                    "ktp.source.sftp.password", "",
                    "ktp.source.sftp.private-key-file", key.toString(),
                    "ktp.source.sftp.private-key-passphrase", "key-pass-phrase",
                    // the production default, with the server's key in known_hosts
                    "ktp.source.sftp.strict-host-key-checking", "yes",
                    "ktp.source.sftp.known-hosts-file", knownHosts.toString(),
                    "ktp.source.sftp.directory", "drop/ktp",
                    "ktp.source.sftp.done-dir", "../done",
                    "ktp.source.sftp.failed-dir", "../failed");
            try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(tmp.resolve("data"), props)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
                assertFalse(logs.text().contains("key-pass-phrase"), "the passphrase is in the log");
                JsonNode result = Results.read(app.results()).get(0);
                assertEquals("u5301.png", result.path("sourceFile").asText());
                assertEquals("COMPLETED", result.path("status").asText());
                await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(server.path("/drop/done/u5301.png")));
                assertTrue(server.logins() >= 2, "the start-up check and the consumer logged in with the key");
            }
            assertEquals(trusted, Files.readString(knownHosts), "known_hosts is read, not written");
        }
    }

    @Test
    void aFileStillBeingUploadedIsTakenOnlyOnceItHasStoppedChanging() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            byte[] image = SampleImages.card("u5601", "png");
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"),
                    sftp(server, tmp, "ktp.source.sftp.read-lock-min-age", "2500"))) {
                // an upload that takes about 1.2 s: a chunk every 150 ms, on a server whose clock is an
                // hour behind the bundle's (each write dates the file then)
                Path file = inbox.resolve("u5601.png");
                int chunk = image.length / 8 + 1;
                for (int off = 0; off < image.length; off += chunk) {
                    Files.write(file, Arrays.copyOfRange(image, off, Math.min(image.length, off + chunk)),
                            off == 0 ? new OpenOption[0] : new OpenOption[] {StandardOpenOption.APPEND});
                    Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
                    assertEquals(0, Results.count(app.results()), "taken while it was being written");
                    Thread.sleep(150);
                }
                await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 1);
                JsonNode result = Results.read(app.results()).get(0);
                assertEquals("COMPLETED", result.path("status").asText());
                assertEquals(image.length, result.path("sourceSize").asLong(), "the whole file was submitted");
            }
        }
    }

    @Test
    void aFutureDatedFileTheServerWillNotRedateIsLeftOutWithoutHoldingUpTheOthers() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            // another account's upload, its time kept from a device whose clock runs ahead; it sorts first
            Path ahead = Files.write(inbox.resolve("a5711.png"), SampleImages.card("a5711", "png"));
            Files.setLastModifiedTime(ahead, FileTime.fromMillis(System.currentTimeMillis()
                    + Duration.ofDays(1).toMillis()));
            server.refuseAttributesOf("a5711.png");
            Files.write(inbox.resolve("u5712.png"), SampleImages.card("u5712", "png"));
            try (LogCapture log = new LogCapture();
                 BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp,
                         "ktp.source.sftp.read-lock-min-age", "1000", "ktp.source.sftp.read-lock-timeout", "120000"))) {
                // taken, the first file would hold the read lock for its 2 minutes before the second's turn
                await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 1);
                assertEquals("u5712.png", Results.read(app.results()).get(0).path("sourceFile").asText());
                await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5))
                        .until(() -> Files.exists(ahead) && Results.count(app.results()) == 1);
                assertEquals(1, log.text().split("could not be dated now", -1).length - 1, log.text());
            }
        }
    }

    @Test
    void aFileDatedInTheFutureIsDatedNowAndTakenWithoutHoldingUpTheOthers() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Path ahead = Files.write(inbox.resolve("u5701.png"), SampleImages.card("u5701", "png"));
            FileTime tomorrow = FileTime.fromMillis(System.currentTimeMillis() + Duration.ofDays(1).toMillis());
            Files.setLastModifiedTime(ahead, tomorrow);
            // its sidecar, copied with it, is no image: it is left as it is
            Path sidecar = Files.writeString(inbox.resolve("u5701.json"), "{\"partnerUserId\": \"cust-5701\"}");
            Files.setLastModifiedTime(sidecar, tomorrow);
            Files.write(inbox.resolve("u5702.png"), SampleImages.card("u5702", "png"));
            try (LogCapture log = new LogCapture();
                 BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp,
                         "ktp.source.sftp.read-lock-min-age", "1000", "ktp.source.sftp.read-lock-timeout", "3000"))) {
                await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 2);
                assertEquals(List.of("COMPLETED", "COMPLETED"), Results.read(app.results()).stream()
                        .map(r -> r.path("status").asText()).collect(Collectors.toList()));
                await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(inbox.resolve(".done/u5701.png")));
                assertTrue(Files.getLastModifiedTime(inbox.resolve(".done/u5701.png")).toMillis()
                        <= System.currentTimeMillis(), "dated now on the server");
                assertTrue(log.text().contains("dated now so it can be taken"), log.text());
                assertFalse(log.text().contains("u5701"), "the file name is not logged");
                await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(inbox.resolve(".done/u5701.json")));
                assertEquals(tomorrow.toMillis() / 1000, Files.getLastModifiedTime(inbox.resolve(".done/u5701.json"))
                        .toMillis() / 1000, "the sidecar was not re-dated");
                // the claim names the time in whole seconds, as the server keeps it: another instance's
                // listing builds the same key
                // and the one claim is the one the exchange confirmed: the listing's key and the
                // exchange's agree on the new time, so no claim is left open (renewed for ever)
                try (var c = app.ledger().dataSource().getConnection(); var st = c.createStatement();
                     var rs = st.executeQuery("SELECT input_key, confirmed_at FROM ktp_processed_input"
                             + " WHERE input_key LIKE '%u5701.png%'")) {
                    assertTrue(rs.next());
                    assertTrue(rs.getString(1).endsWith("000"), rs.getString(1));
                    assertTrue(rs.getLong(2) > 0, "the claim was confirmed");
                    assertFalse(rs.next(), "one claim");
                }
            }
        }
    }

    @Test
    void aFileOverTheSizeLimitIsRejectedByItsListedSizeWithoutBeingDownloaded() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            byte[] small = SampleImages.card("u5802", "png");
            byte[] image = Arrays.copyOf(SampleImages.card("u5801", "png"), small.length + 64 * 1024);
            Files.write(inbox.resolve("u5801-large.png"), image);
            Files.write(inbox.resolve("u5802.png"), small);
            long limit = small.length + 1024;
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp,
                    "ktp.source.max-size", String.valueOf(limit), "ktp.source.sftp.oversize-poll-delay", "300"))) {
                await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 2);
                Map<String, JsonNode> results = Results.bySourceFile(app.results());
                assertEquals("FILE_TOO_LARGE", results.get("u5801-large.png").path("reasonCode").asText());
                assertEquals("COMPLETED", results.get("u5802.png").path("status").asText());
                Path report = server.path("/inbox/.failed/u5801-large.png.error.json");
                // the report is uploaded first and the image renamed after it: both are waited for
                await().atMost(Duration.ofSeconds(5)).ignoreExceptions()
                        .until(() -> Files.exists(server.path("/inbox/.failed/u5801-large.png"))
                                && Results.parse(report).has("reasonCode"));
                assertEquals("FILE_TOO_LARGE", Results.parse(report).path("reasonCode").asText());
                assertArrayEquals(image, Files.readAllBytes(server.path("/inbox/.failed/u5801-large.png")));
                assertEquals(0, server.bytesRead("u5801-large.png"), "not a byte of it was downloaded");
                assertTrue(server.bytesRead("u5802.png") > 0, "the counter counts");
                await().during(Duration.ofMillis(800)).atMost(Duration.ofMillis(10_800))
                        .until(() -> Results.count(app.results()) == 2);
                assertEquals(1, app.sandbox().submissionCount());

                // readiness hears of the server from the first listing only: the second one polls
                // seldom, and its back-off after one failed listing would keep the instance unready long
                String health = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                                java.net.URI.create(app.managementUrl("/observe/health?exposureLevel=full"))).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
                assertTrue(health.contains("consumer:ingest-sftp\""), health);
                assertFalse(health.contains("consumer:ingest-sftp-oversized"), health);
            }
        }
    }

    @Test
    void onAServerThatAnswersAMissingFileWithAFailureImagesWithoutSidecarGoThrough() throws Exception {
        // Paramiko-based and some Windows servers answer a stat of a missing path with SSH_FX_FAILURE
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            server.answerMissingWithFailure();
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Files.write(inbox.resolve("u5901.png"), SampleImages.card("u5901", "png"));
            Files.writeString(inbox.resolve("u5902-text.png"), "not a picture", StandardCharsets.UTF_8);
            Files.writeString(inbox.resolve("u5903.json"), "{\"partnerUserId\": \"cust-5903\"}");
            Files.write(inbox.resolve("u5903.png"), SampleImages.card("u5903", "png"));
            // the done and failed folders do not exist yet: the start-up check makes them
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 3);
                Map<String, JsonNode> results = Results.bySourceFile(app.results());
                assertEquals("COMPLETED", results.get("u5901.png").path("status").asText(), results.toString());
                assertEquals("u5901", results.get("u5901.png").path("partnerUserId").asText());
                assertEquals("UNSUPPORTED_FORMAT", results.get("u5902-text.png").path("reasonCode").asText());
                assertEquals("cust-5903", results.get("u5903.png").path("partnerUserId").asText());
                // under their own names: the names were found free, not taken for unknown
                await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(inbox.resolve(".done/u5901.png"))
                        && Files.exists(inbox.resolve(".done/u5903.png")) && Files.exists(inbox.resolve(".done/u5903.json"))
                        && Files.exists(inbox.resolve(".failed/u5902-text.png")));
                try (Stream<Path> done = Files.list(inbox.resolve(".done"))) {
                    assertEquals(List.of("u5901.png", "u5903.json", "u5903.png"),
                            done.map(f -> f.getFileName().toString()).sorted().toList());
                }
                assertEquals(2, app.sandbox().submissionCount());
                assertTrue(server.missingAnsweredWithFailure() > 0, "the server's fault was met");
            }
        }
    }

    @Test
    void aFailedInputsMoveTheServerRefusesIsNotAskedAgainOnANewSession() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            server.refuseMovesOf("u5911-text.png");
            Files.writeString(inbox.resolve("u5911-text.png"), "not a picture", StandardCharsets.UTF_8);
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 1
                        && log.text().contains("could not be moved to"));
                // a refusal is the server's answer: a new login would get the same one
                assertEquals(1, server.movesRefused("u5911-text.png"));
                assertTrue(Files.exists(inbox.resolve("u5911-text.png")));
            }
        }
    }

    @Test
    void aSubFolderOfTheFailedFolderThatIsAFileIsNotNamedWhenTheQuarantineFails() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            // the sub-folder's name is the partner user's (a NIK, say); in the failed folder a file has it
            Path branch = Files.createDirectories(inbox.resolve("3201887766"));
            Files.writeString(branch.resolve("u5921-text.png"), "not a picture", StandardCharsets.UTF_8);
            Files.writeString(Files.createDirectories(server.path("/inbox/.failed")).resolve("3201887766"), "in the way");
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"),
                    sftp(server, tmp, "ktp.source.sftp.recursive", "true"))) {
                await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 1
                        && log.text().contains("could not be moved to"));
                assertTrue(log.text().contains("is a file, not a folder"), "the reason is told");
                assertTrue(Files.exists(branch.resolve("u5921-text.png")), "it stays in place");
            }
            // the bundle's and Camel's lines (the test's own SFTP server logs the paths it is asked for)
            List<String> named = log.text().lines().filter(l -> l.matches("^[A-Z]+ (id\\.ktpbridge|org\\.apache\\.camel)\\..*"))
                    .filter(l -> l.contains("3201887766")).toList();
            assertEquals(List.of(), named, "the sub-folder's name is not in the log");
        }
    }

    @Test
    void symbolicLinksAreRejectedWithoutBeingFollowed() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Path elsewhere = Files.createDirectories(server.path("/elsewhere"));
            Files.write(elsewhere.resolve("target.png"), SampleImages.card("u5921", "png"));
            Files.writeString(elsewhere.resolve("other.json"), "{\"partnerUserId\": \"someone-else\"}");
            // an image that is a link, and an image whose sidecar is a link (both to files on the server)
            Files.createSymbolicLink(inbox.resolve("u5921.png"), Path.of("../elsewhere/target.png"));
            Files.write(inbox.resolve("u5922.png"), SampleImages.card("u5922", "png"));
            Files.createSymbolicLink(inbox.resolve("u5922.json"), Path.of("../elsewhere/other.json"));
            Files.write(inbox.resolve("u5923.png"), SampleImages.card("u5923", "png"));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp,
                    "ktp.source.sftp.oversize-poll-delay", "300"))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 3);
                Map<String, JsonNode> results = Results.bySourceFile(app.results());
                assertEquals("SYMBOLIC_LINK", results.get("u5921.png").path("reasonCode").asText(), results.toString());
                assertEquals("INVALID_SIDECAR", results.get("u5922.png").path("reasonCode").asText());
                assertTrue(results.get("u5922.png").path("errorMessage").asText().contains("symbolic link"),
                        results.get("u5922.png").toString());
                assertEquals("COMPLETED", results.get("u5923.png").path("status").asText());
                assertEquals(1, app.sandbox().submissionCount(), "only the regular image went out");
                // the links themselves go to the failed folder, their targets stay unread where they are
                Path report = inbox.resolve(".failed/u5921.png.error.json");
                await().atMost(Duration.ofSeconds(5)).ignoreExceptions()
                        .until(() -> Files.isSymbolicLink(inbox.resolve(".failed/u5921.png"))
                                && Files.isSymbolicLink(inbox.resolve(".failed/u5922.json"))
                                && Results.parse(report).has("reasonCode"));
                assertEquals("SYMBOLIC_LINK", Results.parse(report).path("reasonCode").asText());
                assertTrue(Files.exists(inbox.resolve(".failed/u5922.png")));
                assertTrue(Files.isRegularFile(elsewhere.resolve("target.png"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
                assertEquals(0, server.bytesRead("target.png") + server.bytesRead("u5921.png"), "the link was read");
                assertEquals(0, server.bytesRead("other.json") + server.bytesRead("u5922.json"), "the sidecar link was read");
                assertFalse(Files.exists(inbox.resolve(".done/u5921.png"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
            }
        }
    }

    /** How many ledger rows the source has not let go of. */
    static int unreleased(BridgeApp app) throws Exception {
        try (java.sql.Connection c = app.ledger().dataSource().getConnection();
             java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM ktp_submission WHERE source_released_at IS NULL")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /**
     * {@code name} uploaded again to the inbox with {@code image}, the bytes of an input that has its
     * result (a new modification time, the same bytes): rejected as a duplicate into the failed folder,
     * nothing submitted again.
     */
    private static void uploadedAgainIsADuplicate(SftpServer server, BridgeApp app, String name, byte[] image)
            throws java.io.IOException {
        Path again = Files.write(server.path("/inbox").resolve(name), image);
        Files.setLastModifiedTime(again, FileTime.fromMillis(System.currentTimeMillis() + 5_000));
        await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);
        Map<String, Long> outcomes = Results.read(app.results()).stream().collect(Collectors.groupingBy(
                r -> r.path("status").asText() + " " + r.path("reasonCode").asText(""), Collectors.counting()));
        assertEquals(Map.of("COMPLETED ", 1L, "REJECTED DUPLICATE_CONTENT", 1L), outcomes);
        assertEquals(1, app.sandbox().submissionCount());
        await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(server.path("/inbox/.failed/" + name)));
    }
}

package id.ktpbridge.sftp;

import static id.ktpbridge.sftp.SftpSourceTest.PASSWORD;
import static id.ktpbridge.sftp.SftpSourceTest.sftp;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.submit.InputsInHand;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import id.ktpbridge.testkit.SftpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SFTP inputs given back for a later attempt: left out of the listings for their pause, not
 * downloaded and given back in a tight loop; and images whose sidecar cannot be looked up now.
 */
class SftpDeferredInputsTest {

    @TempDir
    Path tmp;

    @Test
    void anInputGivenBackIsNotDownloadedAgainBeforeItsPauseAndIsTakenAfterIt() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            byte[] image = SampleImages.card("u5801", "png");
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                // OneKYC away: the first take writes the input's row and gives the input back
                app.sandbox().settings().setFailureStatuses(List.of(503));
                app.sandbox().settings().setFailureRate("presign", 1.0);
                Files.write(inbox.resolve("u5801.png"), image);
                await().atMost(Duration.ofSeconds(30)).until(() -> app.ledger().createdSince(0).size() == 1);
                String row = app.ledger().createdSince(0).get(0).id();
                // the row is taken in hand elsewhere as soon as the worker lets go of it (another
                // instance of a cluster submitting the same file's bytes, say)
                InputsInHand inHand = app.bean("inputsInHand", InputsInHand.class);
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5)).until(() -> inHand.takeToEnd(row));
                app.sandbox().settings().setFailureRate("presign", 0.0);

                // taken again, it finds its row held and is given back with a pause (5 s the first time)
                await().atMost(Duration.ofSeconds(30)).until(() -> log.text().contains("another worker is submitting it"));
                long downloads = server.bytesRead("u5801.png");
                // before, the next listing took it at once: downloaded and given back in a loop. The
                // watch is shorter than the pause, as the line may be seen late: its legit download 5 s
                // on must not fall in it (a download never comes undone, so a long atMost costs nothing)
                await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(12))
                        .until(() -> server.bytesRead("u5801.png") == downloads);
                assertTrue(log.text().contains("the SFTP file stays on the server and is taken again in 5 s"), log.text());

                inHand.letGo(row);
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                        && Files.exists(server.path("/inbox/.done/u5801.png")));
                assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
                assertEquals(1, app.sandbox().submissionCount());
                assertEquals(1, app.ledger().createdSince(0).size(), "its row was resumed");
            }
        }
    }

    @Test
    void aFileThatChangesAfterItIsListedWaitsAndGetsOneResultForTheWholeFile() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            byte[] stalled = SampleImages.card("u5901", "png");
            byte[] late = SampleImages.card("u5902", "jpg");
            // an upload that stalled past the read lock and goes on once the bundle has downloaded its
            // first half; a file created empty and written a moment later
            Files.write(inbox.resolve("u5901.png"), Arrays.copyOf(stalled, stalled.length / 2));
            server.afterDownloadOf("u5901.png", () -> append(inbox.resolve("u5901.png"),
                    Arrays.copyOfRange(stalled, stalled.length / 2, stalled.length)));
            Files.write(inbox.resolve("u5902.jpg"), new byte[0]);
            server.afterDownloadOf("u5902.jpg", () -> append(inbox.resolve("u5902.jpg"), late));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(server.path("/inbox/.done/u5901.png"))
                        && Files.exists(server.path("/inbox/.done/u5902.jpg")));
                // before, the part downloaded got a result of its own (CORRUPT_IMAGE, EMPTY_FILE), and the
                // whole file, left on the server as replaced, a second one
                await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
                        .until(() -> Results.count(app.results()) == 2);
                Map<String, JsonNode> results = Results.bySourceFile(app.results());
                assertEquals(stalled.length, results.get("u5901.png").path("sourceSize").asLong(), results.toString());
                assertEquals(late.length, results.get("u5902.jpg").path("sourceSize").asLong(), results.toString());
                for (JsonNode r : results.values()) {
                    assertEquals("COMPLETED", r.path("status").asText(), r.toString());
                }
                assertEquals(2, app.ledger().createdSince(0).size(), "nothing was recorded for the parts");
                assertEquals(2, log.count("(still being uploaded?)"), log.text());
                assertFalse(log.text().contains("u590"), "the file name (it may hold a NIK) is in the log");
            }
        }
    }

    private static void append(Path file, byte[] bytes) {
        try {
            Files.write(file, bytes, StandardOpenOption.APPEND);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void anImageWhoseSidecarSessionCannotBeOpenedWaitsAndIsSubmittedOnceTheServerTakesIt() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp,
                    "ktp.source.sftp.oversize-poll-delay", "300"))) {
                // each listing holds a session of its own between its polls: no login per poll (the
                // start-up check's login is the first, and its session is closed)
                await().atMost(Duration.ofSeconds(10)).until(() -> server.logins() >= 3 && server.sessions() == 2);
                int logins = server.logins();
                await().during(Duration.ofMillis(1500)).atMost(Duration.ofMillis(11_500))
                        .until(() -> server.logins() == logins && server.sessions() == 2);
                // the server takes no more sessions of the login: the sidecar session is cut off
                server.limitSessions(2);
                Files.write(inbox.resolve("u5811.png"), SampleImages.card("u5811", "png"));

                // before, it was rejected INVALID_SIDECAR at its 5th try, some 10 s on, sidecar or not
                await().during(Duration.ofSeconds(14)).atMost(Duration.ofSeconds(24))
                        .until(() -> Results.count(app.results()) == 0);
                assertTrue(log.count("The sidecar session to") >= 3, log.text());
                assertEquals(0, app.ledger().createdSince(0).size(), "nothing was recorded");
                assertTrue(Files.exists(inbox.resolve("u5811.png")), "it waits on the server");

                server.limitSessions(0);
                await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 1
                        && Files.exists(server.path("/inbox/.done/u5811.png")));
                JsonNode result = Results.read(app.results()).get(0);
                assertEquals("COMPLETED", result.path("status").asText(), result.toString());
                assertEquals("u5811", result.path("partnerUserId").asText());
                assertFalse(log.text().contains("u5811"), "the file name (it may hold a NIK) is in the log");
            }
        }
    }

    @Test
    void aSidecarTheServerFailsToHandOverFiveTimesInARowRejectsItsImageOnlyOnceTheyHaveGoneOnForTheWindow()
            throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            // every read of the sidecar fails (the server answers with a failure) until told otherwise
            server.failNextReads("u5821.json", 1_000);
            Files.writeString(inbox.resolve("u5821.json"), "{\"partnerUserId\": \"cust-5821\"}");
            Files.write(inbox.resolve("u5821.png"), SampleImages.card("u5821", "png"));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                // six look-ups in a row failed, some 15 s: within ktp.source.sftp.broken-read-window (1 min)
                await().atMost(Duration.ofSeconds(40)).until(() -> log.count("Could not read a sidecar") >= 6);
                assertEquals(0, Results.count(app.results()), "rejected at its 5th failed look-up");
                server.stopFailingReads("u5821.json");
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                        && Files.exists(server.path("/inbox/.done/u5821.png")));
                JsonNode result = Results.read(app.results()).get(0);
                assertEquals("COMPLETED", result.path("status").asText(), result.toString());
                assertEquals("cust-5821", result.path("partnerUserId").asText(), "submitted under its sidecar's user");
            }
        }
    }
}

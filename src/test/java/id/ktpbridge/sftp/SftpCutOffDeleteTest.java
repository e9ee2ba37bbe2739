package id.ktpbridge.sftp;

import static id.ktpbridge.sftp.SftpSourceTest.PASSWORD;
import static id.ktpbridge.sftp.SftpSourceTest.sftp;
import static id.ktpbridge.sftp.SftpSourceTest.unreleased;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import id.ktpbridge.testkit.SftpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code after-success=delete}: a delete the connection cuts off is found made only when the file
 * is gone from a folder that is there (a delete made, its reply lost), not when the whole inbox is
 * away (a mount on the server that is away: its folder missing, or an empty mount point in its
 * place), where the file may be back with the mount.
 */
class SftpCutOffDeleteTest {

    @TempDir
    Path tmp;

    @Test
    void aDeleteWhoseReplyIsLostIsFoundMadeAndTheSameImageUploadedAgainIsRejectedAsADuplicate() throws Exception {
        byte[] image = SampleImages.card("u5421", "png");
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            server.loseReplyToDeleteOf("u5421.png");
            Files.write(inbox.resolve("u5421.png"), image);
            // the failed folder outside the inbox: the delete leaves the inbox empty, as a mount point looks
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), deleting(server, "../failed"))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                        && !Files.exists(inbox.resolve("u5421.png")));
                await().atMost(Duration.ofSeconds(10)).until(() -> unreleased(app) == 0);
                assertTrue(log.text().contains("the move was made"), log.text());

                // the same bytes uploaded again under the same name: a new input, a duplicate of the first
                Path again = Files.write(inbox.resolve("u5421.png"), image);
                Files.setLastModifiedTime(again, FileTime.fromMillis(System.currentTimeMillis() + 5_000));
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2
                        && Files.exists(server.path("/failed/u5421.png")));
                assertEquals("REJECTED DUPLICATE_CONTENT", Results.read(app.results()).get(1).path("status").asText()
                        + " " + Results.read(app.results()).get(1).path("reasonCode").asText());
                assertEquals(1, app.sandbox().submissionCount());
                assertFalse(log.text().contains("u5421"), "the file name (it may hold a NIK) is in the log");
            }
        }
    }

    @Test
    void aDeleteCutOffWhileTheInboxIsAwayIsMadeByALaterPollWithoutASecondResult() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Path away = server.path("/inbox-away");
            // not made: the inbox's mount goes away and the connection with it; the server then
            // answers 'no such file' for every file in it
            server.dropConnectionOnDeleteOf("u5422.png", () -> move(inbox, away));
            Files.write(inbox.resolve("u5422.png"), SampleImages.card("u5422", "png"));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), deleting(server, ".failed"))) {
                comesBackAfterTheCutOff(server, app, log, "u5422.png", away);
            }
        }
    }

    @Test
    void aDeleteCutOffWhileAnEmptyMountPointStandsForTheInboxIsMadeByALaterPollWithoutASecondResult() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Path away = server.path("/inbox-away");
            // the mount point under it: an empty folder, older than the files on the mount
            server.dropConnectionOnDeleteOf("u5423.png", () -> {
                move(inbox, away);
                try {
                    Files.setLastModifiedTime(Files.createDirectory(inbox),
                            FileTime.from(Instant.now().minus(Duration.ofDays(30))));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            Files.write(inbox.resolve("u5423.png"), SampleImages.card("u5423", "png"));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), deleting(server, "../failed"))) {
                comesBackAfterTheCutOff(server, app, log, "u5423.png", away);
            }
        }
    }

    @Test
    void aFailedInputsMoveWhileTheInboxIsAwayMakesNoInboxOnTheServersOwnDisk() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Path away = server.path("/inbox-away");
            // not an image: rejected and moved to the failed folder, by then with the inbox's mount away
            server.afterDownloadOf("u5424.png", () -> move(inbox, away));
            Files.writeString(inbox.resolve("u5424.png"), "not an image");
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), deleting(server, ".failed"))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                        && log.text().contains("a later poll moves its file"));
                assertEquals("REJECTED", Results.read(app.results()).get(0).path("status").asText());
                // an inbox made there, with the failed folder in it, would stand for the mount, and a cut-off
                // delete of a file on the mount would be taken as made while its file comes back with it
                assertFalse(Files.exists(inbox), "an inbox was made in the mount's place");
                assertTrue(Files.exists(away.resolve("u5424.png")));

                // the mount back: the file is taken again, found ended, and moved, with no second result
                move(away, inbox);
                await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(inbox.resolve(".failed/u5424.png"))
                        && unreleased(app) == 0);
                await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
                        .until(() -> Results.count(app.results()) == 1);
                assertFalse(log.text().contains("could not be moved"), log.text());
            }
        }
    }

    @Test
    void aFailedInputsFileRemovedBeforeItsMoveIsLetGoOf() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            // another upload keeps the inbox listing an entry: the folder is there, the file was removed
            Files.writeString(inbox.resolve("notes.txt"), "not taken");
            server.afterDownloadOf("u5425.png", () -> {
                try {
                    Files.delete(inbox.resolve("u5425.png"));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            Files.writeString(inbox.resolve("u5425.png"), "not an image");
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), deleting(server, ".failed"))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                        && unreleased(app) == 0);
                assertTrue(log.text().contains("was removed from its folder"), log.text());
                assertFalse(log.text().contains("could not be moved"), log.text());
                assertFalse(Files.exists(inbox.resolve(".failed/u5425.png.error.json")), "a report for a file not there");
            }
        }
    }

    /**
     * Once the cut-off delete is told apart, the inbox comes back from {@code away}: the file is
     * taken again, found submitted and deleted, with its one result and its ledger row let go of.
     */
    private static void comesBackAfterTheCutOff(SftpServer server, BridgeApp app, LogCapture log, String name,
                                                Path away) throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> log.text().contains(
                "the connection to the source went while its file was moved"));
        assertTrue(log.text().contains("a later poll moves it"), log.text());
        assertFalse(log.text().contains("the move was made"), log.text());
        Path inbox = server.path("/inbox");
        if (Files.exists(inbox)) {
            Files.delete(inbox);
        }
        move(away, inbox);
        await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(inbox.resolve(name)) && unreleased(app) == 0);
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(12)).until(() -> Results.count(app.results()) == 1);
        assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
        assertEquals(1, app.sandbox().submissionCount());
        assertFalse(Files.exists(server.path("/inbox/.failed/" + name)), "taken for a new input, rejected");
        assertFalse(Files.exists(server.path("/failed/" + name)), "taken for a new input, rejected");
        assertFalse(log.text().contains(name.substring(0, 5)), "the file name (it may hold a NIK) is in the log");
    }

    /** The SFTP source deleting submitted files, its failed folder at {@code failedDir}. */
    private java.util.Map<String, String> deleting(SftpServer server, String failedDir) {
        return sftp(server, tmp, "ktp.source.sftp.after-success", "delete", "ktp.source.sftp.failed-dir", failedDir);
    }

    private static void move(Path from, Path to) {
        try {
            Files.move(from, to);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

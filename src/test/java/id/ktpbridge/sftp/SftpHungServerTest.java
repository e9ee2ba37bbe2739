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

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import id.ktpbridge.testkit.SftpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An SFTP server whose SFTP side stops answering while its SSH side goes on (a stuck mount on the server). */
class SftpHungServerTest {

    @TempDir
    Path tmp;

    @Test
    void aCallTheServerNeverAnswersIsCutOffAndHoldsUpNeitherTheWorkerNorTheListing() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture log = new LogCapture()) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            // looks at the file are answered until its download is done; then the one just after (the
            // listing thread's) is too, and the next, the worker's once it is submitted, never is
            server.hangLooksAt("/inbox/u5601.png", Integer.MAX_VALUE);
            server.afterDownloadOf("u5601.png", () -> server.hangLooksAt("/inbox/u5601.png", 1));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), sftp(server, tmp))) {
                app.bean("sftpSidecar", SftpSidecar.class).callLimit(Duration.ofSeconds(2));
                Files.write(inbox.resolve("u5601.png"), SampleImages.card("u5601", "png"));
                await().atMost(Duration.ofSeconds(30)).until(() -> server.looksHung() == 1);
                // a later input needs the same session (its look after the download) while the worker waits
                Files.write(inbox.resolve("u5602.png"), SampleImages.card("u5602", "png"));
                await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 2
                        && Files.exists(server.path("/inbox/.done/u5601.png"))
                        && Files.exists(server.path("/inbox/.done/u5602.png")));
                assertEquals(1, server.looksHung(), "the cut-off call is not asked again on a new session");
                assertEquals(2, app.sandbox().submissionCount());
                assertFalse(Files.exists(inbox.resolve("u5601.png")));
                assertTrue(log.text().contains("did not answer the sidecar session within 2 s"), log.text());
                assertFalse(log.text().contains("u560"), "the file name (it may hold a NIK) is in the log");
            } finally {
                server.releaseLooks();
            }
        }
    }
}

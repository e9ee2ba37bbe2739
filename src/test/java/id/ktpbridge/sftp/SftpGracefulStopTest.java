package id.ktpbridge.sftp;

import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.sandbox.SandboxSettings;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import id.ktpbridge.testkit.StopAndResume;
import id.ktpbridge.testkit.SftpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SFTP source under a normal stop while images wait for slow submissions: the ones the
 * bundle could not finish stay on the server and the next start takes them up; nothing good is
 * quarantined.
 */
class SftpGracefulStopTest {

    private static final int IMAGES = 6;

    @TempDir
    Path tmp;

    @Test
    void imagesTheBundleStoppedOnStayOnTheServerAndTheNextStartFinishesThem() throws Exception {
        SandboxSettings settings = new SandboxSettings();
        settings.setCallbackEnabled(false);
        settings.setLatencyMillis(500);
        settings.setProcessingDelayMillis(300);
        GtfSandbox sandbox = new GtfSandbox(settings).start();
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", SftpSourceTest.PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            for (int i = 0; i < IMAGES; i++) {
                String name = "u66" + (10 + i) + ".png";
                Files.write(inbox.resolve(name), SampleImages.card(name, "png"));
            }
            Map<String, String> props = SftpSourceTest.sftp(server, tmp, "gtf.sandbox.enabled", "false",
                    "gtf.token-url", sandbox.baseUrl(), "gtf.api-url", sandbox.baseUrl(),
                    "ktp.callback.auth-token", "sftp-graceful-stop", "ktp.concurrency", "2",
                    "camel.main.shutdown-timeout", "2");
            Path data = tmp.resolve("data");
            try (BridgeApp app = BridgeApp.start(data, props)) {
                await().atMost(Duration.ofSeconds(20)).until(() -> app.ledger().createdSince(0).size() >= 2);
            }
            StopAndResume.assertNothingLost(inbox, inbox.resolve(".done"), inbox.resolve(".failed"), IMAGES);

            props.put("camel.main.shutdown-timeout", "20");
            try (BridgeApp again = BridgeApp.start(data, props)) {
                StopAndResume.assertFinishedOnce(again, sandbox, inbox, IMAGES);
            }
        } finally {
            sandbox.stop();
        }
    }
}

package id.ktpbridge.sftp;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.sandbox.SandboxSettings;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
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
            assertEquals(List.of(), names(inbox.resolve(".failed")), "nothing quarantined: every image is good");
            long left = names(inbox).size();
            assertTrue(left > 0, "the stop came while images were waiting");
            assertEquals(IMAGES, left + names(inbox.resolve(".done")).size(), "every image is in the inbox or done");

            props.put("camel.main.shutdown-timeout", "20");
            try (BridgeApp again = BridgeApp.start(data, props)) {
                await().atMost(Duration.ofSeconds(90)).until(() -> Results.count(again.results()) == IMAGES);
                for (JsonNode r : Results.read(again.results())) {
                    assertEquals("COMPLETED", r.path("status").asText(), r.path("sourceFile").asText());
                }
                assertEquals(IMAGES, sandbox.submissionIds().stream()
                        .filter(id -> !"INITIATED".equals(sandbox.submissionStatus(id))).count(),
                        "one confirmed submission per image");
                await().atMost(Duration.ofSeconds(10)).until(() -> names(inbox).isEmpty());
            }
        } finally {
            sandbox.stop();
        }
    }

    private static List<String> names(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(Files::isRegularFile).map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith(".")).sorted().toList();
        }
    }
}

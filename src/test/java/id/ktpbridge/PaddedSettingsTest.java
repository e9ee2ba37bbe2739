package id.ktpbridge;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import id.ktpbridge.testkit.SftpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A setting whose value has whitespace at either end (a Secret made from a file that ends in a
 * newline, KTP_SOURCE_DIR="/data/inbox ") is the same trimmed value for the start-up checks and for
 * the routes. Environment variables reach Camel untrimmed, as the test's override properties do.
 */
class PaddedSettingsTest {

    @TempDir
    Path tmp;

    @Test
    void aDropFolderSetWithATrailingSpaceIsPolledWhereTheChecksLooked() throws Exception {
        Path dataDir = tmp.resolve("data");
        Path inbox = Files.createDirectories(dataDir.resolve("inbox"));
        Files.write(inbox.resolve("u7001.png"), SampleImages.card("u7001", "png"));
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.source.dir", inbox + " "))) {
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                    && Files.exists(app.done().resolve("u7001.png")));
            assertEquals("COMPLETED", Results.bySourceFile(app.results()).get("u7001.png").path("status").asText());
        }
        assertFalse(Files.exists(dataDir.resolve("inbox ")), "a folder of the padded name was made and polled");
    }

    @Test
    void portsSetWithATrailingSpaceOrNewlineAreTheOnesListenedOn() throws Exception {
        int callbackPort = BridgeApp.freePort();
        int managementPort = BridgeApp.freePort();
        // Camel Main reads camel.server.port = {{ktp.callback.port}} before the bundle's configuration runs
        try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), Map.of("ktp.callback.port", callbackPort + " ",
                "ktp.management.port", managementPort + "\n"))) {
            new java.net.Socket("127.0.0.1", callbackPort).close();
            new java.net.Socket("127.0.0.1", managementPort).close();
        }
    }

    @Test
    void anSftpPasswordEndingInASpaceLogsTheListingsInAsItDidTheCheck() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", "pw-7002")) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Files.write(inbox.resolve("u7002.png"), SampleImages.card("u7002", "png"));
            Map<String, String> p = new HashMap<>();
            p.put("ktp.source.sftp.enabled", "true");
            p.put("ktp.source.sftp.host", "127.0.0.1");
            p.put("ktp.source.sftp.port", String.valueOf(server.port()));
            // a newline at the end: Camel's reading of an endpoint URI over several lines happened to drop it
            p.put("ktp.source.sftp.user", server.user() + "\n");
            // a space at the end: the start-up check logged in without it, every listing with it
            p.put("ktp.source.sftp.password", "pw-7002 ");
            p.put("ktp.source.sftp.strict-host-key-checking", "no");
            p.put("ktp.source.sftp.known-hosts-file", tmp.resolve("no-known-hosts").toString());
            p.put("ktp.source.sftp.directory", "inbox");
            p.put("ktp.source.sftp.poll-delay", "200");
            p.put("ktp.source.sftp.read-lock-min-age", "0");
            p.put("ktp.source.sftp.connect-timeout", "5000");
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), p)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                        && Files.exists(server.path("/inbox/.done/u7002.png")));
                assertTrue(Results.bySourceFile(app.results()).containsKey("u7002.png"));
            }
        }
    }
}

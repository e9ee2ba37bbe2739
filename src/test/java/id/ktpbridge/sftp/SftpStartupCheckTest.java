package id.ktpbridge.sftp;

import static id.ktpbridge.sftp.SftpSourceTest.PASSWORD;
import static id.ktpbridge.sftp.SftpSourceTest.sftp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.SftpServer;
import org.apache.camel.ServiceStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A misconfigured SFTP source stops the start with one message that names the setting to fix. */
class SftpStartupCheckTest {

    @TempDir
    Path tmp;

    /**
     * Starts the application, expects the start to fail, and returns the message of the SFTP
     * source's own exception in the failure's causes (the one Camel Main logs once).
     */
    private String startupFailure(Map<String, String> props) {
        // a hang guard, not a speed claim: the start must end in this failure, not keep trying the server
        RuntimeException e = assertTimeoutPreemptively(Duration.ofSeconds(120),
                () -> assertThrows(RuntimeException.class, () -> BridgeApp.start(tmp.resolve("data"), props).close()));
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof IllegalStateException && String.valueOf(t.getMessage()).startsWith("SFTP source: ")) {
                return t.getMessage();
            }
        }
        throw new AssertionError("the start failed for another reason", e);
    }

    @Test
    void aWrongPasswordNamesThePasswordSetting() {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD);
             LogCapture logs = new LogCapture()) {
            String message = startupFailure(sftp(server, tmp, "ktp.source.sftp.password", "Wrong-Pa55word!"));
            assertTrue(message.contains("ktp.source.sftp.password (KTP_SOURCE_SFTP_PASSWORD)"), message);
            assertTrue(message.contains("refused the login of user 'partner'"), message);
            assertFalse(message.contains("Wrong-Pa55word!"), message);
            assertFalse(logs.text().contains("Wrong-Pa55word!"), "the password is in the log");
            assertEquals(0, server.logins());
        }
    }

    @Test
    void anUnreachableServerNamesHostAndPort() {
        int closedPort = BridgeApp.freePort();
        Map<String, String> props = Map.of("ktp.source.sftp.enabled", "true", "ktp.source.sftp.host", "127.0.0.1",
                "ktp.source.sftp.port", String.valueOf(closedPort), "ktp.source.sftp.user", "partner",
                "ktp.source.sftp.password", PASSWORD, "ktp.source.sftp.strict-host-key-checking", "no",
                "ktp.source.sftp.connect-timeout", "2000");
        String message = startupFailure(props);
        assertTrue(message.contains("cannot reach sftp://127.0.0.1:" + closedPort), message);
        assertTrue(message.contains("ktp.source.sftp.host (KTP_SOURCE_SFTP_HOST)"), message);
        assertTrue(message.contains("ktp.source.sftp.port (KTP_SOURCE_SFTP_PORT)"), message);
    }

    @Test
    void anUnknownHostKeyNamesTheKnownHostsFile() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path emptyKnownHosts = Files.writeString(tmp.resolve("known_hosts"), "");
            String message = startupFailure(sftp(server, tmp, "ktp.source.sftp.strict-host-key-checking", "yes",
                    "ktp.source.sftp.known-hosts-file", emptyKnownHosts.toString()));
            assertTrue(message.contains("ktp.source.sftp.known-hosts-file (KTP_SOURCE_SFTP_KNOWN_HOSTS_FILE)"), message);
            assertTrue(message.contains("ssh-keyscan -p " + server.port() + " 127.0.0.1"), message);
            assertEquals("", Files.readString(emptyKnownHosts), "the known_hosts file is not changed");
        }
    }

    @Test
    void aKeyTheServerDoesNotKnowNamesTheKeySetting() {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", null)) {
            Path key = SftpServer.writePrivateKey(SftpServer.rsaKeyPair(), tmp.resolve("id_rsa"), null);
            String message = startupFailure(sftp(server, tmp, "ktp.source.sftp.password", "",
                    "ktp.source.sftp.private-key-file", key.toString()));
            assertTrue(message.contains("ktp.source.sftp.private-key-file (KTP_SOURCE_SFTP_PRIVATE_KEY_FILE)"), message);
        }
    }

    @Test
    void aMissingInboxNamesTheDirectorySetting() {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            String message = startupFailure(sftp(server, tmp, "ktp.source.sftp.directory", "no/such/folder"));
            assertTrue(message.contains("ktp.source.sftp.directory (KTP_SOURCE_SFTP_DIRECTORY)"), message);
            assertTrue(message.contains("'no/such/folder'") && message.contains("does not exist"), message);
        }
    }

    @Test
    void incompleteSettingsAreNamedBeforeAnyConnection() {
        String noCredentials = startupFailure(Map.of("ktp.source.sftp.enabled", "true",
                "ktp.source.sftp.host", "127.0.0.1", "ktp.source.sftp.user", "partner"));
        assertTrue(noCredentials.contains("ktp.source.sftp.password (KTP_SOURCE_SFTP_PASSWORD)"), noCredentials);
        assertTrue(noCredentials.contains("ktp.source.sftp.private-key-file"), noCredentials);

        String absolute = startupFailure(Map.of("ktp.source.sftp.enabled", "true", "ktp.source.sftp.host", "127.0.0.1",
                "ktp.source.sftp.user", "partner", "ktp.source.sftp.password", "x",
                "ktp.source.sftp.strict-host-key-checking", "no", "ktp.source.sftp.directory", "/data/inbox"));
        assertTrue(absolute.contains("ktp.source.sftp.directory (KTP_SOURCE_SFTP_DIRECTORY) must be relative"), absolute);

        String overlap = startupFailure(Map.of("ktp.source.sftp.enabled", "true", "ktp.source.sftp.host", "127.0.0.1",
                "ktp.source.sftp.user", "partner", "ktp.source.sftp.password", "x",
                "ktp.source.sftp.strict-host-key-checking", "no", "ktp.source.sftp.recursive", "true",
                "ktp.source.sftp.done-dir", "done"));
        assertTrue(overlap.contains("ktp.source.sftp.done-dir (KTP_SOURCE_SFTP_DONE_DIR) lies inside"), overlap);
    }

    @Test
    void theSourceIsOffByDefault() {
        try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), Map.of())) {
            assertEquals(ServiceStatus.Stopped, app.context().getRouteController().getRouteStatus("ingest-sftp"));
            assertEquals(ServiceStatus.Started, app.context().getRouteController().getRouteStatus("ingest-file"));
        }
    }
}

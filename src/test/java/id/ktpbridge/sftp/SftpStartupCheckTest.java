package id.ktpbridge.sftp;

import static id.ktpbridge.sftp.SftpSourceTest.PASSWORD;
import static id.ktpbridge.sftp.SftpSourceTest.sftp;
import static org.awaitility.Awaitility.await;
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
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
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
    void aDoneOrFailedFolderThatIsTheInboxOrIsReadWithItIsRefusedByItsResolvedPath() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            // the inbox is there: the start would go on without these checks
            Files.createDirectories(server.path("/inbox"));
            // each move would rename the file in place, where it is listed again
            String inPlace = startupFailure(sftp(server, tmp, "ktp.source.sftp.done-dir", "."));
            assertTrue(inPlace.contains("ktp.source.sftp.done-dir (KTP_SOURCE_SFTP_DONE_DIR) is ktp.source.sftp.directory"
                    + " itself ('inbox' from the login folder)"), inPlace);
            String back = startupFailure(sftp(server, tmp, "ktp.source.sftp.failed-dir", "../inbox"));
            assertTrue(back.contains("ktp.source.sftp.failed-dir (KTP_SOURCE_SFTP_FAILED_DIR) is ktp.source.sftp.directory"
                    + " itself"), back);
            // starts with '..', and is inbox/done all the same: read with the inbox
            String inside = startupFailure(sftp(server, tmp, "ktp.source.sftp.recursive", "true",
                    "ktp.source.sftp.done-dir", "../inbox/done"));
            assertTrue(inside.contains("ktp.source.sftp.done-dir (KTP_SOURCE_SFTP_DONE_DIR) lies inside"
                    + " ktp.source.sftp.directory ('inbox/done' from the login folder)"), inside);
            assertEquals(0, server.logins(), "refused before any login");
        }
        // a dot-named folder on the way down is skipped by the recursive listing; outside is outside
        SftpSettings.apartFromInbox(SftpSettings.DONE_DIR, "inbox", "../inbox/.done", true);
        SftpSettings.apartFromInbox(SftpSettings.DONE_DIR, "inbox", "archive/.done/2024", true);
        SftpSettings.apartFromInbox(SftpSettings.DONE_DIR, "inbox", "../done", true);
        SftpSettings.apartFromInbox(SftpSettings.DONE_DIR, ".", "../done", true);
        SftpSettings.apartFromInbox(SftpSettings.DONE_DIR, "drop/inbox", "..", true);
        // not recursive: only the inbox itself is refused
        SftpSettings.apartFromInbox(SftpSettings.DONE_DIR, "inbox", "done", false);
        assertThrows(IllegalStateException.class,
                () -> SftpSettings.apartFromInbox(SftpSettings.DONE_DIR, ".", "archive/done", true));
    }

    @Test
    void aClusterRefusesAReadLockMinAgeOf0() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Files.createDirectories(server.path("/inbox"));
            // with 0 a file is claimed by its size and time as listed, before the read lock waits for its
            // upload to end: two instances listing it before and after the end each claimed it
            String message = startupFailure(sftp(server, tmp, "ktp.cluster.enabled", "true",
                    "ktp.source.sftp.read-lock-min-age", "0"));
            assertTrue(message.contains("ktp.source.sftp.read-lock-min-age (KTP_SOURCE_SFTP_READ_LOCK_MIN_AGE) must be"
                    + " more than 0 with ktp.cluster.enabled=true"), message);
            assertEquals(0, server.logins(), "refused before any login");
        }
    }

    @Test
    void theSourceIsOffByDefault() {
        try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), Map.of())) {
            assertEquals(ServiceStatus.Stopped, app.context().getRouteController().getRouteStatus("ingest-sftp"));
            assertEquals(ServiceStatus.Started, app.context().getRouteController().getRouteStatus("ingest-file"));
        }
    }

    @Test
    void anOlderServersSha1AlgorithmsAreUsedWhenListed() throws Exception {
        // Camel hands its key exchange list to JSch for the whole JVM: put back for the tests after this one
        String kex = com.jcraft.jsch.JSch.getConfig("kex");
        try (SftpServer server = SftpServer.startSha1Only(tmp.resolve("server"), "partner", PASSWORD)) {
            Path knownHosts = server.writeKnownHosts(tmp.resolve("known_hosts"));
            Map<String, String> checked = sftp(server, tmp, "ktp.source.sftp.strict-host-key-checking", "yes",
                    "ktp.source.sftp.known-hosts-file", knownHosts.toString());
            // JSch's defaults leave SHA-1 out: the start says which setting lets it in
            String message = startupFailure(checked);
            assertTrue(message.contains("ktp.source.sftp.kex-algorithms (KTP_SOURCE_SFTP_KEX_ALGORITHMS)"), message);
            assertTrue(message.contains("diffie-hellman-group14-sha1"), "the server's offer: " + message);

            Map<String, String> listed = new java.util.HashMap<>(checked);
            // the library's first choices first, the older ones after them
            listed.put("ktp.source.sftp.host-key-algorithms", "ssh-ed25519, rsa-sha2-256, ssh-rsa");
            listed.put("ktp.source.sftp.kex-algorithms", "curve25519-sha256,diffie-hellman-group14-sha1");
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Files.write(inbox.resolve("u5931.png"), SampleImages.card("u5931", "png"));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), listed)) {
                // the start-up check, the SFTP consumer and the sidecar look-ups all got in
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                        && Files.exists(inbox.resolve(".done/u5931.png")));
                assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
            }
        } finally {
            com.jcraft.jsch.JSch.setConfig("kex", kex);
        }
    }

    @Test
    void anAlgorithmTheLibraryDoesNotKnowStopsTheStartNamingTheSetting() {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            String hostKeys = startupFailure(sftp(server, tmp,
                    "ktp.source.sftp.host-key-algorithms", "rsa-sha2-256,ssh-rsa-sha1"));
            assertTrue(hostKeys.contains("ktp.source.sftp.host-key-algorithms (KTP_SOURCE_SFTP_HOST_KEY_ALGORITHMS)"),
                    hostKeys);
            assertTrue(hostKeys.contains("'ssh-rsa-sha1'"), hostKeys);
            // a host key type is no key exchange
            String kex = startupFailure(sftp(server, tmp, "ktp.source.sftp.kex-algorithms", "ssh-rsa"));
            assertTrue(kex.contains("ktp.source.sftp.kex-algorithms (KTP_SOURCE_SFTP_KEX_ALGORITHMS)"), kex);
            assertEquals(0, server.logins(), "checked before any login");
        }
    }
}

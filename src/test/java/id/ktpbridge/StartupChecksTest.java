package id.ktpbridge;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.sandbox.SandboxSettings;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A setting an operator got wrong stops the start with one line that names it. */
class StartupChecksTest {

    @TempDir
    Path dataDir;

    @Test
    void aFolderThatIsAFileIsRefusedByName() throws Exception {
        Path file = Files.writeString(dataDir.resolve("not-a-folder"), "x");
        assertRefused(Map.of("ktp.source.dir", file.toString()), "Setting 'ktp.source.dir' (KTP_SOURCE_DIR): "
                + file + " is a file, not a folder");
        assertRefused(Map.of("ktp.source.failed-dir", file.toString()), "Setting 'ktp.source.failed-dir'");
        assertRefused(Map.of("ktp.source.done-dir", file.toString()), "Setting 'ktp.source.done-dir'");
        assertRefused(Map.of("ktp.results.dir", file.resolve("results").toString()), "Setting 'ktp.results.dir'");
        assertRefused(Map.of("ktp.data-dir", file.resolve("data").toString()), "Setting 'ktp.data-dir' (KTP_DATA_DIR)");
    }

    @Test
    void aDoneOrFailedFolderThatIsTheDropFolderIsRefusedByName() throws Exception {
        Path inbox = Files.createDirectories(dataDir.resolve("inbox"));
        assertRefused(Map.of("ktp.source.dir", inbox.toString(), "ktp.source.done-dir", inbox + "/./"),
                "Setting 'ktp.source.done-dir' (KTP_SOURCE_DONE_DIR): " + inbox + " is the drop folder");
        // the same folder by another path
        Path link = Files.createSymbolicLink(dataDir.resolve("inbox-link"), inbox);
        assertRefused(Map.of("ktp.source.dir", inbox.toString(), "ktp.source.failed-dir", link.toString()),
                "Setting 'ktp.source.failed-dir' (KTP_SOURCE_FAILED_DIR): " + link + " is the drop folder");
        // a sub-folder is not read: taken, and the submitted file stays there
        Path data = dataDir.resolve("data");
        try (BridgeApp app = BridgeApp.start(data, Map.of("ktp.source.done-dir",
                data.resolve("inbox").resolve("done").toString()))) {
            id.ktpbridge.testkit.Results.drop(app.inbox(), "u9401.png",
                    id.ktpbridge.testkit.SampleImages.card("u9401", "png"));
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                    .until(() -> Files.exists(app.inbox().resolve("done").resolve("u9401.png")));
            org.awaitility.Awaitility.await().during(java.time.Duration.ofSeconds(3))
                    .atMost(java.time.Duration.ofSeconds(13))
                    .until(() -> id.ktpbridge.testkit.Results.count(app.results()) == 1);
        }
    }

    @Test
    void aDurationCamelWouldReadAsZeroIsRefusedByName() {
        // upper-case units, ISO-8601, a year, a negative value with a unit: Camel reads each as 0,
        // which turned the ledger's retention off or timed every submission out at its first poll
        for (String value : new String[] {"365D", "PT30M", "1y", "30S", "-5s"}) {
            assertRefused(Map.of("ktp.ledger.retention", value), "Setting 'ktp.ledger.retention' (KTP_LEDGER_RETENTION)"
                    + " is no duration: '" + value + "'");
        }
        // read by a route only: a scan loop without a pause
        assertRefused(Map.of("ktp.source.poll-delay", "2S"), "Setting 'ktp.source.poll-delay' (KTP_SOURCE_POLL_DELAY)"
                + " is no duration: '2S'");
        assertRefused(Map.of("ktp.progress.interval", "0"), "Setting 'ktp.progress.interval' (KTP_PROGRESS_INTERVAL):"
                + " must be more than 0");
    }

    @Test
    void aZeroThatWouldBreakSomethingUnaskedIsRefusedByName() {
        for (String key : new String[] {"ktp.source.claim-ttl", "ktp.ledger.retention-interval", "ktp.poll.deadline",
                "gtf.http.read-timeout", "ktp.cluster.checkin-interval"}) {
            assertRefused(Map.of(key, "0"), "Setting '" + key + "' (" + Settings.envName(key) + "): must be more than 0");
        }
        for (String key : new String[] {"ktp.poll.batch-size", "ktp.source.batch-size", "ktp.callback.max-body-size",
                "ktp.poll.interval", "ktp.callback.note-queue-size"}) {
            assertRefused(Map.of(key, "0"), "Setting '" + key + "' (" + Settings.envName(key) + "): must be at least 1");
        }
        assertRefused(Map.of("ktp.db.retry-attempts", "-1"), "Setting 'ktp.db.retry-attempts' (KTP_DB_RETRY_ATTEMPTS):"
                + " must not be negative");
        assertRefused(Map.of("ktp.source.spool-memory-bytes", "-1"),
                "Setting 'ktp.source.spool-memory-bytes' (KTP_SOURCE_SPOOL_MEMORY_BYTES): must not be negative");
        assertRefused(Map.of("ktp.source.spool-memory-bytes", String.valueOf(Runtime.getRuntime().maxMemory())),
                "Setting 'ktp.source.spool-memory-bytes' (KTP_SOURCE_SPOOL_MEMORY_BYTES): must be at most half the heap");
    }

    @Test
    void aDropFolderThatCannotBeMadeIsRefusedByName() throws Exception {
        // root makes folders anywhere: a file where its parent should be fails the same way
        Path inbox = Files.writeString(dataDir.resolve("afile"), "x").resolve("inbox");
        assertRefused(Map.of("ktp.source.dir", inbox.toString()), "Setting 'ktp.source.dir' (KTP_SOURCE_DIR): "
                + inbox + " cannot be made a folder");
        // a batch ended "Inputs: 0" with exit 0, the consumer only warning that it could not make the folder
        Path other = Files.createDirectories(dataDir.resolve("batch"));
        assertRefused(Map.of("ktp.data-dir", other.toString(), "ktp.source.dir", inbox.toString(),
                "ktp.exit-when-done", "true"), "Setting 'ktp.source.dir' (KTP_SOURCE_DIR): " + inbox
                + " cannot be made a folder");
    }

    @Test
    void theFileDropsFoldersAreNotCheckedWithTheFileSourceOff() throws Exception {
        Path file = Files.writeString(dataDir.resolve("afile"), "x");
        try (BridgeApp app = BridgeApp.start(dataDir.resolve("data"), Map.of("ktp.source.file.enabled", "false",
                "ktp.source.dir", file.toString(), "ktp.source.done-dir", file.toString(),
                "ktp.source.failed-dir", file.resolve("failed").toString()))) {
            assertEquals(org.apache.camel.ServiceStatus.Stopped, app.context().getRouteController()
                    .getRouteStatus("ingest-file"));
        }
    }

    @Test
    void aDropFolderThatCannotBeSearchedIsRefusedByName() throws Exception {
        Path inbox = Files.createDirectories(dataDir.resolve("inbox"));
        java.util.Properties settings = new java.util.Properties();
        settings.put("ktp.data-dir", dataDir.toString());
        settings.put("ktp.source.dir", inbox.toString());
        settings.put("ktp.source.done-dir", dataDir.resolve("done").toString());
        settings.put("ktp.source.failed-dir", dataDir.resolve("failed").toString());
        settings.put("ktp.results.dir", dataDir.resolve("results").toString());
        try (org.apache.camel.impl.DefaultCamelContext context = new org.apache.camel.impl.DefaultCamelContext()) {
            context.getPropertiesComponent().setInitialProperties(settings);
            // mode 600 to the bundle's account (chmod -R 600 inbox): its files are listed, none can be looked at,
            // and a batch run ended at once with exit 0. Root searches any folder, so the answer is the seam's
            IllegalStateException refused = assertThrows(IllegalStateException.class,
                    () -> new StartupChecks(new Settings(context), dir -> !dir.equals(inbox)).run());
            assertEquals("Setting 'ktp.source.dir' (KTP_SOURCE_DIR): " + inbox + " cannot be searched (its x"
                    + " permission): its files would be listed but could not be opened", refused.getMessage());
            new StartupChecks(new Settings(context), dir -> true).run();
        }
    }

    @Test
    void aPortAnotherProcessHoldsIsRefusedByName() throws Exception {
        assertTakenPortRefused("ktp.callback.port", "Setting 'ktp.callback.port' (KTP_CALLBACK_PORT)");
        assertRefused(Map.of("ktp.callback.port", "80800"), "80800 is not a port");
        assertTakenPortRefused("ktp.management.port", "Setting 'ktp.management.port' (KTP_MANAGEMENT_PORT)");
    }

    @Test
    void thePortTheServerIsGivenDirectlyIsTheOneChecked() throws Exception {
        assertTakenPortRefused("camel.server.port", "Setting 'camel.server.port' (CAMEL_SERVER_PORT)");
    }

    /** {@code key} set to a port another socket holds: refused, naming the setting and the port. */
    private void assertTakenPortRefused(String key, String named) throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("0.0.0.0", 0));
            assertRefused(Map.of(key, String.valueOf(taken.getLocalPort())), named + ": port " + taken.getLocalPort());
        }
    }

    @Test
    void valuesOfTheWrongKindAreRefusedByName() {
        assertRefused(Map.of("ktp.exit-when-done", "yes"),
                "Setting 'ktp.exit-when-done' (KTP_EXIT_WHEN_DONE) must be true or false, not 'yes'");
        assertRefused(Map.of("ktp.poll.interval", "1s"), "Setting 'ktp.poll.interval' (KTP_POLL_INTERVAL) has an"
                + " invalid value: 1s");
        assertRefused(Map.of("ktp.submit.retry-window", "5 minutes"), "use milliseconds, or forms such as 30s");
        assertRefused(Map.of("ktp.source.max-size", "-1"), "Setting 'ktp.source.max-size'");
        assertRefused(Map.of("ktp.concurrency", "0"), "Setting 'ktp.concurrency' (KTP_CONCURRENCY): must be at least 1");
        assertRefused(Map.of("ktp.source.include", "*.png"), "Setting 'ktp.source.include' (KTP_SOURCE_INCLUDE):"
                + " not a valid regular expression");
        // either would leave failed deliveries without another try
        assertRefused(Map.of("ktp.results.retry.interval", "0"), "Setting 'ktp.results.retry.interval'"
                + " (KTP_RESULTS_RETRY_INTERVAL): must be more than 0");
        assertRefused(Map.of("ktp.results.retry.batch-size", "0"), "Setting 'ktp.results.retry.batch-size'"
                + " (KTP_RESULTS_RETRY_BATCH_SIZE): must be at least 1");

        assertRefused(Map.of("ktp.results.file.permissions", "0640"), "Setting 'ktp.results.file.permissions'"
                + " (KTP_RESULTS_FILE_PERMISSIONS): must be nine rwx letters, such as rw-r-----, or umask, not '0640'");
    }

    @Test
    void numbersRatesAndExpressionsSetWrongAreRefusedByNameAndVariable() {
        assertRefused(Map.of("gtf.rate-limit.per-second", "ten"), "Setting 'gtf.rate-limit.per-second'"
                + " (GTF_RATE_LIMIT_PER_SECOND) has an invalid value: ten");
        assertRefused(Map.of("gtf.rate-limit.per-second", "-1"), "Setting 'gtf.rate-limit.per-second'"
                + " (GTF_RATE_LIMIT_PER_SECOND) must be a number of at least 0.0");
        assertRefused(Map.of("gtf.sandbox.faults.failure-rate.confirm", "5"),
                "Setting 'gtf.sandbox.faults.failure-rate.confirm' (GTF_SANDBOX_FAULTS_FAILURE_RATE_CONFIRM) must be"
                        + " between 0 and 1");
        assertRefused(Map.of("gtf.sandbox.faults.failure-statuses", "502"), "Setting 'gtf.sandbox.faults.failure-statuses'"
                + " (GTF_SANDBOX_FAULTS_FAILURE_STATUSES) must list statuses out of [400, 429, 500, 503], not '502'");
        assertRefused(Map.of("ktp.source.sftp.include", "*.png"), "Setting 'ktp.source.sftp.include'"
                + " (KTP_SOURCE_SFTP_INCLUDE): not a valid regular expression");
        assertRefused(Map.of("ktp.source.user-id-allowed", "[A-Z"), "Setting 'ktp.source.user-id-allowed'"
                + " (KTP_SOURCE_USER_ID_ALLOWED): not a valid regular expression");
        assertRefused(Map.of("ktp.source.user-id-pattern", "u(\\d+)"), "Setting 'ktp.source.user-id-pattern'"
                + " (KTP_SOURCE_USER_ID_PATTERN) must contain a named group");
        assertRefused(Map.of("ktp.callback.auth-mode", "token"), "Setting 'ktp.callback.auth-mode'"
                + " (KTP_CALLBACK_AUTH_MODE) must be bearer, basic, api-key, hmac or none, not 'token'");
    }

    @Test
    void aPollOnlyDeploymentStartsWithoutCallbackCredentialsOrPort() throws Exception {
        SandboxSettings settings = new SandboxSettings();
        settings.setCallbackEnabled(false);
        GtfSandbox gtf = new GtfSandbox(settings).start();
        // the callback port is another process's: with callbacks off it is not asked for (the start
        // was refused, and the server opened the port all the same when it was free)
        ServerSocket taken = new ServerSocket();
        taken.bind(new InetSocketAddress("0.0.0.0", 0));
        int callbackPort = taken.getLocalPort();
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.callback.enabled", "false",
                "ktp.callback.port", String.valueOf(callbackPort),
                "gtf.sandbox.enabled", "false", "gtf.token-url", gtf.baseUrl(), "gtf.api-url", gtf.baseUrl()))) {
            taken.close();
            assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", callbackPort).close(),
                    "nothing listens on the callback port");
            assertEquals(List.of(), app.context().getRegistry().findByType(VertxPlatformHttpRouter.class).stream()
                    .filter(VertxPlatformHttpRouter::isMainServer).toList(), "no callback server");
            // health and metrics are served by the management server, which runs on its own
            HttpClient http = HttpClient.newHttpClient();
            for (String path : List.of("/observe/health/live", "/observe/metrics")) {
                HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(app.managementUrl(path)))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, answer.statusCode(), path + ": " + answer.body());
            }

            Results.drop(app.inbox(), "u2090.png", SampleImages.card("u2090", "png"));
            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 1);
            assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
            await().atMost(Duration.ofSeconds(30)).until(() -> http.send(HttpRequest.newBuilder(
                    URI.create(app.managementUrl("/observe/health/ready"))).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
        } finally {
            taken.close();
            gtf.stop();
        }
    }

    @Test
    void aDeliveryBackOffOfNothingOrShorterThanItsStartIsRefusedByName() {
        // no back-off: a failed delivery would be due again at once, retried as fast as the target answers
        assertRefused(Map.of("ktp.results.retry.initial-backoff", "0"), "Setting 'ktp.results.retry.initial-backoff'"
                + " (KTP_RESULTS_RETRY_INITIAL_BACKOFF): must be at least 1 ms");
        assertRefused(Map.of("ktp.results.retry.initial-backoff", "-5s"),
                "Setting 'ktp.results.retry.initial-backoff'");
        assertRefused(Map.of("ktp.results.retry.max-backoff", "0"), "Setting 'ktp.results.retry.max-backoff'"
                + " (KTP_RESULTS_RETRY_MAX_BACKOFF): must not be less than ktp.results.retry.initial-backoff (2000 ms)");
        assertRefused(Map.of("ktp.results.retry.initial-backoff", "10m"), "Setting 'ktp.results.retry.max-backoff'");
        assertRefused(Map.of("ktp.results.immediate-attempt-wait", "0"),
                "Setting 'ktp.results.immediate-attempt-wait' (KTP_RESULTS_IMMEDIATE_ATTEMPT_WAIT): must be more than 0");
    }

    @Test
    void aNegativeStatementTimeoutIsRefusedByName() {
        // -1 reached the JDBC driver, which refused it at every delivery (every result REFUSED); Camel
        // reads -5s as 0, no limit at all. Only 0 means that
        assertRefused(Map.of("ktp.results.jdbc.statement-timeout", "-1"), "Setting 'ktp.results.jdbc.statement-timeout'"
                + " (KTP_RESULTS_JDBC_STATEMENT_TIMEOUT): must not be negative (0: no statement limit)");
        assertRefused(Map.of("ktp.results.jdbc.statement-timeout", "-5s"),
                "Setting 'ktp.results.jdbc.statement-timeout'");
    }

    @Test
    void aNegativeOneKycProbeIntervalIsRefusedByName() {
        // Camel reads -5s as 0, which turns the probe off: only 0 means that
        assertRefused(Map.of("ktp.health.onekyc.probe-interval", "-5s"), "Setting 'ktp.health.onekyc.probe-interval'"
                + " (KTP_HEALTH_ONEKYC_PROBE_INTERVAL): must not be negative (0: no probe)");
        assertRefused(Map.of("ktp.health.onekyc.probe-interval", "a minute"),
                "Setting 'ktp.health.onekyc.probe-interval' (KTP_HEALTH_ONEKYC_PROBE_INTERVAL) is no duration");
    }

    @Test
    void aNegativeEmptyFileMinAgeIsRefusedByName() {
        // Camel reads -5s as 0, which takes an empty file at once: only 0 means that
        assertRefused(Map.of("ktp.source.empty-file-min-age", "-5s"), "Setting 'ktp.source.empty-file-min-age'"
                + " (KTP_SOURCE_EMPTY_FILE_MIN_AGE): must not be negative (0: empty files are taken at once)");
        assertRefused(Map.of("ktp.source.empty-file-min-age", "a minute"),
                "Setting 'ktp.source.empty-file-min-age' (KTP_SOURCE_EMPTY_FILE_MIN_AGE) is no duration");
    }

    @Test
    void aNegativeS3BrokenReadWindowIsRefusedByName() {
        assertRefused(Map.of("ktp.source.s3.broken-read-window", "-5s"), "Setting"
                + " 'ktp.source.s3.broken-read-window' (KTP_SOURCE_S3_BROKEN_READ_WINDOW): must not be negative"
                + " (0: 5 broken reads in a row are enough)");
        assertRefused(Map.of("ktp.source.s3.broken-read-window", "a minute"),
                "Setting 'ktp.source.s3.broken-read-window' (KTP_SOURCE_S3_BROKEN_READ_WINDOW) is no duration");
    }

    @Test
    void aNegativeCallbackRequestTimeoutIsRefusedByName() {
        assertRefused(Map.of("ktp.callback.request-timeout", "-30s"), "Setting 'ktp.callback.request-timeout'"
                + " (KTP_CALLBACK_REQUEST_TIMEOUT): must not be negative (0: no limit)");
        assertRefused(Map.of("ktp.callback.request-timeout", "half a minute"),
                "Setting 'ktp.callback.request-timeout' (KTP_CALLBACK_REQUEST_TIMEOUT) is no duration");
    }

    @Test
    void aNegativeSweepFirstDelayIsRefusedByName() {
        // Camel's timer fires a route whose delay is negative in a loop, with no pause between the runs
        assertRefused(Map.of("ktp.source.sweep-first-delay", "-1"), "Setting 'ktp.source.sweep-first-delay'"
                + " (KTP_SOURCE_SWEEP_FIRST_DELAY): must not be negative (0: the first sweep at start)");
        assertRefused(Map.of("ktp.source.sweep-first-delay", "a minute"),
                "Setting 'ktp.source.sweep-first-delay' (KTP_SOURCE_SWEEP_FIRST_DELAY) is no duration");
    }

    @Test
    void aLedgerRefreshOfNothingIsRefusedByName() {
        assertRefused(Map.of("ktp.management.ledger-refresh", "0s"), "Setting 'ktp.management.ledger-refresh'"
                + " (KTP_MANAGEMENT_LEDGER_REFRESH): must be at least 1 ms");
    }

    @Test
    void aNegativeFileBrokenReadWindowIsRefusedByName() {
        // Camel reads -5s as 0, which rejects an image at its 5th failed read: only 0 means that
        assertRefused(Map.of("ktp.source.file.broken-read-window", "-5s"), "Setting"
                + " 'ktp.source.file.broken-read-window' (KTP_SOURCE_FILE_BROKEN_READ_WINDOW): must not be negative"
                + " (0: 5 failed reads in a row are enough)");
        assertRefused(Map.of("ktp.source.file.broken-read-window", "a minute"),
                "Setting 'ktp.source.file.broken-read-window' (KTP_SOURCE_FILE_BROKEN_READ_WINDOW) is no duration");
    }

    @Test
    void aNegativeSftpBrokenReadWindowIsRefusedByName() {
        // Camel reads -5s as 0, which rejects an image at its sidecar's 5th failed look-up: only 0 means that
        assertRefused(Map.of("ktp.source.sftp.broken-read-window", "-5s"), "Setting"
                + " 'ktp.source.sftp.broken-read-window' (KTP_SOURCE_SFTP_BROKEN_READ_WINDOW): must not be negative"
                + " (0: 5 failed sidecar look-ups in a row are enough)");
        assertRefused(Map.of("ktp.source.sftp.broken-read-window", "a minute"),
                "Setting 'ktp.source.sftp.broken-read-window' (KTP_SOURCE_SFTP_BROKEN_READ_WINDOW) is no duration");
    }

    @Test
    void anInstanceIdLongerThanTheLedgersColumnsIsRefusedByName() throws Exception {
        // it started before, and every claim and lease then failed (SQL state 22001)
        assertRefused(Map.of("ktp.cluster.instance-id", "n".repeat(129)), "Setting 'ktp.cluster.instance-id'"
                + " (KTP_CLUSTER_INSTANCE_ID): must be at most 128 characters (the ledger's columns), not 129");
        String longest = "n".repeat(128);
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.cluster.instance-id", longest))) {
            // the poll tick's lease names its holder
            await().atMost(Duration.ofSeconds(30)).until(() -> longest.equals(leaseHolder(app, "poll-tick")));
        }
    }

    @Test
    void aDefaultInstanceIdTooLongForTheLedgerIsRefusedByName() throws Exception {
        // not set: the host name and a suffix of 9 characters, 129 in all here
        Path log = dataDir.resolve("start.log");
        int exit = id.ktpbridge.testkit.BridgeProcess.start(Files.createDirectories(dataDir.resolve("work")),
                // a batch over an empty folder on free ports, should it start after all
                Map.of("HOSTNAME", "h".repeat(120), "KTP_DATA_DIR", dataDir.resolve("data").toString(),
                        "KTP_EXIT_WHEN_DONE", "true", "KTP_CALLBACK_PORT", "0", "KTP_MANAGEMENT_PORT", "0"), Map.of(), log)
                .awaitExit(120);
        String output = Files.readString(log);
        assertTrue(exit != 0 && exit != -1, "exit " + exit + ": " + output);
        assertTrue(output.contains("Setting 'ktp.cluster.instance-id' (KTP_CLUSTER_INSTANCE_ID): not set, and its"
                + " default (the host name and a suffix of 9 characters) is 129 characters long"), output);
    }

    private static String leaseHolder(BridgeApp app, String name) throws Exception {
        try (var c = app.ledger().dataSource().getConnection();
             var ps = c.prepareStatement("SELECT holder FROM ktp_lease WHERE name = ?")) {
            ps.setString(1, name);
            try (var rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    @Test
    void clusterModeWithAnH2LedgerIsRefusedByName() {
        // each instance would keep a ledger of its own, and take the others' inputs as its own
        String expected = "ktp.cluster.enabled=true needs a database all instances share: set ktp.db.url (KTP_DB_URL)"
                + " to a PostgreSQL URL";
        assertRefused(Map.of("ktp.cluster.enabled", "true", "ktp.db.url", "jdbc:h2:file:" + dataDir.resolve("shared")),
                expected);
        // not set: the H2 file in the data folder
        assertRefused(Map.of("ktp.cluster.enabled", "true"), expected);
    }

    @Test
    void aPlaceholderOfTheShippedManifestsIsNamed() {
        assertEquals("GTF_PASS_KEY", StartupChecks.placeholder(Map.of("GTF_PASS_KEY", "REPLACE_ME-gtf-pass-key",
                "KTP_DB_USER", "ktp", "OTHER", "REPLACE_ME")));
        assertEquals(null, StartupChecks.placeholder(Map.of("GTF_PASS_KEY", "pk-live", "HOME", "REPLACE_ME")));
    }

    @Test
    void aResultsDatabaseThatIsTheLedgersOwnH2FileIsRefused() {
        // spelled otherwise than the ledger's own URL: another prefix, its own settings
        String ledgerFile = "jdbc:h2:" + dataDir.resolve("ledger").toAbsolutePath() + ";AUTO_SERVER=FALSE";
        assertRefused(Map.of("ktp.results.targets", "file,jdbc", "ktp.results.jdbc.url", ledgerFile),
                "Setting 'ktp.results.jdbc.url' (KTP_RESULTS_JDBC_URL) names the ledger's own H2 file");
    }

    private void assertRefused(Map<String, String> settings, String expected) {
        String messages = BridgeApp.startupError(dataDir, settings);
        assertTrue(messages.contains(expected), messages);
    }
}

package id.ktpbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import id.ktpbridge.testkit.BridgeApp;
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
    void aPlaceholderOfTheShippedManifestsIsNamed() {
        assertEquals("GTF_PASS_KEY", StartupChecks.placeholder(Map.of("GTF_PASS_KEY", "REPLACE_ME-gtf-pass-key",
                "KTP_DB_USER", "ktp", "OTHER", "REPLACE_ME")));
        assertEquals(null, StartupChecks.placeholder(Map.of("GTF_PASS_KEY", "pk-live", "HOME", "REPLACE_ME")));
    }

    private void assertRefused(Map<String, String> settings, String expected) {
        String messages = BridgeApp.startupError(dataDir, settings);
        assertTrue(messages.contains(expected), messages);
    }
}

package id.ktpbridge.reliability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.PostgresServer;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ledger's PostgreSQL goes away mid-batch (stopped as a crash would, then started again, as
 * in a failover), or refuses writes as read-only for a while (an old primary a failover demoted,
 * SQL state 25006, for the connections still open to it): every input still ends COMPLETED, with
 * exactly one confirmed submission each, and nothing is moved aside.
 */
class DatabaseRestartTest {

    private static final Pattern READ_ONLY_REFUSAL = Pattern.compile("cannot execute \\w+ in a read-only transaction");

    @TempDir
    Path dataDir;

    /** What happens to the database once a fifth of the batch has its results. */
    private interface Outage {
        void happen(PostgresServer pg, BridgeApp app) throws Exception;
    }

    @Test
    void aDatabaseRestartMidBatchFailsNothingAndSubmitsNothingTwice() throws Exception {
        batchThrough("ktp_restart", 40, "u93%02d.png", (pg, app) -> {
            pg.stop();
            // results only grow: any input without one now was still to finish when the database went away
            long resultsWhileDown = Results.count(app.results());
            pg.startAgain();
            assertTrue(resultsWhileDown < 40, "the database went away before the batch was done");
        });
    }

    @Test
    void writesRefusedAsReadOnlyForAWhileAreTriedAgainAndLoseNothing() throws Exception {
        batchThrough("ktp_read_only", 30, "u94%02d.png", (pg, app) -> {
            readOnly(pg, true);
            try {
                // the bundle's writes met the refusal, several of them
                await().atMost(Duration.ofSeconds(30)).until(() -> refusals(pg) >= 5);
            } finally {
                readOnly(pg, false);
            }
        });
    }

    private void batchThrough(String database, int images, String names, Outage outage) throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            String url = pg.createDatabase(database);
            Map<String, String> props = Map.of("ktp.db.url", url, "ktp.db.user", "postgres",
                    "ktp.source.read-lock-min-age", "100", "ktp.concurrency", "4");
            try (BridgeApp app = BridgeApp.start(dataDir, props)) {
                app.sandbox().settings().setLatencyMillis(40);
                for (int i = 0; i < images; i++) {
                    String name = String.format(names, i);
                    // a short label: a long one is cut off at the card's edge, and the cards would be alike
                    Results.drop(app.inbox(), name, SampleImages.card(name.substring(0, name.indexOf('.')), "png"));
                }
                await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) >= images / 5);

                outage.happen(pg, app);

                await().atMost(Duration.ofSeconds(120)).until(() -> Results.count(app.results()) >= images);
                await().atMost(Duration.ofSeconds(30)).until(() -> app.ledger().openCounts().isEmpty());
                Map<String, Integer> statuses = new TreeMap<>();
                for (JsonNode r : Results.read(app.results())) {
                    statuses.merge(r.path("status").asText(), 1, Integer::sum);
                }
                assertEquals(Map.of("COMPLETED", images), statuses);
                long confirmed = app.sandbox().submissionIds().stream()
                        .filter(id -> app.sandbox().confirmCount(id) > 0).count();
                assertEquals(images, confirmed, "one confirmed submission per input");
                try (Stream<Path> failed = Files.exists(app.failed()) ? Files.list(app.failed()) : Stream.empty()) {
                    assertEquals(List.of(), failed.toList(), "nothing moved aside");
                }
            }
        }
    }

    /** As a demoted primary: every session's next transaction is read-only (a reload reaches open sessions). */
    private static void readOnly(PostgresServer pg, boolean on) throws Exception {
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl("postgres"), "postgres", "");
             Statement s = c.createStatement()) {
            s.execute("SET default_transaction_read_only = off");
            s.execute("ALTER SYSTEM SET default_transaction_read_only = " + (on ? "on" : "off"));
            s.execute("SELECT pg_reload_conf()");
        }
    }

    private static int refusals(PostgresServer pg) throws java.io.IOException {
        Matcher m = READ_ONLY_REFUSAL.matcher(pg.serverLog());
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }
}

package id.ktpbridge.target;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.ledger.H2FileUrls;
import id.ktpbridge.result.DeliveryStore;
import id.ktpbridge.result.Outbox;
import id.ktpbridge.ledger.DataSources;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.PostgresServer;
import id.ktpbridge.testkit.RecordingHttpServer;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.S3ProxyServer;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file, HTTP and JDBC targets together, with a partner endpoint that fails on demand, and a
 * results database that is down at start or lets the bundle only read and write its tables.
 */
class TargetsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dataDir;

    private static Map<String, String> targets(RecordingHttpServer http, String extra) {
        Map<String, String> p = new HashMap<>();
        p.put("ktp.results.targets", "file,http,jdbc" + extra);
        p.put("ktp.results.http.url", http.url("/ktp/results"));
        p.put("ktp.results.http.auth-mode", "bearer");
        p.put("ktp.results.http.auth-token", "partner-secret");
        p.put("ktp.results.http.headers", "X-Partner: acme; X-Env: test");
        p.put("ktp.results.retry.interval", "200");
        p.put("ktp.results.retry.initial-backoff", "200");
        p.put("ktp.results.retry.max-backoff", "500");
        return p;
    }

    @Test
    void everyResultReachesEveryTargetOnce() throws Exception {
        try (RecordingHttpServer http = new RecordingHttpServer();
             BridgeApp app = BridgeApp.start(dataDir, targets(http, ""))) {
            drop(app, "u5001.png", "u5002-notektp.jpg", "u5003-error.png");
            Results.drop(app.inbox(), "u5004.jpg", "not an image".getBytes());

            await().atMost(Duration.ofSeconds(30)).until(() -> http.accepted().size() == 4);
            List<JsonNode> files = Results.read(app.results());
            assertEquals(4, files.size());

            Set<String> fileNames = files.stream().map(n -> n.path("sourceFile").asText()).collect(Collectors.toSet());
            Set<String> posted = http.accepted().stream().map(r -> parse(r.body()).path("sourceFile").asText())
                    .collect(Collectors.toSet());
            assertEquals(fileNames, posted);
            for (RecordingHttpServer.Request r : http.accepted()) {
                assertEquals("POST", r.method());
                assertEquals("/ktp/results", r.path());
                assertTrue(r.header("content-type").startsWith("application/json"));
                assertEquals("Bearer partner-secret", r.header("authorization"));
                assertEquals("acme", r.header("x-partner"));
                assertEquals("test", r.header("x-env"));
                assertEquals(parse(r.body()).path("status").asText(), r.header("ktp-result-status"));
                assertNull(r.header("ktpledgerid"), "internal headers stay inside");
                assertNull(r.header("ktpresulttarget"), "internal headers stay inside");
            }
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> jdbcRows(app, "jdbc:h2:file:" + app.dataDir().resolve("ledger")) == 4);
            await().atMost(Duration.ofSeconds(5)).until(() -> deliveries(app).equals(Map.of(
                    "file", Map.of(DeliveryStore.DELIVERED, 4), "http", Map.of(DeliveryStore.DELIVERED, 4),
                    "jdbc", Map.of(DeliveryStore.DELIVERED, 4))));
        }
    }

    @Test
    void allFourTargetsAtOnce(@TempDir Path s3Dir) throws Exception {
        try (S3ProxyServer s3 = S3ProxyServer.startTransient(s3Dir); RecordingHttpServer http = new RecordingHttpServer()) {
            String bucket = s3.newBucket("results");
            Map<String, String> props = targets(http, ",s3");
            props.putAll(s3.connectionProperties("ktp.results.s3"));
            props.put("ktp.results.s3.bucket", bucket);
            try (BridgeApp app = BridgeApp.start(dataDir, props)) {
                drop(app, "u5401.png", "u5402-error.jpg", "u5403.jpg");
                await().atMost(Duration.ofSeconds(30)).until(() -> deliveries(app).equals(Map.of(
                        "file", Map.of(DeliveryStore.DELIVERED, 3), "http", Map.of(DeliveryStore.DELIVERED, 3),
                        "jdbc", Map.of(DeliveryStore.DELIVERED, 3), "s3", Map.of(DeliveryStore.DELIVERED, 3))));
                List<JsonNode> files = Results.read(app.results());
                assertEquals(3, files.size());
                assertEquals(3, http.accepted().size());
                assertEquals(3, jdbcRows(app, "jdbc:h2:file:" + app.dataDir().resolve("ledger")));
                for (JsonNode doc : files) {
                    String key = "results/" + doc.path("submissionId").asText() + ".json";
                    JsonNode stored = parse(new String(s3.get(bucket, key).orElseThrow()));
                    assertEquals(doc, stored, "the S3 object equals the file result");
                }
            }
        }
    }

    @Test
    void resultsWaitForAnHttpTargetThatIsDownAndArriveWhenItIsBack() throws Exception {
        try (RecordingHttpServer http = new RecordingHttpServer();
             BridgeApp app = BridgeApp.start(dataDir, targets(http, ""))) {
            http.answer(503);
            drop(app, "u5101.png", "u5102.jpg");
            // the other targets are not held up
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);
            await().atMost(Duration.ofSeconds(10)).until(() -> http.received().size() >= 4);
            assertEquals(0, http.accepted().size());
            assertEquals(Map.of(DeliveryStore.PENDING, 2), deliveries(app).get("http"));

            http.answer(200);
            await().atMost(Duration.ofSeconds(15)).until(() -> http.accepted().size() == 2);
            await().atMost(Duration.ofSeconds(5)).until(() ->
                    Map.of(DeliveryStore.DELIVERED, 2).equals(deliveries(app).get("http")));
            assertEquals(2, jdbcRows(app, "jdbc:h2:file:" + app.dataDir().resolve("ledger")));
            assertEquals(Map.of(DeliveryStore.DELIVERED, 2), deliveries(app).get("jdbc"));
            // delivered results are not sent again
            await().during(Duration.ofMillis(800)).atMost(Duration.ofMillis(10_800))
                    .until(() -> http.accepted().size() == 2);
        }
    }

    @Test
    void aRetryAfterOfTheTargetIsHonouredWithoutHoldingUpAWorker() throws Exception {
        try (RecordingHttpServer http = new RecordingHttpServer();
             BridgeApp app = BridgeApp.start(dataDir, targets(http, ""))) {
            http.answer(503);
            http.retryAfter("3600");
            drop(app, "u5105.png");
            // the attempt ends at once and the next one is due in an hour; no thread sleeps meanwhile
            await().atMost(Duration.ofSeconds(30)).until(() -> lastErrors(app).contains("HTTP 503"));
            long due = nextAttemptAt(app, "http");
            assertTrue(due > System.currentTimeMillis() + 3_500_000, "next attempt at " + due);
            assertEquals(1, http.received().size());
            assertEquals(Map.of(DeliveryStore.DELIVERED, 1), deliveries(app).get("file"));

            // nor is the target asked for a later result before then (retry passes every 200 ms)
            drop(app, "u5106.png");
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(12))
                    .until(() -> http.received().size() == 1);
            assertTrue(nextAttemptAt(app, "http") > System.currentTimeMillis() + 3_500_000);
        }
    }

    @Test
    void aClientErrorIsRecordedAsRefusedAndNotRetried() throws Exception {
        try (LogCapture log = new LogCapture(); RecordingHttpServer http = new RecordingHttpServer();
             BridgeApp app = BridgeApp.start(dataDir, targets(http, ""))) {
            http.answer(422);
            drop(app, "u5201.png");
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    Map.of(DeliveryStore.REFUSED, 1).equals(deliveries(app).get("http")));
            int attempts = http.received().size();
            assertEquals(1, attempts);
            assertEquals(Map.of(DeliveryStore.DELIVERED, 1), deliveries(app).get("file"));
            await().during(Duration.ofMillis(800)).atMost(Duration.ofMillis(10_800))
                    .until(() -> http.received().size() == attempts);
            // a receiver's answer may echo the document: it is kept in the outbox row, not logged
            assertTrue(lastErrors(app).contains("test says 422"), lastErrors(app));
            assertTrue(log.text().contains("HTTP 422"), "the status is logged");
            assertFalse(log.text().contains("test says"), "the response body is not logged");
        }
    }

    @Test
    void anHttpsTargetThatNeverAnswersIsGivenUpOnAfterTheTimeout() throws Exception {
        // accepts connections and never says a word, so the TLS handshake waits for an answer
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             RecordingHttpServer unused = new RecordingHttpServer()) {
            AtomicInteger connections = new AtomicInteger();
            List<Socket> held = new CopyOnWriteArrayList<>();
            Thread acceptor = new Thread(() -> {
                while (!silent.isClosed()) {
                    try {
                        held.add(silent.accept());
                        connections.incrementAndGet();
                    } catch (IOException closed) {
                        return;
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            Map<String, String> props = targets(unused, "");
            props.put("ktp.results.targets", "file,http");
            props.put("ktp.results.http.url", "https://127.0.0.1:" + silent.getLocalPort() + "/ktp/results");
            props.put("ktp.results.http.connect-timeout", "1000");
            props.put("ktp.results.http.timeout", "1000");
            props.put("ktp.results.retry.lease", "10000");
            try (BridgeApp app = BridgeApp.start(dataDir, props)) {
                drop(app, "u5501.png");
                // a second connection means the first attempt ended and was retried, well before 3 minutes
                await().atMost(Duration.ofSeconds(20)).until(() -> connections.get() >= 2);
                assertEquals(Map.of(DeliveryStore.PENDING, 1), deliveries(app).get("http"));
                assertEquals(1, Results.count(app.results()), "the file target is not held up");
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
        }
    }

    @Test
    void anAnswerTrickledPastTheDeadlineFailsTheAttemptAndTheResultIsDeliveredOnceLater() throws Exception {
        try (RecordingHttpServer http = new RecordingHttpServer()) {
            Map<String, String> props = targets(http, "");
            props.put("ktp.results.targets", "file,http");
            // each byte comes well within the timeout: only the deadline ends the attempt. The timeout
            // leaves a loaded machine time for the plain answer later, whose attempt would be retried
            // (the deadline must exceed the connect timeout and the timeout together)
            props.put("ktp.results.http.connect-timeout", "1000");
            props.put("ktp.results.http.timeout", "2500");
            props.put("ktp.results.http.deadline", "4000");
            props.put("ktp.results.retry.lease", "10000");
            http.trickle(Duration.ofMillis(200));
            try (BridgeApp app = BridgeApp.start(dataDir, props)) {
                drop(app, "u5601.png");
                await().atMost(Duration.ofSeconds(30)).until(() -> lastErrors(app).contains("ktp.results.http.deadline"));
                assertEquals(Map.of(DeliveryStore.PENDING, 1), deliveries(app).get("http"));
                assertEquals(1, Results.count(app.results()), "the file target is not held up");

                http.plainBody();
                await().atMost(Duration.ofSeconds(30)).until(() ->
                        Map.of(DeliveryStore.DELIVERED, 1).equals(deliveries(app).get("http")));
                // no attempt outlived its lease, so none overlapped the one that delivered
                await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(11))
                        .until(() -> http.accepted().size() == 1);
            }
        }
    }

    @Test
    void anAnswerWhoseHeadersTrickleIsCutOffAtTheDeadline() throws Exception {
        // answers every request with a status line, then its headers a byte every 200 ms, for ever
        try (ServerSocket slow = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             RecordingHttpServer unused = new RecordingHttpServer()) {
            List<Socket> held = new CopyOnWriteArrayList<>();
            Thread acceptor = new Thread(() -> {
                while (!slow.isClosed()) {
                    try {
                        Socket s = slow.accept();
                        held.add(s);
                        Thread writer = new Thread(() -> {
                            try {
                                s.getOutputStream().write("HTTP/1.1 200 OK\r\nX-Slow: ".getBytes());
                                while (true) {
                                    s.getOutputStream().write('a');
                                    s.getOutputStream().flush();
                                    Thread.sleep(200);
                                }
                            } catch (IOException | InterruptedException gone) {
                                // the client closed the connection
                            }
                        });
                        writer.setDaemon(true);
                        writer.start();
                    } catch (IOException closed) {
                        return;
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            Map<String, String> props = targets(unused, "");
            props.put("ktp.results.targets", "file,http");
            props.put("ktp.results.http.url", "http://127.0.0.1:" + slow.getLocalPort() + "/ktp/results");
            props.put("ktp.results.http.connect-timeout", "1000");
            props.put("ktp.results.http.timeout", "1000");
            props.put("ktp.results.http.deadline", "3000");
            props.put("ktp.results.retry.lease", "10000");
            try (BridgeApp app = BridgeApp.start(dataDir, props)) {
                drop(app, "u5602.png");
                await().atMost(Duration.ofSeconds(30)).until(() -> lastErrors(app).contains("ktp.results.http.deadline"));
                assertEquals(Map.of(DeliveryStore.PENDING, 1), deliveries(app).get("http"));
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
        }
    }

    @Test
    void aTargetUrlWithAQueryKeepsItAsItIs() throws Exception {
        try (RecordingHttpServer http = new RecordingHttpServer()) {
            Map<String, String> props = targets(http, "");
            props.put("ktp.results.targets", "file,http");
            props.put("ktp.results.http.url", http.url("/ktp/results?tenant=acme&region=id"));
            try (BridgeApp app = BridgeApp.start(dataDir, props)) {
                drop(app, "u5605.png");
                await().atMost(Duration.ofSeconds(60)).until(() -> http.received().size() == 1);
                assertEquals("tenant=acme&region=id", http.received().get(0).header("x-test-raw-query"));
                assertEquals("/ktp/results", http.received().get(0).path());
            }
        }
    }

    @Test
    void anOperatorsOwnHttpEndpointKeepsWholeAnswers() throws Exception {
        try (RecordingHttpServer http = new RecordingHttpServer()) {
            Map<String, String> props = targets(http, "");
            props.put("ktp.results.targets", "file,http");
            try (BridgeApp app = BridgeApp.start(dataDir, props)) {
                http.hugeBody(64 << 10);
                // the result target's limits are its endpoint's, not every http endpoint's
                byte[] body = app.context().createProducerTemplate().requestBody(http.url("/elsewhere"), "{}",
                        byte[].class);
                assertEquals(64 << 10, body.length);
            }
        }
    }

    @Test
    void onlyTheStartOfAHugeAnswerIsRead() throws Exception {
        long huge = 512L << 20;
        try (RecordingHttpServer http = new RecordingHttpServer()) {
            Map<String, String> props = targets(http, "");
            props.put("ktp.results.targets", "file,http");
            try (BridgeApp app = BridgeApp.start(dataDir, props)) {
                http.hugeBody(huge);
                drop(app, "u5603.png");
                // the status is the answer: delivered, once
                await().atMost(Duration.ofSeconds(60)).until(() ->
                        Map.of(DeliveryStore.DELIVERED, 1).equals(deliveries(app).get("http")));
                await().atMost(Duration.ofSeconds(30)).until(() -> http.answering() == 0);
                assertEquals(1, http.received().size());
                // what the sockets' buffers took before the bridge closed the connection, not the body
                assertTrue(http.bodyBytesSent() < huge / 8, http.bodyBytesSent() + " bytes sent");

                // a refusal keeps the start of its answer, for ktp_delivery.last_error
                long before = http.bodyBytesSent();
                http.answer(422);
                drop(app, "u5604.png");
                await().atMost(Duration.ofSeconds(60)).until(() ->
                        Map.of(DeliveryStore.DELIVERED, 1, DeliveryStore.REFUSED, 1).equals(deliveries(app).get("http")));
                await().atMost(Duration.ofSeconds(30)).until(() -> http.answering() == 0);
                assertTrue(http.bodyBytesSent() - before < huge / 8, (http.bodyBytesSent() - before) + " bytes sent");
                assertTrue(lastErrors(app).contains("HTTP 422 xxxxxxxx"), lastErrors(app));
                assertEquals(2, http.received().size());
            }
        }
    }

    @Test
    void aShortAnswerLeavesItsConnectionForTheNextResult() throws Exception {
        try (RecordingHttpServer http = new RecordingHttpServer()) {
            Map<String, String> props = targets(http, "");
            props.put("ktp.results.targets", "file,http");
            try (BridgeApp app = BridgeApp.start(dataDir, props)) {
                for (int i = 1; i <= 3; i++) {
                    drop(app, "u570" + i + ".png");
                    int delivered = i;
                    await().atMost(Duration.ofSeconds(30)).until(() -> http.accepted().size() == delivered);
                }
                assertEquals(1, http.accepted().stream().map(RecordingHttpServer.Request::clientPort).distinct()
                        .count(), "one connection for one result after the other");
            }
        }
    }

    @Test
    void aDeadlineLongerThanHalfTheLeaseIsRefusedAtStart() throws Exception {
        try (RecordingHttpServer http = new RecordingHttpServer()) {
            Map<String, String> props = targets(http, "");
            props.put("ktp.results.http.deadline", "61000");
            String error = BridgeApp.startupError(dataDir, props);
            assertTrue(error.contains("ktp.results.http.deadline"), error);
        }
    }

    @Test
    void aLeaseShorterThanTwoAttemptsIsRefusedAtStart() throws Exception {
        try (RecordingHttpServer http = new RecordingHttpServer()) {
            Map<String, String> props = targets(http, "");
            props.put("ktp.results.retry.lease", "60000");
            String error = BridgeApp.startupError(dataDir, props);
            assertTrue(error.contains("ktp.results.retry.lease"), error);
        }
    }

    @Test
    void theJdbcTargetWritesToPostgresql() throws Exception {
        try (PostgresServer pg = PostgresServer.start(); RecordingHttpServer http = new RecordingHttpServer()) {
            String url = pg.createDatabase("partner_results");
            Map<String, String> props = targets(http, "");
            props.put("ktp.results.targets", "file,jdbc");
            props.put("ktp.results.jdbc.url", url);
            props.put("ktp.results.jdbc.user", "postgres");
            try (BridgeApp app = BridgeApp.start(dataDir, props)) {
                drop(app, "u5301.png", "u5302-notektp.png");
                await().atMost(Duration.ofSeconds(30)).until(() -> jdbcRows(app, url) == 2);
                try (Connection c = DriverManager.getConnection(url, "postgres", "");
                     ResultSet rs = c.createStatement().executeQuery(
                             "SELECT partner_user_id, status, result, reason_code, document FROM ktp_result"
                                     + " ORDER BY partner_user_id")) {
                    rs.next();
                    assertEquals("u5301", rs.getString(1));
                    assertEquals("VALID", rs.getString(3));
                    assertEquals("u5301", parse(rs.getString(5)).path("partnerUserId").asText());
                    rs.next();
                    assertEquals("NOT_EKTP", rs.getString(4));
                }
            }
            // a second run on the same database finds its schema and upserts: a redelivered result replaces its row
            try (BridgeApp again = BridgeApp.start(dataDir, props)) {
                Outbox outbox = again.bean("outbox", Outbox.class);
                String ledgerId = again.ledger().createdSince(0).get(0).id();
                try (Connection c = again.bean("ktpDataSource", javax.sql.DataSource.class).getConnection()) {
                    assertEquals(1, c.createStatement().executeUpdate("UPDATE ktp_delivery SET state = 'PENDING',"
                            + " next_attempt_at = 0 WHERE target = 'jdbc' AND ledger_id = '" + ledgerId + "'"));
                }
                // the retry schedule sends it again
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> DeliveryStore.DELIVERED.equals(outbox.store().state(ledgerId, "jdbc")));
                assertEquals(2, jdbcRows(again, url));
            }
        }
    }

    @Test
    void aResultsDatabaseDownAtStartHoldsUpOnlyItsOwnDeliveries() throws Exception {
        try (PostgresServer pg = PostgresServer.start(); RecordingHttpServer http = new RecordingHttpServer()) {
            String url = pg.createDatabase("down_at_start");
            Map<String, String> props = targets(http, "");
            props.put("ktp.results.targets", "file,jdbc");
            props.put("ktp.results.jdbc.url", url);
            props.put("ktp.results.jdbc.user", "postgres");
            // down for maintenance while the bundle starts: its table is not even there yet
            pg.stop();
            try (LogCapture log = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, props)) {
                assertTrue(log.text().contains("cannot be used now (SQL state 08001"), log.text());
                drop(app, "u5801.png", "u5802.jpg");
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);
                await().atMost(Duration.ofSeconds(30)).until(() -> lastErrors(app).contains("SQL state 08001"));
                assertEquals(Map.of(DeliveryStore.PENDING, 2), deliveries(app).get("jdbc"));
                assertEquals(Map.of(DeliveryStore.DELIVERED, 2), deliveries(app).get("file"));

                // back: the first delivery that reaches it creates the table, and the retries deliver
                pg.startAgain();
                await().atMost(Duration.ofSeconds(30)).until(() ->
                        Map.of(DeliveryStore.DELIVERED, 2).equals(deliveries(app).get("jdbc")));
                assertEquals(2, jdbcRows(app, url));
            }
            // what the server answers as a wrong setting still stops the start
            Map<String, String> unknownRole = new HashMap<>(props);
            unknownRole.put("ktp.results.jdbc.user", "no_such_role");
            String error = BridgeApp.startupError(dataDir, unknownRole);
            assertTrue(error.contains("ktp.results.jdbc.url") && error.contains("SQL state 28000"), error);
            Map<String, String> unknownDatabase = new HashMap<>(props);
            unknownDatabase.put("ktp.results.jdbc.url", pg.jdbcUrl("no_such_database"));
            error = BridgeApp.startupError(dataDir, unknownDatabase);
            assertTrue(error.contains("ktp.results.jdbc.url") && error.contains("SQL state 3D000"), error);
        }
    }

    @Test
    void anH2ResultsDatabaseWhoseAccountMayNotFlushItStopsTheStart(@TempDir Path resultsDir) throws Exception {
        String url = "jdbc:h2:" + resultsDir.resolve("results");
        // the table made by an admin, and an account kept to its rights, as the README advises
        DataSources.Pool admin = DataSources.create(url, "sa", "", 1, "results-admin");
        try {
            ResultsDatabase.migrate(admin.dataSource());
            try (Connection c = admin.dataSource().getConnection(); java.sql.Statement st = c.createStatement()) {
                st.execute("CREATE USER writer PASSWORD 'w-pass'");
                st.execute("GRANT SELECT, INSERT, UPDATE ON ktp_result TO writer");
                st.execute("GRANT SELECT ON ktp_results_schema_version TO writer");
            }
        } finally {
            admin.closer().close();
        }
        try (RecordingHttpServer http = new RecordingHttpServer()) {
            Map<String, String> props = targets(http, "");
            props.put("ktp.results.targets", "file,jdbc");
            props.put("ktp.results.jdbc.url", url);
            props.put("ktp.results.jdbc.user", "writer");
            props.put("ktp.results.jdbc.password", "w-pass");
            String error = BridgeApp.startupError(dataDir, props);
            assertTrue(error.contains("ktp.results.jdbc.url") && error.contains("SQL state 90040")
                    && error.contains("only an admin account"), error);
        }
    }

    @Test
    void aResultsUrlNoDriverTakesStillStopsTheStart() throws Exception {
        try (RecordingHttpServer http = new RecordingHttpServer()) {
            Map<String, String> props = targets(http, "");
            props.put("ktp.results.targets", "file,jdbc");
            // a misspelt scheme; and a port that is no number, which PostgreSQL's driver does not take either
            props.put("ktp.results.jdbc.url", "jdbc:postgres://127.0.0.1:" + BridgeApp.freePort() + "/results");
            String error = BridgeApp.startupError(dataDir, props);
            assertTrue(error.contains("'ktp.results.jdbc.url' (KTP_RESULTS_JDBC_URL) is no JDBC URL"), error);
            props.put("ktp.results.jdbc.url", "jdbc:postgresql://127.0.0.1:port/results");
            error = BridgeApp.startupError(dataDir, props);
            assertTrue(error.contains("'ktp.results.jdbc.url' (KTP_RESULTS_JDBC_URL) is no JDBC URL"), error);
        }
    }

    @Test
    void aResultsDatabaseIsNotOpenedWhileJdbcIsNoTarget() throws Exception {
        try (RecordingHttpServer http = new RecordingHttpServer()) {
            Map<String, String> props = targets(http, "");
            props.put("ktp.results.targets", "file");
            // nothing listens there
            props.put("ktp.results.jdbc.url", "jdbc:postgresql://127.0.0.1:" + BridgeApp.freePort() + "/results");
            try (BridgeApp app = BridgeApp.start(dataDir, props)) {
                drop(app, "u5803.png");
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            }
        }
    }

    @Test
    void theJdbcTargetNeedsNoRightToCreateOnceItsTablesAreThere() throws Exception {
        try (PostgresServer pg = PostgresServer.start(); RecordingHttpServer http = new RecordingHttpServer()) {
            String url = pg.createDatabase("least_privilege");
            // the DBA's part, as README (JDBC target) gives it, on a schema where others may not create
            // anything (PostgreSQL 15's default for public, made sure of here)
            try (Connection dba = DriverManager.getConnection(url, "postgres", "");
                 Statement st = dba.createStatement()) {
                st.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
                st.execute("CREATE ROLE ktp_bridge LOGIN");
                st.execute("CREATE TABLE ktp_results_schema_version (version INT NOT NULL PRIMARY KEY,"
                        + " script VARCHAR(200) NOT NULL, applied_at BIGINT NOT NULL)");
                for (String statement : resultsScript().split(";")) {
                    if (!statement.isBlank()) {
                        st.execute(statement);
                    }
                }
                st.execute("INSERT INTO ktp_results_schema_version VALUES (1, 'V1__results.sql', 0)");
                st.execute("GRANT SELECT, INSERT, UPDATE ON ktp_result TO ktp_bridge");
                st.execute("GRANT SELECT ON ktp_results_schema_version TO ktp_bridge");
            }
            Map<String, String> props = targets(http, "");
            props.put("ktp.results.targets", "file,jdbc");
            props.put("ktp.results.jdbc.url", url);
            props.put("ktp.results.jdbc.user", "ktp_bridge");
            try (BridgeApp app = BridgeApp.start(dataDir, props)) {
                drop(app, "u5804.png", "u5805.jpg");
                await().atMost(Duration.ofSeconds(30)).until(() ->
                        Map.of(DeliveryStore.DELIVERED, 2).equals(deliveries(app).get("jdbc")));
                assertEquals(2, jdbcRows(app, url));
            }
            assertFalse(pg.serverLog().contains("permission denied"), pg.serverLog());
        }
    }

    /** The statements of db/results/V1__results.sql, without its comment lines. */
    private static String resultsScript() throws IOException {
        try (InputStream in = TargetsTest.class.getResourceAsStream("/db/results/V1__results.sql")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(line -> !line.strip().startsWith("--")).collect(Collectors.joining("\n"));
        }
    }

    private static void drop(BridgeApp app, String... names) throws Exception {
        for (String n : names) {
            Results.drop(app.inbox(), n, SampleImages.card(n, n.endsWith(".png") ? "png" : "jpg"));
        }
    }

    private static String lastErrors(BridgeApp app) throws Exception {
        try (Connection c = app.bean("ktpDataSource", javax.sql.DataSource.class).getConnection();
             ResultSet rs = c.createStatement().executeQuery("SELECT last_error FROM ktp_delivery")) {
            StringBuilder errors = new StringBuilder();
            while (rs.next()) {
                errors.append(rs.getString(1)).append('\n');
            }
            return errors.toString();
        }
    }

    private static long nextAttemptAt(BridgeApp app, String target) throws Exception {
        try (Connection c = app.bean("ktpDataSource", javax.sql.DataSource.class).getConnection();
             java.sql.PreparedStatement ps = c.prepareStatement(
                     "SELECT MIN(next_attempt_at) FROM ktp_delivery WHERE target = ?")) {
            ps.setString(1, target);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), "a delivery row for " + target);
                return rs.getLong(1);
            }
        }
    }

    private static Map<String, Map<String, Integer>> deliveries(BridgeApp app) {
        return app.bean("outbox", Outbox.class).store().counts();
    }

    private static int jdbcRows(BridgeApp app, String url) throws Exception {
        String user = url.startsWith("jdbc:h2") ? "sa" : "postgres";
        // the same URL the bundle opened the file with, so that H2 shares the open database
        try (Connection c = DriverManager.getConnection(url.startsWith("jdbc:h2")
                        ? H2FileUrls.forLedger(url) + ";AUTO_SERVER=FALSE" : url,
                user, "");
             ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM ktp_result")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}

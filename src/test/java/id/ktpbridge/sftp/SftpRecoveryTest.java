package id.ktpbridge.sftp;

import static id.ktpbridge.sftp.SftpSourceTest.PASSWORD;
import static id.ktpbridge.sftp.SftpSourceTest.sftp;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import id.ktpbridge.testkit.SftpServer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SFTP source across a restart of the application and an outage of the server. */
class SftpRecoveryTest {

    @TempDir
    Path tmp;

    @Test
    void processedFilesAreNotSubmittedAgainAfterARestart() throws Exception {
        Path data = tmp.resolve("data");
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            FileTime mtime = FileTime.from(Instant.now().minusSeconds(3600));
            for (String name : List.of("u5401.png", "u5402.jpg")) {
                Files.write(inbox.resolve(name), SampleImages.card(name, name.endsWith("png") ? "png" : "jpg"));
                Files.setLastModifiedTime(inbox.resolve(name), mtime);
            }
            try (BridgeApp app = BridgeApp.start(data, sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);
                await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(server.path("/inbox/.done/u5401.png"))
                        && Files.exists(server.path("/inbox/.done/u5402.jpg")));
            }

            // the same files come back unchanged (name, size, modification time), plus one new file
            for (String name : List.of("u5401.png", "u5402.jpg")) {
                Files.copy(server.path("/inbox/.done/" + name), inbox.resolve(name), StandardCopyOption.COPY_ATTRIBUTES);
                Files.setLastModifiedTime(inbox.resolve(name), mtime);
            }
            Files.write(inbox.resolve("u5403.png"), SampleImages.card("u5403", "png"));

            try (BridgeApp app = BridgeApp.start(data, sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 3);
                // later polls still skip the returned files
                await().during(Duration.ofMillis(1200)).atMost(Duration.ofSeconds(5))
                        .until(() -> Results.count(app.results()) == 3);
                assertEquals(3, app.ledger().createdSince(0).size(), "one new ledger row: the new file's");
                assertEquals(1, app.sandbox().submissionCount(), "only the new file was submitted");
                assertTrue(Files.exists(inbox.resolve("u5401.png")) && Files.exists(inbox.resolve("u5402.jpg")),
                        "already processed files are left where they are");
                assertFalse(Files.exists(inbox.resolve("u5403.png")));
            }
        }
    }

    @Test
    void aFileAKillLeftInTheInboxBetweenItsClaimsConfirmAndItsMoveIsMovedAtTheNextStartWithoutASecondSubmission()
            throws Exception {
        Path data = tmp.resolve("data");
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Files.write(inbox.resolve("u5411.png"), SampleImages.card("u5411", "png"));
            try (BridgeApp app = BridgeApp.start(data, sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                        && Files.exists(server.path("/inbox/.done/u5411.png")) && letGo(app));
                assertEquals(1, app.sandbox().submissionCount());
                leftInTheInboxByAKill(app, server, "u5411.png");
            }

            try (BridgeApp app = BridgeApp.start(data, sftp(server, tmp))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(server.path("/inbox/.done/u5411.png"))
                        && !Files.exists(inbox.resolve("u5411.png")) && letGo(app));
                assertEquals(0, app.sandbox().submissionCount(), "not submitted again");
                assertEquals(1, app.ledger().createdSince(0).size(), "the same input, no new ledger row");
                assertEquals(1, Results.count(app.results()), "no second result");
            }
        }
    }

    @Test
    void aFileADeadInstanceLeftInTheInboxAfterItsClaimsConfirmIsMovedByALaterPollWithoutASecondSubmission()
            throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Files.write(inbox.resolve("u5412.png"), SampleImages.card("u5412", "png"));
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"),
                    sftp(server, tmp, "ktp.source.claim-ttl", "3s"))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                        && Files.exists(server.path("/inbox/.done/u5412.png")) && letGo(app));
                // as another instance of a cluster, killed after its confirm, would have left it
                leftInTheInboxByAKill(app, server, "u5412.png");
                // no sooner than the claim's time to live after the confirm: its holder may still be moving it
                await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(server.path("/inbox/.done/u5412.png"))
                        && !Files.exists(inbox.resolve("u5412.png")) && letGo(app));
                assertEquals(1, app.sandbox().submissionCount(), "submitted once");
                assertEquals(1, app.ledger().createdSince(0).size());
                assertEquals(1, Results.count(app.results()));
            }
        }
    }

    /**
     * What a process killed between its confirm of a file's claim and the move of the file leaves:
     * the claim confirmed, the input not let go of by its source, the file in the inbox as it was
     * (name, size, modification time).
     */
    private static void leftInTheInboxByAKill(BridgeApp app, SftpServer server, String name) throws Exception {
        try (Connection c = app.ledger().dataSource().getConnection(); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM ktp_processed_input WHERE repository = 'sftp'"
                    + " AND confirmed_at IS NOT NULL")) {
                assertTrue(rs.next() && rs.getInt(1) == 1, "the file's claim is confirmed");
            }
            assertEquals(1, st.executeUpdate("UPDATE ktp_submission SET source_released_at = NULL"));
        }
        Files.move(server.path("/inbox/.done/" + name), server.path("/inbox/" + name));
    }

    /** Whether the source let go of every input in the ledger. */
    private static boolean letGo(BridgeApp app) throws Exception {
        try (Connection c = app.ledger().dataSource().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM ktp_submission WHERE source_released_at IS NULL")) {
            return rs.next() && rs.getInt(1) == 0;
        }
    }

    @Test
    void anOutageIsLoggedBrieflyAndTheSourceRecovers() throws Exception {
        try (SftpServer server = SftpServer.start(tmp.resolve("server"), "partner", PASSWORD)) {
            Path inbox = Files.createDirectories(server.path("/inbox"));
            Files.write(inbox.resolve("u5501.png"), SampleImages.card("u5501", "png"));
            // polls every 200 ms; after a failed poll the next attempt comes 6 intervals (1.2 s) later
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"),
                    sftp(server, tmp, "ktp.source.sftp.error-backoff-polls", "6"))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);

                String outageLog;
                List<Long> failedPollsAt;
                try (LogCapture logs = new LogCapture(); FailedPolls failedPolls = new FailedPolls()) {
                    server.suspend();
                    await().atMost(Duration.ofSeconds(30)).until(() -> failedPolls.times().size() >= 2);
                    failedPollsAt = failedPolls.times();
                    outageLog = applicationLines(logs.text());
                }
                // without the back-off a failed poll would be logged every 200 ms; the times are the
                // application's own, taken as it logged, so a slow test thread cannot shorten the gap
                long gapMillis = failedPollsAt.get(1) - failedPollsAt.get(0);
                assertTrue(gapMillis >= 1000, "polls were not paused after a failure: " + gapMillis + " ms");
                // the application's lines only: the test's SFTP server logs its own side of the outage
                long warnings = outageLog.lines().filter(l -> l.startsWith("WARN") || l.startsWith("ERROR")).count();
                assertTrue(warnings <= 4, "two failed polls, at most two lines each:\n" + outageLog);
                assertFalse(outageLog.contains("\tat "), "no stack traces:\n" + outageLog);
                assertTrue(outageLog.contains("SFTP source: polling sftp://127.0.0.1:" + server.port()
                        + " failed: ConnectException: Connection refused"), outageLog);
                assertFalse(outageLog.contains(PASSWORD));

                server.resume();
                Files.write(inbox.resolve("u5502.png"), SampleImages.card("u5502", "png"));
                await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 2);
            }
        }
    }

    /** When the application logged its failed polls (epoch ms, as recorded in each log event). */
    private static final class FailedPolls extends AbstractAppender implements AutoCloseable {

        private final List<Long> times = new CopyOnWriteArrayList<>();
        private final LoggerContext context = (LoggerContext) LogManager.getContext(false);

        FailedPolls() {
            super("failed-polls-" + System.nanoTime(), null, null, true, Property.EMPTY_ARRAY);
            start();
            context.getConfiguration().getRootLogger().addAppender(this, null, null);
            context.updateLoggers();
        }

        @Override
        public void append(LogEvent event) {
            if (event.getMessage().getFormattedMessage().startsWith("SFTP source: polling")) {
                times.add(event.getTimeMillis());
            }
        }

        List<Long> times() {
            return List.copyOf(times);
        }

        @Override
        public void close() {
            context.getConfiguration().getRootLogger().removeAppender(getName());
            context.updateLoggers();
            stop();
        }
    }

    /** The log without the lines (and stack traces) of the embedded SSH server's own loggers. */
    private static String applicationLines(String log) {
        StringBuilder kept = new StringBuilder();
        boolean server = false;
        for (String line : log.split("\n")) {
            if (line.matches("^(TRACE|DEBUG|INFO|WARN|ERROR|FATAL) \\S+ - .*")) {
                server = line.split(" ")[1].startsWith("org.apache.sshd.");
            }
            if (!server) {
                kept.append(line).append('\n');
            }
        }
        return kept.toString();
    }
}

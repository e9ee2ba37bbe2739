package id.ktpbridge.submit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dropped file is claimed once it has stopped changing, but read only when a submission worker
 * comes to it. Copied over in place meanwhile (an SMB copy, {@code cp} onto the same name), or while
 * it is read, it is given back with nothing recorded and taken once the copy is over: one result,
 * for the whole new file (the part read was rejected CORRUPT_IMAGE, and the whole file got a second
 * result). Another file renamed over it is no such copy: a version read whole goes on, and the new
 * file gets a result of its own. The read-lock minimum age (8 s) keeps a part written from being
 * taken before the test writes the rest, however slow the machine.
 */
class ChangedFileTest {

    @TempDir
    Path dir;

    @Test
    void aFileCopiedOverInPlaceWhileItWaitsForAWorkerIsTakenOnceTheCopyIsOver() throws Exception {
        byte[] first = SampleImages.card("u7411", "png");
        byte[] copiedOver = SampleImages.card("u7412-copied-over", "png");
        CountDownLatch firstHeld = new CountDownLatch(1);
        // one worker and room for one input in its queue; the minimum age holds a file being written back
        try (LogCapture log = new LogCapture();
             BridgeApp app = BridgeApp.start(dir.resolve("data"), Map.of("ktp.concurrency", "1",
                     "ktp.source.queue-size", "1", "ktp.source.read-lock-min-age", "8s"))) {
            app.bean("intake", Intake.class).opener(file -> {
                if (file.getFileName().toString().equals("u7411.png")) {
                    // the one worker is busy with the first file, as with a slow OneKYC
                    try {
                        firstHeld.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS);
            });
            Results.drop(app.inbox(), "u7411.png", first);
            Results.drop(app.inbox(), "u7412.png", SampleImages.card("u7412", "png"));
            ThreadPoolExecutor workers = app.bean("submitWorkers", ThreadPoolExecutor.class);
            // the second file is claimed and waits for the worker
            await().atMost(Duration.ofSeconds(20)).until(() -> workers.getActiveCount() == 1
                    && workers.getQueue().size() == 1);

            Path queued = app.inbox().resolve("u7412.png");
            writeHalf(queued, copiedOver);
            firstHeld.countDown();
            // the worker comes to it while the copy goes on
            await().atMost(Duration.ofSeconds(20)).until(() -> log.text().contains("its file changed after it was listed")
                    || Results.count(app.results()) >= 2);
            Files.write(queued, copiedOver);

            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) >= 2);
            // a third result (the whole file after its part) would come within this
            await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(10))
                    .until(() -> Results.count(app.results()) == 2);
            List<JsonNode> results = Results.read(app.results());
            for (JsonNode r : results) {
                assertEquals("COMPLETED", r.path("status").asText(), results.toString());
            }
            JsonNode second = Results.bySourceFile(app.results()).get("u7412.png");
            assertEquals(SampleImages.sha256(copiedOver), second.path("sourceSha256").asText(), "the whole new file");
            assertEquals(2, app.ledger().createdSince(0).size(), "a row for the part read");
            assertEquals(2, app.sandbox().submissionCount());
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(app.done().resolve("u7412.png")));
            assertFalse(Files.exists(app.failed().resolve("u7412.png")), "the part read was quarantined");
            assertFalse(log.text().contains("u7412"), "the file name (it may hold a NIK) is in the log");
        }
    }

    @Test
    void aFileCopiedOverWhileItIsReadIsTakenOnceTheCopyIsOver() throws Exception {
        byte[] copiedOver = SampleImages.card("u7413-copied-over", "png");
        AtomicInteger opened = new AtomicInteger();
        try (LogCapture log = new LogCapture();
             BridgeApp app = BridgeApp.start(dir.resolve("data"), Map.of("ktp.source.read-lock-min-age", "8s"))) {
            app.bean("intake", Intake.class).opener(file -> {
                if (opened.incrementAndGet() == 1) {
                    // a copy over it begins as it is opened, after the worker's look at it
                    writeHalf(file, copiedOver);
                }
                return Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS);
            });
            Results.drop(app.inbox(), "u7413.png", SampleImages.card("u7413", "png"));
            Path file = app.inbox().resolve("u7413.png");
            await().atMost(Duration.ofSeconds(20)).until(() -> log.text().contains("its file changed while it was read")
                    || Results.count(app.results()) >= 1);
            Files.write(file, copiedOver);

            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) >= 1);
            await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(10))
                    .until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals(SampleImages.sha256(copiedOver), result.path("sourceSha256").asText(), "the whole new file");
            assertEquals(2, opened.get());
            assertEquals(1, app.ledger().createdSince(0).size(), "a row for the part read");
            assertEquals(1, app.sandbox().submissionCount());
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(app.done().resolve("u7413.png")));
            assertFalse(Files.exists(app.failed().resolve("u7413.png")), "the part read was quarantined");
            assertTrue(log.text().contains("taken again once it has stopped changing"), log.text());
        }
    }

    @Test
    void aFileRenamedOverWhileItIsReadGoesOnAndTheNewOneIsTakenOnItsOwn() throws Exception {
        byte[] original = SampleImages.card("u7414", "png");
        byte[] renamedOver = SampleImages.card("u7414-renamed-over", "png");
        AtomicInteger opened = new AtomicInteger();
        try (BridgeApp app = BridgeApp.start(dir.resolve("data"), Map.of("ktp.source.read-lock-min-age", "2s"))) {
            app.bean("intake", Intake.class).opener(file -> {
                java.io.InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS);
                if (opened.incrementAndGet() == 1) {
                    // a scanner writes the next image under the same name once it has opened this one
                    Path staging = Files.write(dir.resolve("staging.png"), renamedOver);
                    Files.move(staging, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                            java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                }
                return in;
            });
            Results.drop(app.inbox(), "u7414.png", original);

            await().atMost(Duration.ofSeconds(40)).until(() -> Results.count(app.results()) >= 2);
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10))
                    .until(() -> Results.count(app.results()) == 2);
            List<String> read = Results.read(app.results()).stream().map(r -> r.path("sourceSha256").asText())
                    .sorted().toList();
            assertEquals(java.util.stream.Stream.of(SampleImages.sha256(original), SampleImages.sha256(renamedOver))
                    .sorted().toList(), read, "each version once, the one read whole too");
            assertEquals(2, app.sandbox().submissionCount());
        }
    }

    @Test
    void aFileRenamedOverBetweenItsLookAndItsOpenIsTakenOnceAsTheNewOne() throws Exception {
        byte[] renamedOver = SampleImages.card("u7415-renamed-over", "png");
        AtomicInteger opened = new AtomicInteger();
        try (LogCapture log = new LogCapture();
             BridgeApp app = BridgeApp.start(dir.resolve("data"), Map.of("ktp.source.read-lock-min-age", "2s"))) {
            app.bean("intake", Intake.class).opener(file -> {
                if (opened.incrementAndGet() == 1) {
                    // renamed over after the worker's look at it, before its open: the stream is the new file's
                    Path staging = Files.write(dir.resolve("staging.png"), renamedOver);
                    Files.move(staging, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                            java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                }
                return Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS);
            });
            Results.drop(app.inbox(), "u7415.png", SampleImages.card("u7415", "png"));

            await().atMost(Duration.ofSeconds(40)).until(() -> Results.count(app.results()) >= 1);
            // read under the old file's stamp, it was let go of as replaced and the same bytes taken again
            await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(10))
                    .until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals(SampleImages.sha256(renamedOver), result.path("sourceSha256").asText());
            assertEquals(1, app.sandbox().submissionCount());
            // the bytes read are the file at the path: it goes with its input, not left for a second take
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(app.done().resolve("u7415.png")));
            assertFalse(log.text().contains("was replaced while it was processed"), log.text());
        }
    }

    /** Copies over {@code file} in place (the same file, truncated), stopped half-way. */
    private static void writeHalf(Path file, byte[] content) throws IOException {
        try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            out.write(content, 0, content.length / 2);
        }
    }
}

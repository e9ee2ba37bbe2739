package id.ktpbridge.submit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.ingest.FileSidecar;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dropped image whose read fails on a network mount (an I/O error, a stale handle) is taken
 * again, as its sidecar would be; only when that keeps happening, or the bundle may not read it,
 * is it rejected as unreadable.
 */
class LocalReadErrorTest {

    @TempDir
    Path dir;

    private final Map<String, AtomicInteger> opened = new ConcurrentHashMap<>();

    @Test
    void anImageWhoseReadFailedForAMomentIsTakenAgainAndSubmitted() throws Exception {
        try (LogCapture log = new LogCapture();
             BridgeApp app = BridgeApp.start(dir.resolve("data"), Map.of())) {
            // the mount's I/O error part-way through the first two reads
            app.bean("intake", Intake.class).opener(file -> opened(file) <= 2 ? failingPartWay(file)
                    : Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS));
            Results.drop(app.inbox(), "u7321.png", SampleImages.card("u7321", "png"));

            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(app.done().resolve("u7321.png")));
            assertEquals(3, opened.get("u7321.png").get());
            assertEquals(1, app.sandbox().submissionCount());
            assertEquals(1, app.ledger().createdSince(0).size(), "the tries before left rows");
            assertFalse(Files.exists(app.failed().resolve("u7321.png")), "it was quarantined");
            assertTrue(log.text().contains("reading failed (IOException: Input/output error)"), log.text());
            assertFalse(log.text().contains("u7321"), "the file name (it may hold a NIK) is in the log");
        }
    }

    @Test
    void anImageThatKeepsFailingIsRejectedAfterItsTriesAndOneTheBundleMayNotReadAtOnce() throws Exception {
        // no window: the 5 reads in a row are enough
        try (BridgeApp app = BridgeApp.start(dir.resolve("data"), Map.of("ktp.source.file.broken-read-window", "0"))) {
            app.bean("intake", Intake.class).opener(file -> {
                opened(file);
                if (file.getFileName().toString().equals("u7323.png")) {
                    // the tests run as root, who may read any file: the refusal is the disk's answer
                    throw new AccessDeniedException(file.toString());
                }
                return failingPartWay(file);
            });
            Results.drop(app.inbox(), "u7322.png", SampleImages.card("u7322", "png"));
            Results.drop(app.inbox(), "u7323.png", SampleImages.card("u7323", "png"));

            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 2
                    && Files.exists(app.failed().resolve("u7322.png")) && Files.exists(app.failed().resolve("u7323.png")));
            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            JsonNode failing = results.get("u7322.png");
            assertEquals("REJECTED", failing.path("status").asText(), failing.toString());
            assertEquals("UNREADABLE_SOURCE", failing.path("reasonCode").asText());
            assertTrue(failing.path("errorMessage").asText()
                    .endsWith("reading failed (IOException: Input/output error, 5 times in a row)"), failing.toString());
            assertEquals(FileSidecar.READ_TRIES, opened.get("u7322.png").get());

            JsonNode refused = results.get("u7323.png");
            assertEquals("UNREADABLE_SOURCE", refused.path("reasonCode").asText(), refused.toString());
            assertTrue(refused.path("errorMessage").asText().endsWith("reading failed: AccessDeniedException"),
                    refused.toString());
            assertEquals(1, opened.get("u7323.png").get(), "permission denied is not tried again");
            assertEquals(0, app.sandbox().submissionCount());
            assertEquals(2, app.ledger().createdSince(0).size(), "the tries before left rows");
        }
    }

    @Test
    void anImageThatKeepsFailingIsRejectedOnlyOnceItsFailuresSpanTheWindowWithoutHoldingAWorker() throws Exception {
        // one worker: the pauses between the failing image's reads must leave it to the other images
        try (BridgeApp app = BridgeApp.start(dir.resolve("data"),
                Map.of("ktp.source.file.broken-read-window", "15s", "ktp.concurrency", "1"))) {
            Map<String, Long> firstOpened = new ConcurrentHashMap<>();
            Map<String, Long> lastOpened = new ConcurrentHashMap<>();
            AtomicInteger failingReadsBeforeTheOther = new AtomicInteger(-1);
            AtomicLong sinceTheFailingRead = new AtomicLong(-1);
            byte[] otherImage = SampleImages.card("u7325", "png");
            app.bean("intake", Intake.class).opener(file -> {
                String name = file.getFileName().toString();
                int reads = opened(file);
                long now = System.currentTimeMillis();
                firstOpened.putIfAbsent(name, now);
                lastOpened.put(name, now);
                if (name.equals("u7325.png")) {
                    failingReadsBeforeTheOther.set(opened.get("u7324.png").get());
                    sinceTheFailingRead.set(now - lastOpened.get("u7324.png"));
                    return Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS);
                }
                if (reads == FileSidecar.READ_TRIES) {
                    // dropped at the failing one's 5th read, ahead of its 5 s pause: the test's own
                    // polling is not part of the time measured below
                    Results.drop(app.inbox(), "u7325.png", otherImage);
                }
                return failingPartWay(file);
            });
            Results.drop(app.inbox(), "u7324.png", SampleImages.card("u7324", "png"));
            // its 5th read failed some 10 s after the first (pauses of 1 to 4 s), within the window
            await().atMost(Duration.ofSeconds(40)).until(() -> opened.containsKey("u7324.png")
                    && opened.get("u7324.png").get() == FileSidecar.READ_TRIES);
            // (the other image, dropped by then, may have its result already)
            assertFalse(Results.bySourceFile(app.results()).containsKey("u7324.png"),
                    "rejected before the window was over");

            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 2
                    && Files.exists(app.failed().resolve("u7324.png")));
            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            JsonNode failing = results.get("u7324.png");
            assertEquals("REJECTED", failing.path("status").asText(), failing.toString());
            assertEquals("UNREADABLE_SOURCE", failing.path("reasonCode").asText());
            assertTrue(failing.path("errorMessage").asText().endsWith("reading failed (IOException: Input/output"
                    + " error, at least 5 times in a row, over at least 15 s)"), failing.toString());
            assertTrue(opened.get("u7324.png").get() > FileSidecar.READ_TRIES, "reads " + opened);
            long span = lastOpened.get("u7324.png") - firstOpened.get("u7324.png");
            assertTrue(span >= 15_000, "rejected " + span + " ms after its first read");

            // the other image was taken at once during the failing one's 5 s pause: no worker waited it out
            assertEquals("COMPLETED", results.get("u7325.png").path("status").asText(), results.toString());
            assertEquals(FileSidecar.READ_TRIES, failingReadsBeforeTheOther.get(),
                    "the other image waited for the failing one's next read");
            // a worker holding the failing one's 5 s pause would read the other 5 s or more after it
            assertTrue(sinceTheFailingRead.get() < 4_000, "the other image was read "
                    + sinceTheFailingRead.get() + " ms after the failing one's 5th read");
        }
    }

    @Test
    void aNewFileUnderTheNameOfOneWhoseReadsFailedStartsItsOwnCount() throws Exception {
        // no window: the 5th failed read in a row rejects
        try (BridgeApp app = BridgeApp.start(dir.resolve("data"), Map.of("ktp.source.file.broken-read-window", "0"))) {
            app.bean("intake", Intake.class).opener(file -> {
                opened(file);
                return failingPartWay(file);
            });
            Results.drop(app.inbox(), "u7327.png", SampleImages.card("first", "png"));
            Path first = app.inbox().resolve("u7327.png");
            await().atMost(Duration.ofSeconds(30)).until(() -> opened.containsKey("u7327.png")
                    && opened.get("u7327.png").get() >= 3);
            // removed (or taken by another instance) during its pause; a new file of that name comes later
            Files.delete(first);
            int before = opened.get("u7327.png").get();
            assertTrue(before < FileSidecar.READ_TRIES, "rejected already: " + before);
            Results.drop(app.inbox(), "u7327.png", SampleImages.card("second", "png"));
            Files.setLastModifiedTime(app.inbox().resolve("u7327.png"), java.nio.file.attribute.FileTime.fromMillis(
                    System.currentTimeMillis() - 60_000));

            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 1);
            JsonNode rejected = Results.read(app.results()).get(0);
            assertEquals("UNREADABLE_SOURCE", rejected.path("reasonCode").asText(), rejected.toString());
            assertEquals(FileSidecar.READ_TRIES, opened.get("u7327.png").get() - before,
                    "the new file's own 5 reads, not the rest of the old one's");
        }
    }

    @Test
    void inAClusterAFileGoneBetweenItsListingAndItsReadIsLeftWithoutAResult() throws Exception {
        try (BridgeApp app = BridgeApp.start(dir.resolve("data"), Map.of())) {
            Intake intake = app.bean("intake", Intake.class);
            // as instances sharing a folder are: another one took it, and this one's listing was stale
            intake.clustered(true);
            intake.opener(file -> {
                if (opened(file) == 1) {
                    throw new java.nio.file.NoSuchFileException(file.toString());
                }
                return Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS);
            });
            Results.drop(app.inbox(), "u7326.png", SampleImages.card("u7326", "png"));

            // here the file is still there, and its next read works: one result, COMPLETED, no rejection
            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals(2, opened.get("u7326.png").get());
            assertEquals(1, app.ledger().createdSince(0).size(), "the gone read recorded nothing");
        }
    }

    private int opened(Path file) {
        return opened.computeIfAbsent(file.getFileName().toString(), k -> new AtomicInteger()).incrementAndGet();
    }

    /** The file's first bytes, then the error a network mount gives for a read it could not do. */
    private static InputStream failingPartWay(Path file) throws IOException {
        InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS);
        return new java.io.FilterInputStream(in) {
            private int left = 100;

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (left <= 0) {
                    throw new IOException("Input/output error");
                }
                int n = super.read(b, off, Math.min(len, left));
                left -= Math.max(n, 0);
                return n;
            }
        };
    }
}

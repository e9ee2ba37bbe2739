package id.ktpbridge.ingest;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.apache.camel.component.file.GenericFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A drop folder whose clock runs behind this host's: files are taken once old enough by its clock. */
class DropFolderClockTest {

    @TempDir
    Path dir;

    @Test
    void aFileBeingWrittenOnAShareWhoseClockRunsBehindIsHeldBack() {
        AtomicLong behind = new AtomicLong(10_000);
        DropFolderClock clock = new DropFolderClock(2_000, f -> true, behind::get);
        long now = System.currentTimeMillis();
        // written a moment ago by the share's clock, which makes it look 10 s older here
        assertFalse(clock.accept(file(now - 10_500)), "half a second old by the share's clock");
        assertTrue(clock.accept(file(now - 12_500)), "two and a half seconds old by its clock");
        assertEquals(10_000, clock.behind());
    }

    @Test
    void aFileYoungerThanTheMinimumAgeIsHeldBackOnALocalFolderToo() {
        DropFolderClock clock = new DropFolderClock(2_000, f -> true, () -> 0);
        long now = System.currentTimeMillis();
        assertFalse(clock.accept(file(now - 500)), "half a second old: left for a later scan");
        assertTrue(clock.accept(file(now - 2_500)));
    }

    /**
     * Camel's read lock waits on the scan's thread for a file to reach the minimum age, up to a minute:
     * a file being copied slowly (its time stamp moving all the while) held up every file after it.
     */
    @Test
    void aFileStillBeingWrittenDoesNotHoldUpTheOthers() throws Exception {
        try (BridgeApp app = BridgeApp.start(dir.resolve("data"), Map.of("ktp.source.read-lock-min-age", "2000"))) {
            Path inbox = Files.createDirectories(app.inbox());
            // first by name, so a scan comes to it first
            Path young = Files.write(inbox.resolve("u7401.png"), SampleImages.card("u7401", "png"));
            AtomicBoolean writing = new AtomicBoolean(true);
            Thread writer = new Thread(() -> {
                while (writing.get()) {
                    try {
                        Files.setLastModifiedTime(young, FileTime.from(Instant.now()));
                        Thread.sleep(200);
                    } catch (Exception e) {
                        return;
                    }
                }
            });
            writer.start();
            try {
                Results.drop(inbox, "u7402.png", SampleImages.card("u7402", "png"));
                Files.setLastModifiedTime(inbox.resolve("u7402.png"), FileTime.from(Instant.now().minusSeconds(10)));

                await().atMost(Duration.ofSeconds(20)).until(() -> Results.bySourceFile(app.results())
                        .containsKey("u7402.png"));
                assertTrue(writer.isAlive(), "the other file was still being written");
                assertEquals("COMPLETED", Results.bySourceFile(app.results()).get("u7402.png").path("status").asText());
                assertFalse(Results.bySourceFile(app.results()).containsKey("u7401.png"), "taken while written");
            } finally {
                writing.set(false);
                writer.join();
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> Results.bySourceFile(app.results())
                    .containsKey("u7401.png"));
        }
    }

    @Test
    void clocksWithinTheToleranceAndProbesThatFailChangeNothing() {
        AtomicLong behind = new AtomicLong(1_500);
        DropFolderClock clock = new DropFolderClock(2_000, f -> true, behind::get);
        long now = System.currentTimeMillis();
        assertTrue(clock.accept(file(now - 2_500)), "1.5 s apart is time-stamp granularity, not a clock behind");
        assertEquals(0, clock.behind());

        AtomicLong failing = new AtomicLong(10_000);
        DropFolderClock measured = new DropFolderClock(2_000, f -> true, failing::get);
        assertEquals(10_000, measured.behind());
        failing.set(-1);
        assertEquals(10_000, measured.behind(), "a probe that could not be written keeps what was measured");
    }

    @Test
    void theNextFilterAndFoldersHaveTheirSay() {
        DropFolderClock clock = new DropFolderClock(2_000, f -> false, () -> 0);
        assertFalse(clock.accept(file(0)));
        GenericFile<File> folder = file(System.currentTimeMillis());
        folder.setDirectory(true);
        assertTrue(new DropFolderClock(2_000, f -> true, () -> 60_000).accept(folder));
    }

    @Test
    void theProbeOfALocalFolderFindsNoClockBehindAndLeavesNothing() throws Exception {
        long behind = DropFolderClock.behind(dir);
        assertTrue(behind >= 0 && behind < 2_000, "behind " + behind);
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "the probe file is deleted");
        }
        assertEquals(-1, DropFolderClock.behind(dir.resolve("missing")), "no folder: not measured");
    }

    private static GenericFile<File> file(long modified) {
        GenericFile<File> file = new GenericFile<>();
        file.setLastModified(modified);
        return file;
    }
}

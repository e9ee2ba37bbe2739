package id.ktpbridge.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

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

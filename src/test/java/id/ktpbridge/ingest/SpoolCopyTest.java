package id.ktpbridge.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpoolCopyTest {

    @TempDir
    Path dir;

    private static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** As the inspection writes its copy: one read's bytes at a time, then closed. */
    private static void writeInReads(SpoolCopy copy, byte[] bytes, int read) throws Exception {
        for (int off = 0; off < bytes.length; off += read) {
            copy.write(bytes, off, Math.min(read, bytes.length - off));
        }
        copy.close();
    }

    @Test
    void copiesShareTheBudgetAndTheOneThatDoesNotFitGetsAFile() throws Exception {
        SpoolCopy.Budget budget = new SpoolCopy.Budget(1000);
        byte[] a = bytes(600, 1);
        byte[] b = bytes(600, 2);
        SpoolCopy first = SpoolCopy.open(budget, dir.resolve("a.img"), a.length);
        SpoolCopy second = SpoolCopy.open(budget, dir.resolve("b.img"), b.length);
        first.write(a, 0, a.length);
        second.write(b, 0, b.length);
        first.close();
        second.close();

        assertArrayEquals(a, first.held());
        assertNull(first.file());
        assertNull(second.held());
        assertArrayEquals(b, Files.readAllBytes(second.file()));
        assertEquals(600, budget.used());

        // once the first is released, its room serves the next, and its bytes are gone
        first.release();
        first.release();
        assertEquals(0, budget.used(), "released once, however often called");
        assertThrows(IllegalStateException.class, first::held);
        SpoolCopy third = SpoolCopy.open(budget, dir.resolve("c.img"), 900);
        assertNull(third.file());
        assertEquals(900, budget.used());
        third.release();
        second.release();
        assertFalse(Files.exists(dir.resolve("b.img")), "a spool file is deleted on release");
        assertEquals(0, budget.used());
    }

    @Test
    void aSizeNotKnownOrABudgetOfZeroMeansASpoolFile() throws Exception {
        SpoolCopy unknown = SpoolCopy.open(new SpoolCopy.Budget(1 << 20), dir.resolve("u.img"), -1);
        SpoolCopy none = SpoolCopy.open(new SpoolCopy.Budget(0), dir.resolve("n.img"), 10);
        assertEquals(dir.resolve("u.img"), unknown.file());
        assertEquals(dir.resolve("n.img"), none.file());
        unknown.release();
        none.release();
        assertThrows(IllegalArgumentException.class, () -> new SpoolCopy.Budget(-1));
    }

    @Test
    void aFileThatGrewSinceItsSizeWasReadTakesMoreMemoryOrMovesToItsFileWithWhatCameBefore() throws Exception {
        byte[] whole = bytes(3000, 3);
        // room to grow: stays in memory, every byte kept
        SpoolCopy.Budget roomy = new SpoolCopy.Budget(10_000);
        SpoolCopy grown = SpoolCopy.open(roomy, dir.resolve("g.img"), 1000);
        writeInReads(grown, whole, 700);
        assertNull(grown.file());
        assertArrayEquals(whole, grown.held());
        assertTrue(roomy.used() >= whole.length);
        grown.release();
        assertEquals(0, roomy.used());

        // no room: what was held goes to the file first, the rest after it
        SpoolCopy.Budget tight = new SpoolCopy.Budget(1000);
        SpoolCopy spilled = SpoolCopy.open(tight, dir.resolve("s.img"), 1000);
        writeInReads(spilled, whole, 700);
        assertNull(spilled.held());
        assertArrayEquals(whole, Files.readAllBytes(dir.resolve("s.img")));
        assertEquals(0, tight.used(), "its memory is given back when it moves");
        spilled.release();
        assertFalse(Files.exists(dir.resolve("s.img")));
    }

    @Test
    void aFileListedEmptyThatFilledGrowsByDoublingNotByEachRead() throws Exception {
        SpoolCopy.Budget budget = new SpoolCopy.Budget(1 << 20);
        SpoolCopy copy = SpoolCopy.open(budget, dir.resolve("e.img"), 0);
        byte[] chunk = bytes(1000, 6);
        copy.write(chunk, 0, chunk.length);
        assertEquals(64 * 1024, budget.used(), "64 KB at its first bytes");
        for (int i = 0; i < 70; i++) {
            copy.write(chunk, 0, chunk.length);
        }
        assertEquals(128 * 1024, budget.used(), "then twice that");
        copy.close();
        assertEquals(71_000, copy.held().length);
        copy.release();
        assertEquals(0, budget.used());
    }

    @Test
    void aFileThatShrankHoldsOnlyTheBytesRead() throws Exception {
        byte[] part = bytes(400, 4);
        SpoolCopy.Budget budget = new SpoolCopy.Budget(1000);
        SpoolCopy copy = SpoolCopy.open(budget, dir.resolve("x.img"), 1000);
        copy.write(part, 0, part.length);
        copy.close();
        assertArrayEquals(part, copy.held());
        copy.release();
        assertEquals(0, budget.used());
    }

    @Test
    void aSpoolFileThatCannotBeMadeIsTheBundlesOwnFailure() throws Exception {
        // the spool folder's place is taken by a plain file, as a full disk refuses a create
        Files.writeString(dir.resolve("in-the-way"), "x");
        SpoolCopy.Budget budget = new SpoolCopy.Budget(100);
        assertThrows(ImageInspector.SpoolFailure.class,
                () -> SpoolCopy.open(budget, dir.resolve("in-the-way/a.img"), 1000));
        // and when a held copy outgrows the budget
        SpoolCopy copy = SpoolCopy.open(budget, dir.resolve("in-the-way/b.img"), 100);
        byte[] more = bytes(200, 5);
        assertThrows(ImageInspector.SpoolFailure.class, () -> copy.write(more, 0, more.length));
        assertEquals(0, budget.used(), "the memory is given back all the same");
        copy.release();
    }
}

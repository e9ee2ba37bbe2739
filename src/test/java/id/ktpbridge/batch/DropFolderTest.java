package id.ktpbridge.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

import id.ktpbridge.testkit.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The batch end's count of the drop folder agrees with what the file consumer takes. */
class DropFolderTest {

    @TempDir
    Path dir;

    @Test
    void anIncludeRuleIsReadWithoutRegardToCaseAsTheConsumerReadsIt() throws Exception {
        Files.write(dir.resolve("u1.JPG"), new byte[] {1});
        Files.write(dir.resolve("u2.jpg"), new byte[] {1});
        Files.write(dir.resolve(".u3.jpg"), new byte[] {1});
        Files.write(dir.resolve("notes.txt"), new byte[] {1});
        // a custom rule without (?i): Camel's consumer takes u1.JPG all the same
        DropFolder folder = new DropFolder(dir, "[^.]+\\.jpg", p -> false);
        assertEquals(2, folder.waiting());
        assertEquals(0, folder.settled());
    }

    @Test
    void aNameTheJvmCannotDecodeIsNotWaitedForAndIsReportedWithoutTheName() throws Exception {
        // Latin-1 (the byte 0xE9): Camel's java.io listing gets U+FFFD for it, a name that leads
        // nowhere, so the file is never taken
        rawName(dir, "kartu-\\351.jpg");
        DropFolder folder = new DropFolder(dir, "(?is).*\\.(jpe?g|png)", p -> false);
        try (LogCapture log = new LogCapture()) {
            assertFalse(folder.anyWaiting());

            Files.write(dir.resolve("u1.jpg"), new byte[] {1});
            // UTF-8: taken under a UTF-8 locale, under C or POSIX not
            rawName(dir, "kartu-\\303\\251.jpg");
            boolean utf8 = "UTF-8".equals(System.getProperty("sun.jnu.encoding"));
            assertEquals(utf8 ? 2 : 1, folder.waiting());
            assertEquals(0, folder.settled());
            assertEquals(utf8 ? 2 : 1, folder.waiting());

            assertEquals(1, log.count("The drop folder " + dir + " holds "), "once a minute: " + log.text());
            assertEquals(1, log.count("holds 1 file(s) whose name"), log.text());
            assertFalse(log.text().contains("kartu"), log.text());
        }
    }

    @Test
    void filesTheRouteLeavesAreCountedApartByKindNotAsWaiting() throws Exception {
        Files.write(dir.resolve("u1.jpg"), new byte[] {1});
        Files.write(dir.resolve("scans\\u2.jpg"), new byte[] {1});
        Files.createSymbolicLink(dir.resolve("u3.jpg"), dir.resolve("gone.jpg"));
        Path ahead = Files.write(dir.resolve("u4.jpg"), new byte[] {1});
        rawName(dir, "kartu-\\351.jpg");
        // a link to a file is taken (and rejected as SYMBOLIC_LINK); one to a folder is none of the route's files
        Files.createSymbolicLink(dir.resolve("u5.jpg"), dir.resolve("u1.jpg"));
        Files.createSymbolicLink(dir.resolve("u6.jpg"), Files.createDirectories(dir.resolve("sub")));
        DropFolder folder = new DropFolder(dir, "(?is).*\\.(jpe?g|png)", p -> false, ahead::equals);

        assertEquals(2, folder.waiting());
        assertEquals(java.util.Map.of(DropFolder.Kind.WAITING, 2L, DropFolder.Kind.BACKSLASH, 1L,
                DropFolder.Kind.DANGLING_LINK, 1L, DropFolder.Kind.FUTURE_DATED, 1L, DropFolder.Kind.UNDECODABLE, 1L),
                folder.census());
    }

    @Test
    void aFileThatIsListedButCannotBeLookedAtIsCountedApartNotAsNothing() throws Exception {
        Files.write(dir.resolve("u1.jpg"), new byte[] {1});
        Path refused = Files.write(dir.resolve("u2.jpg"), new byte[] {1});
        Files.createSymbolicLink(dir.resolve("u3.jpg"), dir.resolve("gone.jpg"));
        // a folder without its x bit, or a share refusing stat (EACCES, ESTALE): listed, never looked at. Root
        // looks at any file, so the refusal is the seam's
        DropFolder folder = new DropFolder(dir, "(?is).*\\.(jpe?g|png)", p -> false) {
            @Override
            protected BasicFileAttributes attributes(Path file, LinkOption... options) throws IOException {
                if (file.equals(refused)) {
                    throw new AccessDeniedException(file.toString());
                }
                return super.attributes(file, options);
            }
        };

        assertEquals(1, folder.waiting());
        assertEquals(java.util.Map.of(DropFolder.Kind.WAITING, 1L, DropFolder.Kind.UNEXAMINABLE, 1L,
                DropFolder.Kind.DANGLING_LINK, 1L), folder.census());
    }

    /** A file named with raw bytes (a shell's printf escapes), as Java cannot name it under a UTF-8 locale. */
    static void rawName(Path dir, String printfName) throws Exception {
        Process cp = new ProcessBuilder("sh", "-c", "printf 'x' > \"$(printf '" + printfName + "')\"")
                .directory(dir.toFile()).inheritIO().start();
        assertEquals(0, cp.waitFor());
    }
}

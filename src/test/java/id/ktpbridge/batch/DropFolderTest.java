package id.ktpbridge.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;

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
}

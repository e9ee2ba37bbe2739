package id.ktpbridge.ingest;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import org.apache.camel.component.file.FileConsumer;
import org.apache.camel.component.file.GenericFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which future-dated files the batch end counts apart: those the listing left, while they still are. */
class FutureDatedLeftTest {

    private static final long HOUR = 3_600_000L;

    @TempDir
    Path dir;

    @Test
    void aFileLeftForItsDateIsHeldUntilItIsDatedOtherwiseOrTaken() throws Exception {
        Path file = Files.write(dir.resolve("u1.png"), new byte[] {1});
        Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() + 7 * HOUR));
        boolean[] redate = {false};
        // as FutureDatedFiles: refuses what it may not date now, dates now what it may
        FutureDatedLeft left = new FutureDatedLeft(f -> {
            if (!redate[0]) {
                return false;
            }
            f.setLastModified(System.currentTimeMillis());
            return true;
        });

        assertFalse(left.holds(file), "not met by a listing yet: waiting");
        assertFalse(left.accept(listed(file)));
        assertTrue(left.holds(file));

        // replaced by a file dated within the minute the route takes as it is
        Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() + 30_000));
        assertFalse(left.holds(file), "another date: not the file the listing left");

        Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() + 7 * HOUR));
        assertFalse(left.accept(listed(file)));
        assertTrue(left.holds(file));
        redate[0] = true;
        assertTrue(left.accept(listed(file)));
        assertFalse(left.holds(file), "dated now by the listing: waiting");

        Path other = Files.write(dir.resolve("u2.png"), new byte[] {1});
        Files.setLastModifiedTime(other, FileTime.fromMillis(System.currentTimeMillis() - HOUR));
        redate[0] = false;
        assertFalse(left.accept(listed(other)));
        assertFalse(left.holds(other), "refused for another reason than its date: not one of them");
    }

    private GenericFile<File> listed(Path file) {
        return FileConsumer.asGenericFile(dir.toString(), file.toFile(), null, false);
    }
}

package id.ktpbridge.ingest;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether two folders are on different file systems. Camel's file consumer moves a file by an
 * atomic rename, which fails across file systems; it tries three times, sleeping a second after
 * the second and third, before it copies. With the done folder on another file system (a mounted
 * share) every submitted file would take two seconds of a worker: the drop is then told to copy.
 */
public final class FileSystems {

    private FileSystems() {
    }

    /** Whether {@code a} and {@code b} (or their nearest existing parents) are on different file systems. */
    public static boolean apart(Path a, Path b) {
        try {
            return !store(a).equals(store(b));
        } catch (IOException e) {
            // unknown: the rename is tried, as by default
            return false;
        }
    }

    private static FileStore store(Path path) throws IOException {
        Path existing = path.toAbsolutePath().normalize();
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            throw new IOException("no existing parent");
        }
        return Files.getFileStore(existing);
    }
}

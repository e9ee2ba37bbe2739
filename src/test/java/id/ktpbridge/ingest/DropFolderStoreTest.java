package id.ktpbridge.ingest;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.apache.camel.component.file.GenericFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The file system the drop folder holds its files on, as noted by its listings and kept for the next start. */
class DropFolderStoreTest {

    @TempDir
    Path tmp;

    /** File systems by folder, as a test sets them: a share mounted on the drop folder, or not. */
    private final Map<Path, String> stores = new HashMap<>();

    private DropFolderStore store(Path folder) {
        return new DropFolderStore(folder, tmp.resolve("drop-folder-store")) {
            @Override
            String storeOf(Path path) {
                return stores.get(path.toAbsolutePath().normalize());
            }
        };
    }

    @Test
    void aStrayFileInTheBareMountPointDoesNotMakeItTheFolderThatHoldsTheFiles() throws Exception {
        Path inbox = Files.createDirectories(tmp.resolve("mnt/inbox"));
        stores.put(inbox.getParent(), "ext4 /");
        stores.put(inbox, "nfs /mnt/inbox (share)");
        DropFolderStore first = store(inbox);
        first.listedAFile();
        assertTrue(first.holdsItsFiles());

        // the share is gone; the bare mount point holds a stray file the listing takes
        stores.put(inbox, "ext4 /");
        DropFolderStore next = store(inbox);
        next.listedAFile();
        assertFalse(next.holdsItsFiles(), "the bare mount point is not where the files are");
        // nor at the start after that, with the share still not mounted
        assertFalse(store(inbox).holdsItsFiles());

        stores.put(inbox, "nfs /mnt/inbox (share)");
        assertTrue(store(inbox).holdsItsFiles(), "mounted again");
    }

    @Test
    void aRecordKeptForAnotherFolderSaysNothingOfThisOne() throws Exception {
        Path local = Files.createDirectories(tmp.resolve("local/inbox"));
        Path share = Files.createDirectories(tmp.resolve("mnt/inbox"));
        stores.put(local, "ext4 /");
        stores.put(local.getParent(), "ext4 /");
        stores.put(share.getParent(), "ext4 /");
        stores.put(share, "ext4 /"); // the share not mounted (yet)
        store(local).listedAFile();

        assertFalse(store(share).holdsItsFiles(), "a batch run's local folder's record is not the share's");
        assertTrue(store(local).holdsItsFiles());
    }

    @Test
    void onlyFilesTheListingTakesAreNoted() throws Exception {
        Path inbox = Files.createDirectories(tmp.resolve("inbox"));
        stores.put(inbox, "ext4 /");
        stores.put(inbox.getParent(), "ext4 /");
        DropFolderStore store = store(inbox);
        Path marker = Files.writeString(inbox.resolve("NOT_MOUNTED"), "");
        GenericFile<File> file = new GenericFile<>();
        file.setFile(marker.toFile());
        file.setDirectory(false);

        assertFalse(store.noting(f -> false).accept(file));
        assertFalse(store.holdsItsFiles(), "a file the listing leaves out notes nothing");
        assertTrue(store.noting(f -> true).accept(file));
        assertTrue(store.holdsItsFiles());
    }
}

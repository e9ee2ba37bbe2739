package id.ktpbridge.ingest;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import org.apache.camel.component.file.GenericFile;
import org.apache.camel.component.file.GenericFileFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file system the drop folder holds its files on: the one it was on when its listing last
 * showed a file. A share not mounted (yet) leaves its mount point an empty folder on the file
 * system below it, where every waiting input's file looks gone; so a file is only taken for gone
 * from a drop folder on the file system it was seen holding files on. Noted by the file drop's
 * listing (at the first file listed, then at most once a minute), and kept in the data folder for
 * the next start: a drop folder that lists empty from the start (its files deleted while the bundle
 * was down) is judged by the file system it had files on then. The record names the folder too: one
 * kept for another folder (a changed {@code ktp.source.dir}, another run on the same data folder)
 * says nothing of this one. Only files the listing takes count (a stray marker file in a bare mount
 * point does not), and a folder seen as a mount point (on another file system than its parent) is
 * never taken to hold its files on its parent's: that is the bare mount point of a share not mounted.
 */
public class DropFolderStore {

    private static final Logger LOG = LoggerFactory.getLogger(DropFolderStore.class);
    private static final long NOTE_EVERY_MILLIS = 60_000;

    private final Path folder;
    private final Path record;
    /** The file system the folder was on when the last start's listings showed files; null: not known. */
    private final String recorded;
    /** What the record in the data folder says now (written by this process, or read at start). */
    private volatile String written;
    private volatile String seen;
    private volatile long seenAt;

    /**
     * @param folder {@code ktp.source.dir}
     * @param record the file in the data folder where the file system is kept for the next start
     */
    public DropFolderStore(Path folder, Path record) {
        this.folder = folder.toAbsolutePath().normalize();
        this.record = record;
        this.recorded = read(record, this.folder);
        this.written = recorded;
    }

    public Path folder() {
        return folder;
    }

    /** The file drop's listing filter {@code next}, noting the file system when it lists a file. */
    public GenericFileFilter<File> noting(GenericFileFilter<File> next) {
        return file -> {
            boolean taken = next.accept(file);
            if (taken && !file.isDirectory()) {
                listedAFile();
            }
            return taken;
        };
    }

    /** The drop folder has just listed a file: it is on the file system that holds its files. */
    public void listedAFile() {
        long now = System.currentTimeMillis();
        if (seen != null && now - seenAt < NOTE_EVERY_MILLIS) {
            return;
        }
        String store = storeNow();
        if (store == null) {
            return;
        }
        seenAt = now;
        String known = seen != null ? seen : written;
        if (known != null && !known.equals(store) && store.equals(parentStore()) && !known.equals(parentStore())) {
            // it held its files on a file system of its own, a mount: its parent's is the bare mount point
            return;
        }
        if (!store.equals(seen)) {
            seen = store;
        }
        if (!store.equals(written)) {
            write(store);
        }
    }

    /**
     * Whether the drop folder is now on the file system it was seen holding files on (in this
     * process, or else at the last start); false when that is not known or the folder cannot be
     * looked at: a file missing from it is then not taken for gone.
     */
    public boolean holdsItsFiles() {
        String known = seen != null ? seen : recorded;
        return known != null && known.equals(storeNow());
    }

    private String storeNow() {
        return storeOf(folder);
    }

    private String parentStore() {
        Path parent = folder.getParent();
        return parent == null ? null : storeOf(parent);
    }

    /** The file system a folder is on, as type, mount point and device or share; null when it cannot be looked at. */
    String storeOf(Path path) {
        try {
            FileStore store = Files.getFileStore(path);
            // the type, the mount point and the device or share: an unmounted share's mount point is on another
            return store.type() + " " + store;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The file system the record keeps for {@code folder}; null when it keeps none, or one for another folder. */
    private static String read(Path record, Path folder) {
        try {
            java.util.List<String> lines = Files.readAllLines(record, StandardCharsets.UTF_8);
            if (lines.size() < 2 || !lines.get(0).equals(folder.toString())) {
                return null;
            }
            String store = lines.get(1).strip();
            return store.isEmpty() ? null : store;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private void write(String store) {
        try {
            Path temp = record.resolveSibling(record.getFileName() + ".tmp");
            Files.writeString(temp, folder + "\n" + store + "\n", StandardCharsets.UTF_8);
            Files.move(temp, record, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            written = store;
        } catch (IOException | RuntimeException e) {
            // the next start then judges a drop folder that lists empty by what its listings show
            LOG.warn("The drop folder's file system was not kept in the data folder ({}): after a restart, a file"
                    + " missing from the drop folder is taken for gone only once its listing shows files again",
                    FailureReport.safeMessage(e));
        }
    }
}

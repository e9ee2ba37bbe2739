package id.ktpbridge.ingest;

import java.io.File;

import org.apache.camel.component.file.GenericFile;
import org.apache.camel.component.file.GenericFileFilter;

/**
 * The file drop's scan filter for empty files: a scanner or a copying client may create a file
 * first and write its bytes only later. The read lock asks only whether a file stopped changing
 * ({@code ktp.source.read-lock-min-age}, 2 s), so such a placeholder was taken, rejected
 * {@code EMPTY_FILE} and moved to the failed folder, where its writer then completed it, never
 * submitted. An empty file is left in the folder until it has stayed empty for
 * {@code ktp.source.empty-file-min-age}; then it is taken and rejected, so it does not wait for ever.
 * Its age is by the drop folder's clock ({@link DropFolderClock}): on a share whose clock runs a
 * minute behind, a placeholder created a moment ago looks a minute old here.
 */
public class EmptyFiles implements GenericFileFilter<File> {

    private final long minAgeMillis;
    private final DropFolderClock next;

    /** @param next asked first; its measure of the folder's clock corrects the file's age */
    public EmptyFiles(long minAgeMillis, DropFolderClock next) {
        this.minAgeMillis = minAgeMillis;
        this.next = next;
    }

    @Override
    public boolean accept(GenericFile<File> file) {
        if (!next.accept(file)) {
            return false;
        }
        if (file.isDirectory() || file.getFileLength() > 0 || minAgeMillis <= 0 || notAFile(file.getFile())) {
            return true;
        }
        // its last change: a file written to since then is no longer empty
        return file.getLastModified() + next.behind() <= System.currentTimeMillis() - minAgeMillis;
    }

    /**
     * A named pipe, a socket or a device (listed with length 0): no bytes are to come, and waiting
     * only keeps its rejection (NOT_REGULAR_FILE) from a batch run's end.
     */
    private static boolean notAFile(File file) {
        if (file == null) {
            return false;
        }
        try {
            return java.nio.file.Files.readAttributes(file.toPath(), java.nio.file.attribute.BasicFileAttributes.class,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS).isOther();
        } catch (java.io.IOException | java.nio.file.InvalidPathException e) {
            return false;
        }
    }
}

package id.ktpbridge.ingest;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.regex.Pattern;

import id.ktpbridge.ThrottledWarning;
import org.apache.camel.component.file.GenericFile;
import org.apache.camel.component.file.GenericFileFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file drop's listing filter for files Camel's read lock can never take: a name with a
 * backslash (Camel turns it into a folder separator, and looks for a file that does not exist), a
 * name the JVM cannot decode (it comes out with U+FFFD, a name that leads to no file), a symbolic
 * link to no file, a file that is listed but cannot be looked at (a folder without its search
 * permission, x; a share refusing to stat its entries), which Camel takes for no file. The read
 * lock skips such a file at every scan, but only after the listing has counted it among the
 * {@code ktp.source.batch-size} files a scan takes: a scan's worth of them hid every file listed
 * after them. They are left out of the listing instead, and left in the
 * folder, with a warning once a minute per kind, without the name (it may hold a NIK); the one for
 * undecodable names comes from a count of the folder ({@link #onUndecodable}), which says how many
 * there are.
 */
public class UntakeableFiles implements GenericFileFilter<File> {

    private static final Logger LOG = LoggerFactory.getLogger(UntakeableFiles.class);

    private final Pattern include;
    private final GenericFileFilter<File> next;
    private final ThrottledWarning backslash = new ThrottledWarning(LOG, "The file drop: a file whose name has a"
            + " backslash is left in the drop folder (the file consumer reads it as a folder): rename it", 60_000);
    private final ThrottledWarning danglingLink = new ThrottledWarning(LOG, "The file drop: a symbolic link to no file"
            + " is left in the drop folder: remove it", 60_000);
    private final ThrottledWarning unexaminable = new ThrottledWarning(LOG, "The file drop: a file that is listed but"
            + " cannot be looked at ({}) is left in the drop folder: check that the folder can be searched (its x"
            + " permission) and the share", 60_000);

    private volatile Runnable undecodableSeen = () -> { };

    /** @param include {@code ktp.source.include}: Camel asks this filter before its own include rule */
    public UntakeableFiles(String include, GenericFileFilter<File> next) {
        // as Camel's file consumer compiles it
        this.include = Pattern.compile(include, Pattern.CASE_INSENSITIVE);
        this.next = next;
    }

    /** Told of each listed file whose name the JVM cannot decode. */
    public void onUndecodable(Runnable seen) {
        this.undecodableSeen = seen;
    }

    @Override
    public boolean accept(GenericFile<File> file) {
        File f = file.getFile();
        // the name as listed: the GenericFile's own names have the backslash turned into a separator
        if (!file.isDirectory() && include.matcher(f.getName()).matches()) {
            if (f.getName().indexOf('\\') >= 0) {
                backslash.warn();
                return false;
            }
            if (!lookable(f)) {
                return false;
            }
        }
        return next.accept(file);
    }

    /**
     * Whether the file's attributes can be read, through a link as the read lock reads them; not
     * File.exists, which says false for a file that cannot be looked at too (and it was left
     * without a word).
     */
    private boolean lookable(File f) {
        Path path;
        try {
            path = f.toPath();
        } catch (InvalidPathException undecodable) {
            // U+FFFD under a character set without it (C or POSIX locale)
            undecodableSeen.run();
            return false;
        }
        try {
            attributes(path);
            return true;
        } catch (IOException e) {
            if (isSymbolicLink(path)) {
                // to nothing, or into a loop
                danglingLink.warn();
            } else if (!(e instanceof NoSuchFileException)) {
                unexaminable.warn(FailureReport.safeMessage(e));
            } else if (f.getName().indexOf('\uFFFD') >= 0) {
                // the name as decoded leads to no file
                undecodableSeen.run();
            }
            // else a name the JVM cannot decode, or a file gone since the listing
            return false;
        }
    }

    private boolean isSymbolicLink(Path path) {
        try {
            return attributes(path, LinkOption.NOFOLLOW_LINKS).isSymbolicLink();
        } catch (IOException e) {
            return false;
        }
    }

    /** A listed file's attributes; a seam for the tests, whose root account may look at any file. */
    protected BasicFileAttributes attributes(Path file, LinkOption... options) throws IOException {
        return Files.readAttributes(file, BasicFileAttributes.class, options);
    }
}

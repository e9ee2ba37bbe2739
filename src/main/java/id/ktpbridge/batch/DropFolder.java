package id.ktpbridge.batch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import id.ktpbridge.ingest.FailureReport;

/**
 * The files in the drop folder that the file route would take, as the batch end and the ETA see
 * them. Files whose result is recorded but whose move away was refused (settled in place) are not
 * taken again: they are counted apart.
 */
public class DropFolder {

    private final Path dir;
    private final Pattern include;
    private final Predicate<Path> settled;

    public DropFolder(Path dir, String includePattern, Predicate<Path> settled) {
        this.dir = dir;
        // as Camel's file consumer compiles it: a custom rule without (?i) still takes u1.JPG
        this.include = Pattern.compile(includePattern, Pattern.CASE_INSENSITIVE);
        this.settled = settled;
    }

    /**
     * How many wait there (0 when the folder is missing).
     *
     * @throws ListingFailed when the folder is there but cannot be listed: how many wait is not known
     */
    public long waiting() {
        return count(settled.negate(), Long.MAX_VALUE);
    }

    public boolean anyWaiting() {
        return count(settled.negate(), 1) > 0;
    }

    /** How many stay there with their result recorded, their move away refused. */
    public long settled() {
        return count(settled, Long.MAX_VALUE);
    }

    private long count(Predicate<Path> which, long enough) {
        try {
            // not Files.isDirectory: it says false for a share that cannot answer (a stale handle, EIO) too
            if (!attributes().isDirectory()) {
                return 0;
            }
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException e) {
            throw new ListingFailed(e);
        }
        try (Stream<Path> files = list()) {
            return files.filter(this::takenByTheSource).filter(Files::isRegularFile).filter(which).limit(enough)
                    .count();
        } catch (IOException | UncheckedIOException e) {
            // a network share's hiccup is not an empty folder: counted as 0 it would end a batch early
            throw new ListingFailed(e);
        }
    }

    /** The folder's entries; a seam for the tests, whose root account may list any folder. */
    protected Stream<Path> list() throws IOException {
        return Files.list(dir);
    }

    /** The folder's attributes; a seam for the tests, as {@link #list}. */
    protected BasicFileAttributes attributes() throws IOException {
        return Files.readAttributes(dir, BasicFileAttributes.class);
    }

    /** The drop folder is there but could not be listed. */
    public static final class ListingFailed extends RuntimeException {
        public ListingFailed(Exception cause) {
            super("the drop folder could not be listed: " + FailureReport.safeMessage(
                    cause instanceof UncheckedIOException u ? u.getCause() : cause), cause);
        }
    }

    /**
     * Whether the file route takes this file: its name matches {@code ktp.source.include} and is not
     * hidden (Camel's file consumer never takes a name starting with a dot, such as the {@code ._}
     * files a Mac copies next to each image).
     */
    private boolean takenByTheSource(Path file) {
        String name = file.getFileName().toString();
        return !name.startsWith(".") && include.matcher(name).matches();
    }
}

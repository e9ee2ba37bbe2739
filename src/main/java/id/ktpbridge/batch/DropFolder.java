package id.ktpbridge.batch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import id.ktpbridge.ingest.FailureReport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The files in the drop folder that the file route would take, as the batch end and the ETA see
 * them. Files whose result is recorded but whose move away was refused (settled in place) are not
 * taken again: they are counted apart. Files whose name the JVM cannot decode are never taken
 * either: they are not counted, and a warning says how many there are.
 */
public class DropFolder {

    private static final Logger LOG = LoggerFactory.getLogger(DropFolder.class);
    private static final long WARN_EVERY_MILLIS = 60_000;

    private final Path dir;
    private final Pattern include;
    private final Predicate<Path> settled;
    private final AtomicLong nextWarningAt = new AtomicLong();

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

    /** How many the source cannot take for their name (see {@link #decodable}): they stay there. */
    public long undecodable() {
        try (Stream<Path> files = list()) {
            return files.filter(this::takenByTheSource).filter(Files::isRegularFile).filter(f -> !decodable(f)).count();
        } catch (NoSuchFileException e) {
            return 0;
        } catch (IOException | UncheckedIOException e) {
            throw new ListingFailed(e);
        }
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
        boolean[] undecodable = {false};
        long count;
        try (Stream<Path> files = list()) {
            count = files.filter(this::takenByTheSource).filter(Files::isRegularFile).filter(f -> {
                if (decodable(f)) {
                    return true;
                }
                undecodable[0] = true;
                return false;
            }).filter(which).limit(enough).count();
        } catch (IOException | UncheckedIOException e) {
            // a network share's hiccup is not an empty folder: counted as 0 it would end a batch early
            throw new ListingFailed(e);
        }
        if (undecodable[0]) {
            warnUndecodable();
        }
        return count;
    }

    /**
     * Whether the file's name survives the way Camel's file consumer lists the folder (java.io, a
     * String decoded with the JVM's character set for file names, sun.jnu.encoding, which the locale
     * sets): bytes not valid in it (a Latin-1 name under UTF-8; anything not ASCII under a C or
     * POSIX locale) come out as U+FFFD, a name that leads to no file, so the consumer never takes it.
     */
    static boolean decodable(Path file) {
        Path name = file.getFileName();
        try {
            return name.getFileSystem().getPath(name.toString()).equals(name);
        } catch (InvalidPathException e) {
            return false;
        }
    }

    /**
     * Once a minute at most (the batch end lists the folder ten times a second), and without the
     * names, which may hold a NIK: how many there are and where.
     */
    private void warnUndecodable() {
        long now = System.currentTimeMillis();
        long next = nextWarningAt.get();
        if (now < next || !nextWarningAt.compareAndSet(next, now + WARN_EVERY_MILLIS)) {
            return;
        }
        long how;
        try {
            how = undecodable();
        } catch (ListingFailed e) {
            return;
        }
        String charset = System.getProperty("sun.jnu.encoding");
        LOG.warn("The drop folder {} holds {} file(s) whose name is not valid {} (the JVM's character set for file"
                + " names, set by the locale): they cannot be taken and are left there; rename them{}", dir, how,
                charset, "UTF-8".equals(charset) ? "" : ", or start the bundle under a UTF-8 locale (LC_ALL=C.UTF-8)");
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

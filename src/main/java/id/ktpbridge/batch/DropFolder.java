package id.ktpbridge.batch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
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
 * taken again: they are counted apart. So are the files the route never takes, which it leaves in
 * the folder: a name the JVM cannot decode (a warning says how many there are), a name with a
 * backslash, a symbolic link to no file, a file that can be listed but not looked at, and a file
 * dated in the future that the bundle may not date now, until its date has passed.
 */
public class DropFolder {

    /** What the file route makes of a file in the folder its include rule takes. */
    public enum Kind {
        /** to be taken */
        WAITING,
        /** its result recorded, its move away refused */
        SETTLED,
        /** a name not valid in the JVM's character set for file names, see {@link #decodable} */
        UNDECODABLE,
        /** a name with a backslash, which Camel's file consumer reads as a folder separator */
        BACKSLASH,
        /** a symbolic link whose target is missing */
        DANGLING_LINK,
        /**
         * listed, but its attributes cannot be read (a folder without its search permission, x; a share
         * refusing to stat its entries, EACCES or ESTALE): the route never sees it as a file
         */
        UNEXAMINABLE,
        /** dated in the future, and the bundle may not date it now: left until its date has passed */
        FUTURE_DATED
    }

    private static final Logger LOG = LoggerFactory.getLogger(DropFolder.class);
    private static final long WARN_EVERY_MILLIS = 60_000;

    private final Path dir;
    private final Pattern include;
    private final Predicate<Path> settled;
    private final Predicate<Path> futureDated;
    private final AtomicLong nextWarningAt = new AtomicLong();

    public DropFolder(Path dir, String includePattern, Predicate<Path> settled) {
        this(dir, includePattern, settled, p -> false);
    }

    /** @param futureDated whether a file is dated in the future and left by the listing until then */
    public DropFolder(Path dir, String includePattern, Predicate<Path> settled, Predicate<Path> futureDated) {
        this.dir = dir;
        // as Camel's file consumer compiles it: a custom rule without (?i) still takes u1.JPG
        this.include = Pattern.compile(includePattern, Pattern.CASE_INSENSITIVE);
        this.settled = settled;
        this.futureDated = futureDated;
    }

    /**
     * How many wait there (0 when the folder is missing).
     *
     * @throws ListingFailed when the folder is there but cannot be listed: how many wait is not known
     */
    public long waiting() {
        return count(Kind.WAITING, Long.MAX_VALUE);
    }

    public boolean anyWaiting() {
        return count(Kind.WAITING, 1) > 0;
    }

    /** How many stay there with their result recorded, their move away refused. */
    public long settled() {
        return count(Kind.SETTLED, Long.MAX_VALUE);
    }

    /**
     * A listing met a file whose name the JVM cannot decode: the WARN saying how many there are,
     * at most once a minute (it lists the folder then).
     */
    public void noteUndecodable() {
        warnUndecodable(-1);
    }

    /** How many the source cannot take for their name (see {@link #decodable}): they stay there. */
    public long undecodable() {
        return kinds().getOrDefault(Kind.UNDECODABLE, 0L);
    }

    /**
     * How many files of each kind there are, from one listing (none of a kind: not in the map).
     *
     * @throws ListingFailed as {@link #waiting}
     */
    public Map<Kind, Long> census() {
        if (!present()) {
            return Map.of();
        }
        Map<Kind, Long> counts = kinds();
        if (counts.containsKey(Kind.UNDECODABLE)) {
            warnUndecodable(counts.get(Kind.UNDECODABLE));
        }
        return counts;
    }

    private Map<Kind, Long> kinds() {
        Map<Kind, Long> counts = new EnumMap<>(Kind.class);
        try (Stream<Path> files = list()) {
            files.map(this::kind).filter(Objects::nonNull).forEach(k -> counts.merge(k, 1L, Long::sum));
        } catch (NoSuchFileException e) {
            return counts;
        } catch (IOException | UncheckedIOException e) {
            throw new ListingFailed(e);
        }
        return counts;
    }

    private long count(Kind which, long enough) {
        if (!present()) {
            return 0;
        }
        boolean[] undecodable = {false};
        long count;
        try (Stream<Path> files = list()) {
            count = files.map(this::kind).filter(k -> {
                undecodable[0] |= k == Kind.UNDECODABLE;
                return k == which;
            }).limit(enough).count();
        } catch (IOException | UncheckedIOException e) {
            // a network share's hiccup is not an empty folder: counted as 0 it would end a batch early
            throw new ListingFailed(e);
        }
        if (undecodable[0]) {
            warnUndecodable(-1);
        }
        return count;
    }

    /** Whether the folder is there; {@link ListingFailed} when that cannot be told. */
    private boolean present() {
        try {
            // not Files.isDirectory: it says false for a share that cannot answer (a stale handle, EIO) too
            return attributes().isDirectory();
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            throw new ListingFailed(e);
        }
    }

    /** What the file route makes of this entry, null when it is none of its files (see {@link #takenByTheSource}). */
    private Kind kind(Path file) {
        if (!takenByTheSource(file)) {
            return null;
        }
        BasicFileAttributes attributes;
        try {
            // a link is followed (the route rejects a link to a file as SYMBOLIC_LINK). Not Files.isRegularFile:
            // it says false for an entry that cannot be looked at too, which then counted as no file at all
            attributes = attributes(file);
        } catch (IOException e) {
            return notFollowed(file, e);
        }
        if (attributes.isDirectory()) {
            return null;
        }
        // a named pipe, a socket or a device under an image's name is taken too (and rejected
        // NOT_REGULAR_FILE): waited for like a file, not left out of the run's count
        if (!decodable(file)) {
            return Kind.UNDECODABLE;
        }
        if (file.getFileName().toString().indexOf('\\') >= 0) {
            return Kind.BACKSLASH;
        }
        if (settled.test(file)) {
            return Kind.SETTLED;
        }
        return futureDated.test(file) ? Kind.FUTURE_DATED : Kind.WAITING;
    }

    /**
     * An entry whose attributes could not be read through its links ({@code failure}): a symbolic
     * link to nothing (or into a loop) is never taken; an entry gone since the listing is none; any
     * other cannot be looked at, and the route leaves it.
     */
    private Kind notFollowed(Path file, IOException failure) {
        try {
            if (attributes(file, LinkOption.NOFOLLOW_LINKS).isSymbolicLink()) {
                return Kind.DANGLING_LINK;
            }
        } catch (NoSuchFileException gone) {
            return null;
        } catch (IOException e) {
            return Kind.UNEXAMINABLE;
        }
        return failure instanceof NoSuchFileException ? null : Kind.UNEXAMINABLE;
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
     * names, which may hold a NIK: how many there are ({@code counted}, or counted anew when
     * negative) and where.
     */
    private void warnUndecodable(long counted) {
        long now = System.currentTimeMillis();
        long next = nextWarningAt.get();
        if (now < next || !nextWarningAt.compareAndSet(next, now + WARN_EVERY_MILLIS)) {
            return;
        }
        long how = counted;
        if (how < 0) {
            try {
                how = undecodable();
            } catch (ListingFailed e) {
                return;
            }
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

    /** A listed entry's attributes; a seam for the tests, whose root account may look at any file. */
    protected BasicFileAttributes attributes(Path file, LinkOption... options) throws IOException {
        return Files.readAttributes(file, BasicFileAttributes.class, options);
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

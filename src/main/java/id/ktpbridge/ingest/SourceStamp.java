package id.ktpbridge.ingest;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Objects;

import id.ktpbridge.submit.WorkItem;
import org.apache.camel.Exchange;

/**
 * What a file in the drop folder was when its bytes were read for an input. The file consumer
 * moves whatever is at the input's path once the input is done, so a file replaced under the same
 * name meanwhile (or written to again) would go to the done or failed folder unread. Such a file
 * is left where it is instead, and taken later as an input of its own. A file only touched, or
 * copied over again with the same bytes (a sync client), is told apart by its bytes: it is the one
 * that was read, and goes with its input.
 */
public final class SourceStamp {

    /** Exchange property: the {@link Stamp} of the input's file. */
    static final String PROPERTY = "KtpSourceStamp";

    /** {@code sha256}: of the bytes read, once they are; null before. */
    private record Stamp(Path path, long size, FileTime modified, Object fileKey, String sha256) {
    }

    /**
     * Before the file is opened, from its attributes as just read and checked: a change after that
     * look shows at the end (reading it again is harmless, missing it is not).
     */
    public static void take(Exchange exchange, Path file, BasicFileAttributes a) {
        exchange.setProperty(PROPERTY, new Stamp(file, a.size(), a.lastModifiedTime(), a.fileKey(), null));
    }

    /**
     * Whether the file now at the input's path is another one than the input's (another file key):
     * the input's own was moved away, and a new file took its name at once (a scanner writing the
     * next image under the same name). False when unknown (no stamp, no file key, no file).
     */
    public static boolean anotherFileAt(Exchange exchange) {
        Stamp s = exchange.getProperty(PROPERTY, Stamp.class);
        if (s == null || s.fileKey() == null) {
            return false;
        }
        Object now = fileKey(s.path());
        return now != null && !now.equals(s.fileKey());
    }

    private static Object fileKey(Path file) {
        try {
            return Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    /** Once the file's bytes are read: their SHA-256 (hex), which tells a file touched since from one replaced. */
    public static void read(Exchange exchange, String sha256) {
        Stamp s = exchange.getProperty(PROPERTY, Stamp.class);
        if (s != null && sha256 != null) {
            exchange.setProperty(PROPERTY, new Stamp(s.path(), s.size(), s.modified(), s.fileKey(), sha256));
        }
    }

    /**
     * Right after the read: whether the file read was written to while it was read (its bytes may be
     * parts of two versions). If so its stamp is dropped: the input is given back unread, not as one
     * whose file was replaced while it was processed, and its quarantine gives it back with its pause.
     * Another file put at the path meanwhile (renamed over it, or the file deleted and made again) is
     * no such change: the stream read the one it opened, whole, which goes on, and the new file is
     * left in place for a take of its own ({@link #leaveReplaced}).
     */
    public static boolean changedWhileRead(Exchange exchange) {
        Stamp s = exchange.getProperty(PROPERTY, Stamp.class);
        if (s == null || !replaced(exchange)) {
            return false;
        }
        Object now = fileKey(s.path());
        if (s.fileKey() != null && now != null && !s.fileKey().equals(now)) {
            return false;
        }
        exchange.removeProperty(PROPERTY);
        return true;
    }

    /** Whether the file now at the input's path is not the one that was read (a missing one is not). */
    static boolean replaced(Exchange exchange) {
        Stamp s = exchange.getProperty(PROPERTY, Stamp.class);
        if (s == null) {
            return false;
        }
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(s.path(), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            return false;
        }
        if (a.size() == s.size() && a.lastModifiedTime().equals(s.modified()) && Objects.equals(a.fileKey(), s.fileKey())) {
            return false;
        }
        // another inode of another size may still be the bytes read: one renamed over the file between
        // its look and its open was the one the stream read (the stamp holds the first one's size)
        boolean sameFile = Objects.equals(a.fileKey(), s.fileKey());
        if (a.size() != s.size() && sameFile || s.sha256() == null || !a.isRegularFile()) {
            return true;
        }
        // touched, or copied over again (another inode): the same bytes are the file that was read
        try {
            if (!s.sha256().equals(sha256(s.path()))) {
                return true;
            }
        } catch (IOException e) {
            return true; // bytes unknown: left for a take of its own, which reads them
        }
        // asked again at the end of the input (quarantine, sidecar): not hashed again unless it changes again
        exchange.setProperty(PROPERTY, new Stamp(s.path(), a.size(), a.lastModifiedTime(), a.fileKey(), s.sha256()));
        return false;
    }

    private static String sha256(Path file) throws IOException {
        MessageDigest sha = ImageInspector.sha256();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS), sha)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /**
     * Camel bean method, once a file input is submitted: a replaced file is not moved to the done
     * folder with it. The input is let go of (its bytes were read and are being processed), and the
     * exchange ends failed ({@link SourceReplacedException}), which leaves the file in place and
     * gives up its claim ({@link FileQuarantine} leaves it alone too).
     */
    public void leaveReplaced(Exchange exchange) {
        if (replaced(exchange)) {
            String ledgerId = exchange.getProperty(WorkItem.LEDGER_ID, String.class);
            SourceRelease.letGo(exchange);
            throw new SourceReplacedException(ledgerId);
        }
    }
}

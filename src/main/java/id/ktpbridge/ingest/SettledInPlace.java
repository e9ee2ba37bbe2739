package id.ktpbridge.ingest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Collections;
import java.util.Map;

import id.ktpbridge.Lru;
import org.apache.camel.Exchange;
import org.apache.camel.component.file.GenericFile;
import org.apache.camel.component.file.GenericFileFilter;

/**
 * The files of a folder source (the file drop, SFTP) whose outcome is recorded but which the
 * source could not move away afterwards: the failed or done folder refused them (permissions, a
 * full disk, a read-only mount). Camel's consumer lets go of such a file and would take it at its
 * next scan, read it again, find the input ended and be refused again, every scan. The source's
 * listing filter skips them instead, while the bundle runs and the file is unchanged: a file
 * replaced (another size or time) is taken as a new input, and after a restart each is tried once
 * more, so a fixed folder gets the files moved (an SFTP file's claim is let go of for that, see
 * {@link SourceMoveRefusals}).
 */
public final class SettledInPlace {

    /**
     * More than a folder would keep in sight (a whole large batch whose done folder refused every
     * move); past it the one a scan met longest ago is forgotten: files still there are met at
     * every scan, those moved away meanwhile are not.
     */
    private static final int MAX_REMEMBERED = 100_000;

    private final Map<String, Boolean> settled = Collections.synchronizedMap(Lru.map(MAX_REMEMBERED));

    /** Exchange property: the input's file stayed where it was, its outcome recorded. */
    private static final String KEPT = "KtpSettledInPlace";

    /** Whether the exchange's file stayed where it was (its sidecar then stays beside it). */
    public static boolean kept(Exchange exchange) {
        return Boolean.TRUE.equals(exchange.getProperty(KEPT, Boolean.class));
    }

    /** The exchange's file stays where it is, its outcome recorded. */
    public void remember(Exchange exchange) {
        exchange.setProperty(KEPT, true);
        // as the listing names the file
        String path = exchange.getMessage().getHeader("CamelFileAbsolutePath", String.class);
        Long size = exchange.getMessage().getHeader(Exchange.FILE_LENGTH, Long.class);
        Long modified = exchange.getMessage().getHeader(Exchange.FILE_LAST_MODIFIED, Long.class);
        if (path != null && size != null && modified != null) {
            settled.put(key(path, size, modified), Boolean.TRUE);
        }
    }

    /** Whether this local file, as it is now, is one of them (the batch end and the ETA ask). */
    public boolean holds(Path file) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            return settled.get(key(file.toAbsolutePath().toString(), attributes.size(),
                    attributes.lastModifiedTime().toMillis())) != null;
        } catch (IOException gone) {
            return false;
        }
    }

    boolean holds(GenericFile<?> file) {
        // a look-up, not containsKey: it counts as meeting the file (the map is in access order)
        return settled.get(key(file.getAbsoluteFilePath(), file.getFileLength(), file.getLastModified())) != null;
    }

    /** A listing filter: skips the files settled in place, then asks {@code next}. */
    public <T> GenericFileFilter<T> before(GenericFileFilter<T> next) {
        return file -> file.isDirectory() || !holds(file) ? next.accept(file) : false;
    }

    private static String key(String path, long size, long modified) {
        return path + "\n" + size + "\n" + modified;
    }
}

package id.ktpbridge.ingest;

import java.time.Duration;
import java.util.Collections;
import java.util.Map;

import id.ktpbridge.Lru;
import org.apache.camel.Exchange;
import org.apache.camel.component.file.GenericFile;
import org.apache.camel.component.file.GenericFileFilter;

/**
 * A folder source's files given back with a pause before their next try ({@link
 * InputDeferredException#retryAfter}): an image whose read failed on a network mount, say. The
 * listing leaves such a file out until its pause has passed. Given back at once, it would be taken
 * again by the next scan, which comes at once while scans find files; waited out on its worker
 * with its claim held, the pause kept that worker from every other input, at each try. Kept in
 * memory: after a restart a file is taken at once.
 */
public final class PausedFiles {

    /** More than a folder would keep in sight; past it the one paused longest ago is forgotten. */
    private static final int MAX_REMEMBERED = 100_000;

    private final Map<String, Long> until = Collections.synchronizedMap(Lru.map(MAX_REMEMBERED));
    private final boolean byVersion;

    /** Paused by path: the file drop, whose claims are by path. */
    public PausedFiles() {
        this(false);
    }

    private PausedFiles(boolean byVersion) {
        this.byVersion = byVersion;
    }

    /**
     * Paused by path, size and modification time as listed: for the SFTP source, whose claims name a
     * file's version. A file replaced meanwhile is another input, not held back by this one's pause.
     */
    public static PausedFiles byVersion() {
        return new PausedFiles(true);
    }

    /** The exchange's file is left out of the listing for {@code pause}, from now. */
    public void pause(Exchange exchange, Duration pause) {
        // as the listing names the file
        String path = exchange.getMessage().getHeader("CamelFileAbsolutePath", String.class);
        Long size = exchange.getMessage().getHeader(Exchange.FILE_LENGTH, Long.class);
        Long modified = exchange.getMessage().getHeader(Exchange.FILE_LAST_MODIFIED, Long.class);
        if (path != null && pause.toMillis() > 0 && (!byVersion || size != null && modified != null)) {
            until.put(key(path, size, modified), System.currentTimeMillis() + pause.toMillis());
        }
    }

    /** Whether the listed {@code file} is paused now. */
    public boolean holds(GenericFile<?> file) {
        String key = key(file.getAbsoluteFilePath(), file.getFileLength(), file.getLastModified());
        Long end = until.get(key);
        if (end == null) {
            return false;
        }
        if (end <= System.currentTimeMillis()) {
            until.remove(key, end);
            return false;
        }
        return true;
    }

    /** A listing filter: skips the files paused, then asks {@code next}. */
    public <T> GenericFileFilter<T> before(GenericFileFilter<T> next) {
        return file -> file.isDirectory() || !holds(file) ? next.accept(file) : false;
    }

    private String key(String path, Long size, Long modified) {
        return byVersion ? path + "\n" + size + "\n" + modified : path;
    }
}

package id.ktpbridge.ingest;

import java.time.Duration;
import java.util.Collections;
import java.util.Map;

import id.ktpbridge.Lru;
import org.apache.camel.Exchange;
import org.apache.camel.component.file.GenericFile;
import org.apache.camel.component.file.GenericFileFilter;

/**
 * The file drop's files given back with a pause before their next try ({@link
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

    /** The exchange's file is left out of the listing for {@code pause}, from now. */
    public void pause(Exchange exchange, Duration pause) {
        // as the listing names the file
        String path = exchange.getMessage().getHeader("CamelFileAbsolutePath", String.class);
        if (path != null && pause.toMillis() > 0) {
            until.put(path, System.currentTimeMillis() + pause.toMillis());
        }
    }

    boolean holds(GenericFile<?> file) {
        String path = file.getAbsoluteFilePath();
        Long end = until.get(path);
        if (end == null) {
            return false;
        }
        if (end <= System.currentTimeMillis()) {
            until.remove(path, end);
            return false;
        }
        return true;
    }

    /** A listing filter: skips the files paused, then asks {@code next}. */
    public <T> GenericFileFilter<T> before(GenericFileFilter<T> next) {
        return file -> file.isDirectory() || !holds(file) ? next.accept(file) : false;
    }
}

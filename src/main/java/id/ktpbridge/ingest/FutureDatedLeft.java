package id.ktpbridge.ingest;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;

import id.ktpbridge.Lru;
import org.apache.camel.component.file.GenericFile;
import org.apache.camel.component.file.GenericFileFilter;

/**
 * The future-dated files of the drop folder that {@link FutureDatedFiles} leaves because the bundle
 * may not date them now (another account's file): they are taken only once their date has passed,
 * hours later perhaps. The batch end counts them apart instead of waiting for them until
 * {@code ktp.batch.max-wait}. Remembered as the listing last met them, with their date.
 */
public final class FutureDatedLeft implements GenericFileFilter<File> {

    /** As {@link FutureDatedFiles}: a file dated up to this far ahead is taken as it is. */
    private static final long TOLERANCE_MILLIS = 60_000;
    /** More than a folder would keep in sight; past it the one met longest ago is forgotten. */
    private static final int MAX_REMEMBERED = 100_000;

    private final GenericFileFilter<File> next;
    private final Map<String, Long> left = Collections.synchronizedMap(Lru.map(MAX_REMEMBERED));

    /** @param next the filter that dates a future-dated file now, or refuses it */
    public FutureDatedLeft(GenericFileFilter<File> next) {
        this.next = next;
    }

    @Override
    public boolean accept(GenericFile<File> file) {
        boolean accepted = next.accept(file);
        if (!file.isDirectory()) {
            String path = file.getFile().getAbsolutePath();
            long modified = file.getLastModified();
            if (!accepted && modified - System.currentTimeMillis() > TOLERANCE_MILLIS) {
                left.put(path, modified);
            } else {
                left.remove(path);
            }
        }
        return accepted;
    }

    /** Whether this local file, as it is now, is one of them (the batch end and the ETA ask). */
    public boolean holds(Path file) {
        Long modified = left.get(file.toAbsolutePath().toString());
        if (modified == null) {
            return false;
        }
        try {
            // still that file, and still ahead: once its date has come the next scan takes it
            return Files.getLastModifiedTime(file).toMillis() == modified
                    && modified - System.currentTimeMillis() > TOLERANCE_MILLIS;
        } catch (IOException gone) {
            return false;
        }
    }
}

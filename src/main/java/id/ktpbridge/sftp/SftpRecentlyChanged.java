package id.ktpbridge.sftp;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

import org.apache.camel.component.file.GenericFile;
import org.apache.camel.component.file.GenericFileFilter;
import org.apache.camel.component.file.remote.SftpRemoteFile;

/**
 * The SFTP source's listing filter for files still being uploaded: a file is claimed only once this
 * bundle has seen it with the same size and modification time for {@code ktp.source.sftp.read-lock-min-age},
 * by its own clock. Camel claims a listed file before its read lock waits for the upload to end, by a
 * key that holds the file's size and time; a file claimed mid-upload by one instance of a cluster and
 * listed again later by another had two keys, and both took it. A file claimed only once it has
 * stopped changing has one key wherever it is listed.
 *
 * <p>The server's modification time is compared with itself only: against the bundle's clock, a
 * server clock running behind made a file being written look old enough, and it was taken part-way.
 * The price is one wait of the minimum age for a file first listed after a start, however old it is.
 */
public class SftpRecentlyChanged implements GenericFileFilter<SftpRemoteFile<?>> {

    /** Sightings of files no longer listed go after this long (files moved away or claimed elsewhere). */
    private static final long FORGET_AFTER_MILLIS = 10 * 60_000;

    private final long minAgeMillis;
    private final GenericFileFilter<SftpRemoteFile<?>> next;
    private final LongSupplier clock;
    private final Map<String, Sighting> sightings = new HashMap<>();
    private long lastPruned;

    public SftpRecentlyChanged(long minAgeMillis, GenericFileFilter<SftpRemoteFile<?>> next) {
        this(minAgeMillis, next, System::currentTimeMillis);
    }

    SftpRecentlyChanged(long minAgeMillis, GenericFileFilter<SftpRemoteFile<?>> next, LongSupplier clock) {
        this.minAgeMillis = minAgeMillis;
        this.next = next;
        this.clock = clock;
        this.lastPruned = clock.getAsLong();
    }

    @Override
    public boolean accept(GenericFile<SftpRemoteFile<?>> file) {
        // after the next filter, which may date a future-dated file now: it then waits like a new one
        if (!next.accept(file)) {
            return false;
        }
        if (file.isDirectory() || minAgeMillis <= 0) {
            return true;
        }
        return unchangedLongEnough(file.getAbsoluteFilePath(), file.getFileLength(), file.getLastModified());
    }

    private synchronized boolean unchangedLongEnough(String path, long size, long modified) {
        long now = clock.getAsLong();
        prune(now);
        Sighting seen = sightings.get(path);
        if (seen == null || seen.size != size || seen.modified != modified) {
            sightings.put(path, new Sighting(size, modified, now, now));
            return false;
        }
        seen.lastSeen = now;
        return now - seen.since >= minAgeMillis;
    }

    private void prune(long now) {
        if (now - lastPruned < FORGET_AFTER_MILLIS / 10) {
            return;
        }
        lastPruned = now;
        sightings.values().removeIf(s -> now - s.lastSeen > Math.max(FORGET_AFTER_MILLIS, 10 * minAgeMillis));
    }

    synchronized int remembered() {
        return sightings.size();
    }

    private static final class Sighting {
        final long size;
        final long modified;
        final long since;
        long lastSeen;

        Sighting(long size, long modified, long since, long lastSeen) {
            this.size = size;
            this.modified = modified;
            this.since = since;
            this.lastSeen = lastSeen;
        }
    }
}

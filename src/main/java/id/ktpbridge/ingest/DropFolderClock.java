package id.ktpbridge.ingest;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongSupplier;

import org.apache.camel.component.file.GenericFile;
import org.apache.camel.component.file.GenericFileFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file drop's scan filter for files younger than {@code ktp.source.read-lock-min-age}: they are
 * left for a later scan. Camel's read lock would wait for each of them on the scan's one thread, up
 * to its timeout (a minute), and a file copied slowly, its time stamp moving all the while, held up
 * every file after it at every scan; the read lock now only confirms the age.
 * <p>
 * The age is by the drop folder's clock, which may run behind this host's (a network share dates
 * the files it stores by its server's clock): with a server clock seconds behind, a file still
 * being written already looked old enough and was taken part-way (and rejected as truncated). The
 * folder's clock is measured by writing a probe file there, at the first scan and then once a
 * minute ({@link EmptyFiles} ages an empty file by it too).
 */
public class DropFolderClock implements GenericFileFilter<File> {

    private static final Logger LOG = LoggerFactory.getLogger(DropFolderClock.class);
    private static final long PROBE_EVERY_MILLIS = 60_000;
    /**
     * Up to this behind is time-stamp granularity (FAT keeps 2 s) and the probe's own time, not a
     * clock apart.
     */
    private static final long TOLERANCE_MILLIS = 2_000;

    private final long minAgeMillis;
    private final GenericFileFilter<File> next;
    private final LongSupplier probe;
    private long behindMillis;
    private long probedAt = Long.MIN_VALUE;

    /** @param folder the drop folder, where the probe file is written (hidden, deleted at once) */
    public DropFolderClock(Path folder, long minAgeMillis, GenericFileFilter<File> next) {
        this(minAgeMillis, next, () -> behind(folder));
    }

    DropFolderClock(long minAgeMillis, GenericFileFilter<File> next, LongSupplier probe) {
        this.minAgeMillis = minAgeMillis;
        this.next = next;
        this.probe = probe;
    }

    @Override
    public boolean accept(GenericFile<File> file) {
        if (!next.accept(file)) {
            return false;
        }
        return file.isDirectory() || oldEnough(file.getLastModified());
    }

    /**
     * Whether a file last changed at {@code lastModified} (its time stamp, ms) is the minimum age by
     * the folder's clock: asked again by a worker before it reads the file (see Intake), as the same
     * test the scan made.
     */
    public boolean oldEnough(long lastModified) {
        return minAgeMillis <= 0 || lastModified + behind() <= System.currentTimeMillis() - minAgeMillis;
    }

    /** How far the folder's clock runs behind this host's (0 within the tolerance), measured once a minute. */
    synchronized long behind() {
        long now = System.currentTimeMillis();
        if (probedAt == Long.MIN_VALUE || now - probedAt >= PROBE_EVERY_MILLIS) {
            probedAt = now;
            long measured = probe.getAsLong();
            if (measured < 0) {
                return behindMillis; // not measured this time: as it was
            }
            long skew = measured > TOLERANCE_MILLIS ? measured : 0;
            if (skew > 0 && behindMillis == 0) {
                LOG.warn("The drop folder's clock runs {} s behind this host's: files are taken once they are"
                        + " ktp.source.read-lock-min-age old by its clock (empty ones ktp.source.empty-file-min-age)",
                        Math.round(skew / 1000.0));
            } else if (skew == 0 && behindMillis > 0) {
                LOG.info("The drop folder's clock no longer runs behind this host's");
            }
            behindMillis = skew;
        }
        return behindMillis;
    }

    /**
     * Writes a probe file in {@code folder} and returns how far its time stamp is behind this host's
     * clock, or -1 when no probe could be written.
     */
    static long behind(Path folder) {
        Path probeFile = null;
        try {
            long before = System.currentTimeMillis();
            probeFile = Files.createTempFile(folder, ".ktp-clock-", ".tmp");
            return Math.max(0, before - Files.getLastModifiedTime(probeFile).toMillis());
        } catch (IOException | RuntimeException e) {
            // a folder that takes no probe (read-only, gone for a moment): measured again next time
            LOG.debug("Drop folder clock not measured: {}", e.getClass().getSimpleName());
            return -1;
        } finally {
            if (probeFile != null) {
                try {
                    Files.deleteIfExists(probeFile);
                } catch (IOException e) {
                    LOG.debug("Drop folder clock probe not deleted: {}", e.getClass().getSimpleName());
                }
            }
        }
    }
}

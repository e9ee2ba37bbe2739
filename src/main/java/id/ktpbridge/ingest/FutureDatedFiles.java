package id.ktpbridge.ingest;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.FileTime;

import org.apache.camel.component.file.GenericFile;
import org.apache.camel.component.file.GenericFileFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file drop's scan filter for files dated in the future: a card copied with its timestamps
 * kept from a device whose clock runs ahead (or writes local time as UTC). The read lock takes a
 * file only once it is {@code ktp.source.read-lock-min-age} old, which such a file never is, and
 * each scan waited for it until the read lock's timeout, holding up the files after it. Its
 * modification time is set to now, so it is taken like any other file once it has stopped changing.
 */
public class FutureDatedFiles implements GenericFileFilter<File> {

    private static final Logger LOG = LoggerFactory.getLogger(FutureDatedFiles.class);
    /** Clocks a little apart (a network share) are not worth touching a file for. */
    private static final long TOLERANCE_MILLIS = 60_000;

    private final id.ktpbridge.ThrottledWarning cannotRedate = new id.ktpbridge.ThrottledWarning(LOG, "A file in the"
            + " drop folder is dated {} s in the future and could not be dated now ({}); it is left until that time"
            + " has passed", 60_000);

    @Override
    public boolean accept(GenericFile<File> file) {
        long now = System.currentTimeMillis();
        long ahead = file.getLastModified() - now;
        if (ahead > TOLERANCE_MILLIS && !file.isDirectory()) {
            try {
                Files.setLastModifiedTime(file.getFile().toPath(), FileTime.fromMillis(now));
                file.setLastModified(now);
                // not the name: a file name may hold a NIK
                LOG.warn("A file in the drop folder was dated {} s in the future; dated now so it can be taken",
                        ahead / 1000);
            } catch (IOException e) {
                // not taken before then: the read lock would hold the scan on it for its whole timeout
                // at every scan, and so every file after it
                cannotRedate.warn(ahead / 1000, e.getClass().getSimpleName());
                return false;
            }
        }
        return true;
    }
}

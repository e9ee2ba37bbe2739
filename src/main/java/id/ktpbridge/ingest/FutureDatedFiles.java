package id.ktpbridge.ingest;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.util.regex.Pattern;

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
 * Only a file the route takes by its name is touched (Camel asks this filter before it applies
 * {@code ktp.source.include}): the other files are left alone. A symbolic link is never followed,
 * so its target, which may be anywhere on the host, is not re-dated either.
 */
public class FutureDatedFiles implements GenericFileFilter<File> {

    private static final Logger LOG = LoggerFactory.getLogger(FutureDatedFiles.class);
    /** Clocks a little apart (a network share) are not worth touching a file for. */
    private static final long TOLERANCE_MILLIS = 60_000;

    private final Pattern include;
    private final id.ktpbridge.ThrottledWarning cannotRedate = new id.ktpbridge.ThrottledWarning(LOG, "A file in the"
            + " drop folder is dated {} s in the future and could not be dated now ({}); it is left until that time"
            + " has passed", 60_000);
    private final id.ktpbridge.ThrottledWarning linkedAhead = new id.ktpbridge.ThrottledWarning(LOG, "A symbolic link"
            + " in the drop folder points to a file dated {} s in the future; a link is never followed, so its"
            + " target is not dated now, and the link is left until that time has passed", 60_000);

    /** @param includePattern {@code ktp.source.include}: the names the route takes */
    public FutureDatedFiles(String includePattern) {
        // as Camel's file consumer compiles it
        this.include = Pattern.compile(includePattern, Pattern.CASE_INSENSITIVE);
    }

    @Override
    public boolean accept(GenericFile<File> file) {
        long now = System.currentTimeMillis();
        // the listing's time (a link's target's): only a file dated ahead costs a look more
        if (file.getLastModified() - now <= TOLERANCE_MILLIS || file.isDirectory()
                || !include.matcher(file.getFileNameOnly()).matches()) {
            return true;
        }
        Path path = file.getFile().toPath();
        if (Files.isSymbolicLink(path)) {
            // the read lock would wait on the target's time at every scan: left out until then, and
            // rejected as a link once taken
            linkedAhead.warn((file.getLastModified() - now) / 1000);
            return false;
        }
        // without following a link put in its place meanwhile
        BasicFileAttributeView view = Files.getFileAttributeView(path, BasicFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS);
        long ahead = 0;
        try {
            ahead = view.readAttributes().lastModifiedTime().toMillis() - now;
            if (ahead <= TOLERANCE_MILLIS) {
                return true;
            }
            view.setTimes(FileTime.fromMillis(now), null, null);
            file.setLastModified(now);
            // not the name: a file name may hold a NIK
            LOG.warn("A file in the drop folder was dated {} s in the future; dated now so it can be taken",
                    ahead / 1000);
        } catch (IOException e) {
            // not taken before then: the read lock would hold the scan on it for its whole timeout
            // at every scan, and so every file after it
            cannotRedate.warn(Math.max(ahead, file.getLastModified() - now) / 1000, e.getClass().getSimpleName());
            return false;
        }
        return true;
    }
}

package id.ktpbridge.sftp;

import java.util.Map;

import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.SftpException;
import id.ktpbridge.Lru;
import id.ktpbridge.ThrottledWarning;
import org.apache.camel.Exchange;
import org.apache.camel.component.file.GenericFile;
import org.apache.camel.component.file.GenericFileFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SFTP files whose download failed before the route saw them, left out of listings for a while. The
 * consumer lists again at once after a poll that took files (greedy), and a failed download counts
 * as taken: a file the bundle's login may not read (another account's upload with mode 0600) was
 * listed, claimed, refused and given back many times a second, each time with a WARN line, and never
 * got anywhere. Such a file is now tried again every {@link #REFUSED_PAUSE_MILLIS} (a changed file,
 * its size or time, at once), with one WARN line a minute for all of them; other download failures
 * (a connection cut) wait {@link #FAILED_PAUSE_MILLIS}. The file stays on the server, without a
 * result, until it can be read.
 * <p>
 * With {@code recursive=true} a sub-folder the login may not list (another team's, mode 0700) failed
 * every poll, and no file of the source was ever taken: such a sub-folder is left out of listings
 * for {@link #REFUSED_PAUSE_MILLIS}, with one WARN line a minute for all of them. The inbox itself
 * refused stays a failed poll (an outage of the source, said as one).
 */
public class UnreadableFiles {

    private static final Logger LOG = LoggerFactory.getLogger(UnreadableFiles.class);
    static final long REFUSED_PAUSE_MILLIS = 10 * 60_000;
    static final long FAILED_PAUSE_MILLIS = 5_000;
    private static final int REMEMBERED = 10_000;

    private final ThrottledWarning refusals = new ThrottledWarning(LOG, "SFTP source: {} file(s) on the server may"
            + " not be read by the bundle's login (permission denied); they stay there and are tried again every"
            + " 10 minutes, or when they change", 60_000);
    /** By path, size and modification time: when the file may be taken again. */
    private final Map<String, Long> notBefore = Lru.map(REMEMBERED);
    private final ThrottledWarning unlistable = new ThrottledWarning(LOG, "SFTP source: {} sub-folder(s) of the"
            + " directory may not be listed by the bundle's login (permission denied); they are left out and tried"
            + " again every 10 minutes", 60_000);
    /** By path: when the sub-folder may be listed again. */
    private final Map<String, Long> foldersNotBefore = Lru.map(1_000);
    /** The source's directory as Camel lists it, without a trailing slash. */
    private final String directory;

    /** @param directory {@code ktp.source.sftp.directory} (null when the source is off) */
    public UnreadableFiles(String directory) {
        this.directory = directory == null ? null : strip(directory);
    }

    /**
     * Notes a poll that broke off at a folder's listing; whether that was a sub-folder the server
     * refused to list, which is left out of listings from now on for a while.
     */
    public boolean listingFailed(Throwable cause) {
        String folder = null;
        for (Throwable t = cause; t != null && folder == null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof org.apache.camel.component.file.GenericFileOperationFailedException
                    && t.getMessage() != null && t.getMessage().startsWith(LISTING_FAILED)) {
                folder = strip(t.getMessage().substring(LISTING_FAILED.length()));
            }
        }
        if (folder == null || !permissionDenied(cause) || folder.equals(directory) || folder.isEmpty()
                || folder.equals(".")) {
            return false;
        }
        unlistable.warn(pause(foldersNotBefore, folder, System.currentTimeMillis() + REFUSED_PAUSE_MILLIS));
        return true;
    }

    /** Camel's message for a listing the server refused (SftpOperations.listFiles), the folder's path after it. */
    private static final String LISTING_FAILED = "Cannot list directory: ";

    private static String strip(String path) {
        return path.endsWith("/") && path.length() > 1 ? path.substring(0, path.length() - 1) : path;
    }

    /** Notes the failed download of the file of {@code exchange}; whether the server refused to let it be read. */
    public boolean failed(Exchange exchange, Throwable cause) {
        String path = exchange.getMessage().getHeader(Exchange.FILE_PATH, String.class);
        String absolute = exchange.getMessage().getHeader("CamelFileAbsolutePath", String.class);
        Long size = exchange.getMessage().getHeader(Exchange.FILE_LENGTH, Long.class);
        Long modified = exchange.getMessage().getHeader(Exchange.FILE_LAST_MODIFIED, Long.class);
        String name = absolute != null ? absolute : path;
        boolean refused = permissionDenied(cause);
        if (name == null || size == null || modified == null) {
            return refused;
        }
        int waiting = pause(notBefore, key(name, size, modified),
                System.currentTimeMillis() + (refused ? REFUSED_PAUSE_MILLIS : FAILED_PAUSE_MILLIS));
        if (refused) {
            refusals.warn(waiting);
        }
        return refused;
    }

    /** The listing filter {@code next}, skipping files whose download failed a moment ago and refused sub-folders. */
    public <T> GenericFileFilter<T> before(GenericFileFilter<T> next) {
        return file -> !(file.isDirectory() ? pausing(foldersNotBefore, strip(file.getAbsoluteFilePath()))
                : pausing(notBefore, key(file.getAbsoluteFilePath(), file.getFileLength(), file.getLastModified())))
                && next.accept(file);
    }

    /** Whether {@code key} is paused in {@code notBefore} now; a pause that has run out is dropped. */
    private static boolean pausing(Map<String, Long> notBefore, String key) {
        synchronized (notBefore) {
            Long until = notBefore.get(key);
            if (until == null) {
                return false;
            }
            if (until <= System.currentTimeMillis()) {
                notBefore.remove(key);
                return false;
            }
            return true;
        }
    }

    /** Pauses {@code key} in {@code notBefore} until {@code until}; how many are paused now. */
    private static int pause(Map<String, Long> notBefore, String key, long until) {
        long now = System.currentTimeMillis();
        synchronized (notBefore) {
            notBefore.put(key, until);
            notBefore.values().removeIf(u -> u <= now);
            return notBefore.size();
        }
    }

    static boolean permissionDenied(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SftpException s && s.id == ChannelSftp.SSH_FX_PERMISSION_DENIED) {
                return true;
            }
        }
        return false;
    }

    private static String key(String path, long size, long modified) {
        return path + "\n" + size + "\n" + modified;
    }
}

package id.ktpbridge.sftp;

import id.ktpbridge.ThrottledWarning;
import org.apache.camel.component.file.GenericFile;
import org.apache.camel.component.file.GenericFileFilter;
import org.apache.camel.component.file.remote.SftpRemoteFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SFTP source's listing filter for names Camel cannot hand to JSch safely. Camel passes a
 * file's path to JSch as it is, and JSch drops a backslash (its escape) and reads {@code *} and
 * {@code ?} as wildcards. A name with a backslash would be downloaded as another file's name; with
 * {@code after-success=delete}, the delete of a name with {@code *} or {@code ?} removes every file
 * it matches, other images not yet taken among them. Such files are left on the server, with a
 * warning (no name: it may hold a NIK) once a minute; renamed, they are taken. With {@code move},
 * names with {@code *} or {@code ?} are taken: the move reads the name as a pattern too, but fails
 * rather than touching another file when it matches more than one, and their done name has none. A
 * name that is not UTF-8 reaches the bundle with U+FFFD in place of its bytes and cannot be asked for
 * again: left too. So is a name over 244 bytes, which the download's work file cannot take.
 */
public class SftpUnsafeNames implements GenericFileFilter<SftpRemoteFile<?>> {

    private static final Logger LOG = LoggerFactory.getLogger(SftpUnsafeNames.class);

    /** The longest name the local work folder takes with Camel's {@code .inprogress} while downloading. */
    static final int MAX_NAME_BYTES = 255 - ".inprogress".length();

    private final boolean deleteAfterSuccess;
    private final java.util.regex.Pattern include;
    private final GenericFileFilter<SftpRemoteFile<?>> next;
    private final ThrottledWarning left = new ThrottledWarning(LOG, "SFTP source: a file whose name has {} is left"
            + " on the server (the SFTP library reads it as a pattern or an escape): rename it", 60_000);
    private final ThrottledWarning tooLong = new ThrottledWarning(LOG, "SFTP source: a file whose name has more than"
            + " {} bytes is left on the server (downloaded, its work file would add .inprogress, over the 255 bytes a"
            + " file system takes): rename it", 60_000);
    private final ThrottledWarning nameless = new ThrottledWarning(LOG, "SFTP source: a file whose name is not UTF-8"
            + " (written in another character set) is left on the server: its name cannot be given back to the"
            + " server; rename it", 60_000);

    /** @param include {@code ktp.source.sftp.include}: Camel asks this filter before its own include rule */
    public SftpUnsafeNames(boolean deleteAfterSuccess, java.util.regex.Pattern include,
                           GenericFileFilter<SftpRemoteFile<?>> next) {
        this.deleteAfterSuccess = deleteAfterSuccess;
        this.include = include;
        this.next = next;
    }

    @Override
    public boolean accept(GenericFile<SftpRemoteFile<?>> file) {
        String name = file.getFileNameOnly();
        if (!file.isDirectory() && name != null && include.matcher(name).matches()) {
            if (name.indexOf('\\') >= 0) {
                left.warn("a backslash");
                return false;
            }
            if (name.indexOf('\uFFFD') >= 0) {
                // bytes that are no UTF-8 (another character set) came out of the listing as U+FFFD: that
                // name no longer leads to the file, whose every read would fail at each poll
                nameless.warn();
                return false;
            }
            if (name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
                // Camel downloads it as <name>.inprogress in the work folder, which no file system of
                // 255-byte names takes: every download would fail, at every poll
                tooLong.warn(MAX_NAME_BYTES);
                return false;
            }
            if (deleteAfterSuccess && SftpConnector.readAsPattern(name)) {
                left.warn("'*' or '?' and after-success=delete");
                return false;
            }
        }
        return next.accept(file);
    }
}

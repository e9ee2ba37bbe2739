package id.ktpbridge.sftp;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.SftpATTRS;
import com.jcraft.jsch.SftpException;
import id.ktpbridge.submit.GoneCheck;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the files of SFTP inputs left waiting are still on the server: one session of the
 * source's own settings per sweep, a look at each path ({@code lstat}: a link counts as there). A
 * file is gone only when the server answers that it is not there while its folder is (a folder
 * missing, as a mount on the server that is away, tells nothing of its files); any other failure,
 * a login refused or a session that cannot be opened tells nothing.
 */
public final class SftpGoneCheck implements GoneCheck {

    private static final Logger LOG = LoggerFactory.getLogger(SftpGoneCheck.class);

    private final SftpConnector connector;

    public SftpGoneCheck(SftpSettings settings) {
        this(new SftpConnector(settings));
    }

    SftpGoneCheck(SftpConnector connector) {
        this.connector = connector;
    }

    @Override
    public String sourceType() {
        return "sftp";
    }

    @Override
    public String goneMessage() {
        return "its file left the SFTP folder before its upload";
    }

    @Override
    public String place() {
        return "the SFTP folder";
    }

    @Override
    public Set<String> gone(List<String> sourceRefs) {
        Set<String> gone = new HashSet<>();
        ChannelSftp channel;
        try {
            channel = connector.open();
        } catch (RuntimeException e) {
            // the message names the setting, never a file
            LOG.warn("SFTP source: could not look whether the files of {} input(s) left waiting are still on the"
                    + " server: {}); looked at again at the next sweep", sourceRefs.size(),
                    String.valueOf(e.getMessage()).replaceFirst("^SFTP source: ", ""));
            return gone;
        }
        try {
            for (String ref : sourceRefs) {
                String path = path(ref);
                if (path == null) {
                    continue;
                }
                try {
                    if (SftpConnector.lstat(channel, path) == null && folderThere(channel, path)) {
                        gone.add(ref);
                    }
                } catch (SftpException | RuntimeException e) {
                    if (!SftpConnector.answered(e)) {
                        // the session broke: the others wait for the next sweep
                        LOG.warn("SFTP source: the look whether files of inputs left waiting are still on the server"
                                + " broke off ({}); looked at again at the next sweep", SftpConnector.safe(e));
                        break;
                    }
                    // an answer of its own for this file (permission denied, say): it may be there
                }
            }
        } finally {
            SftpConnector.close(channel);
        }
        return gone;
    }

    /** {@code sftp://host:port/inbox/a.png} -> {@code inbox/a.png}: the path from the login folder, as listed. */
    static String path(String ref) {
        if (ref == null || !ref.startsWith("sftp://")) {
            return null;
        }
        int slash = ref.indexOf('/', "sftp://".length());
        return slash < 0 || slash == ref.length() - 1 ? null : ref.substring(slash + 1);
    }

    private static boolean folderThere(ChannelSftp channel, String path) throws SftpException {
        int slash = path.lastIndexOf('/');
        String folder = slash < 0 ? "." : slash == 0 ? "/" : path.substring(0, slash);
        SftpATTRS attributes = SftpConnector.stat(channel, folder);
        return attributes != null && attributes.isDir();
    }
}

package id.ktpbridge.sftp;

import java.io.IOException;
import java.util.Collections;
import java.util.Set;
import java.util.regex.Pattern;

import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.SftpException;
import id.ktpbridge.Lru;
import org.apache.camel.component.file.GenericFile;
import org.apache.camel.component.file.GenericFileFilter;
import org.apache.camel.component.file.remote.SftpRemoteFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SFTP source's listing filter for files dated in the future: uploaded with their timestamps
 * kept ({@code put -p}) from a device whose clock runs ahead, or on a server whose clock does.
 * The read lock takes a file only once it is {@code ktp.source.sftp.read-lock-min-age} old by the
 * bundle's clock, which such a file is not until that time; each poll waited for it until the read
 * lock's timeout, holding up the files after it. Its modification time on the server is set to now,
 * so it is taken like any other file once it has stopped changing (the file drop does the same).
 * One the server will not re-date is left out of listings until its time has come.
 */
public class SftpFutureDated implements GenericFileFilter<SftpRemoteFile<?>> {

    private static final Logger LOG = LoggerFactory.getLogger(SftpFutureDated.class);
    /** Clocks a little apart are not worth touching a file for. */
    private static final long TOLERANCE_MILLIS = 60_000;

    private final SftpSidecar server;
    private final Pattern include;
    /** Files the server would not re-date: said once each, not at every poll until their date. */
    private final Set<String> refused = Collections.newSetFromMap(Lru.map(10_000));

    /** @param include {@code ktp.source.sftp.include}: only images are re-dated (sidecars and others are left alone) */
    public SftpFutureDated(SftpSidecar server, Pattern include) {
        this.server = server;
        this.include = include;
    }

    @Override
    public boolean accept(GenericFile<SftpRemoteFile<?>> file) {
        // whole seconds, as the server keeps them: every listing after this one, on any instance, then
        // sees the same time, and so the same claim key (it holds the modification time)
        long now = System.currentTimeMillis() / 1000 * 1000;
        long ahead = file.getLastModified() - now;
        if (ahead > TOLERANCE_MILLIS && !file.isDirectory() && include.matcher(file.getFileNameOnly()).matches()) {
            String path = file.getAbsoluteFilePath();
            try {
                server.setModified(path, now);
                file.setLastModified(now);
                // Camel reads the time from the listing entry again once the read lock has the file
                // (the exchange's headers, and so the claim key it confirms or drops): it must agree
                if (file.getFile() != null && file.getFile().getRemoteFile() instanceof ChannelSftp.LsEntry entry) {
                    entry.getAttrs().setACMODTIME(entry.getAttrs().getATime(), (int) (now / 1000));
                }
                // not the name: a file name may hold a NIK
                LOG.warn("A file on the SFTP server was dated {} s in the future; dated now so it can be taken",
                        ahead / 1000);
            } catch (SftpException | IOException | RuntimeException e) {
                boolean first;
                synchronized (refused) {
                    first = refused.add(path);
                }
                if (first) {
                    LOG.warn("A file on the SFTP server is dated {} s in the future and could not be dated now ({});"
                            + " it is taken only once that time has passed", ahead / 1000, SftpConnector.safe(e));
                }
                // left out of the listing until then (re-dating needs the file's owner, often another
                // account): taken now, it would hold the read lock to its timeout at every poll, and
                // enough of them would fill every poll's batch
                return false;
            }
        }
        return true;
    }
}

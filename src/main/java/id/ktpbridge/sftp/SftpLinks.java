package id.ktpbridge.sftp;

import com.jcraft.jsch.ChannelSftp;
import id.ktpbridge.ingest.InputHeaders;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePropertyKey;
import org.apache.camel.component.file.GenericFile;
import org.apache.camel.component.file.GenericFileFilter;
import org.apache.camel.component.file.remote.SftpRemoteFile;

/**
 * Symbolic links in the SFTP folder, and which of its two consumers ({@code routes/ingest-sftp.yaml})
 * takes a listed file. Camel's SFTP consumer takes every entry that is not a folder as a file, and
 * the listing gives a link's own attributes (OpenSSH's READDIR is an {@code lstat}): a link was
 * downloaded, which follows it on the server, and its target's bytes were submitted, while the size
 * check saw the link's few bytes and the link itself went to the done folder. Links are never
 * followed, as in the drop folder: the consumer that downloads leaves them to the other one, which
 * downloads nothing, and they are rejected as {@code SYMBOLIC_LINK} and moved to the failed folder.
 * A server whose listing follows links (gives their targets' attributes) cannot be told apart.
 */
public final class SftpLinks {

    /** Whether the listing gave this entry as a symbolic link. */
    static boolean isLink(GenericFile<?> file) {
        return file.getFile() instanceof SftpRemoteFile<?> remote
                && remote.getRemoteFile() instanceof ChannelSftp.LsEntry entry && entry.getAttrs().isLink();
    }

    /**
     * In the listing filter of both consumers, before the checks that wait for an upload to end and
     * re-date a file dated ahead: a link is not waited for, and never re-dated (that would change its
     * target's time).
     */
    static GenericFileFilter<SftpRemoteFile<?>> untouched(GenericFileFilter<SftpRemoteFile<?>> next) {
        return file -> !file.isDirectory() && isLink(file) || next.accept(file);
    }

    /**
     * The listing filter of one consumer: {@code shared} (asked of every entry by both, as it keeps
     * the sightings of files being uploaded), then this consumer's share. The one that downloads
     * takes the files within {@code maxSize}; the other the larger ones, which are rejected by their
     * listed size, and links.
     */
    static GenericFileFilter<SftpRemoteFile<?>> share(boolean downloads, long maxSize,
                                                      GenericFileFilter<SftpRemoteFile<?>> shared) {
        return file -> shared.accept(file)
                && (file.isDirectory() || downloads != (isLink(file) || file.getFileLength() > maxSize));
    }

    /** Camel bean method: an input that was listed as a link is rejected without being read. */
    public void mark(Exchange exchange) {
        // the consumer's listed file (the body of an input not downloaded holds nothing)
        if (exchange.getProperty(ExchangePropertyKey.FILE_EXCHANGE_FILE) instanceof GenericFile<?> file && isLink(file)) {
            exchange.getMessage().setHeader(InputHeaders.SYMBOLIC_LINK, "a symbolic link on the SFTP server");
        }
    }
}

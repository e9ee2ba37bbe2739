package id.ktpbridge.sftp;

import org.apache.camel.component.file.GenericFile;
import org.apache.camel.component.file.GenericFileFilter;
import org.apache.camel.component.file.remote.SftpRemoteFile;

/**
 * The SFTP source's listing filter for files changed within {@code ktp.source.sftp.read-lock-min-age}:
 * left for a later listing instead of being claimed now. Camel claims a listed file before its read
 * lock waits for the upload to end, by a key that holds the file's size and time; a file claimed
 * mid-upload by one instance of a cluster and listed again later by another had two keys, and both
 * took it. A file claimed only once it has stopped changing has one key wherever it is listed. (The
 * server's time against the bundle's clock, as the read lock compares them too.)
 */
public class SftpRecentlyChanged implements GenericFileFilter<SftpRemoteFile<?>> {

    private final long minAgeMillis;
    private final GenericFileFilter<SftpRemoteFile<?>> next;

    public SftpRecentlyChanged(long minAgeMillis, GenericFileFilter<SftpRemoteFile<?>> next) {
        this.minAgeMillis = minAgeMillis;
        this.next = next;
    }

    @Override
    public boolean accept(GenericFile<SftpRemoteFile<?>> file) {
        // after the next filter, which may date a future-dated file now: it then waits like a new one
        return next.accept(file) && (file.isDirectory() || minAgeMillis <= 0
                || file.getLastModified() <= System.currentTimeMillis() - minAgeMillis);
    }
}

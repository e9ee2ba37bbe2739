package id.ktpbridge.submit;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;

import id.ktpbridge.Settings;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.sftp.SftpSettings;

/**
 * Where this configuration's sources take their inputs from: the file drop's folder, the SFTP
 * source's server and folder, the S3 source's bucket and prefix, each only while that source is
 * on. An input left unconfirmed at another place (a source turned off, or set to read elsewhere,
 * since it was taken) is never taken again, so nothing here would ever give it a result.
 * <p>
 * The references compared are the ones the ingest routes write (routes/ingest-*.yaml): {@code
 * file:<absolute path>}, {@code sftp://<host>:<port>/<path from the login folder>} and {@code
 * s3://<bucket>/<key>}. A source type or a reference of another shape (a route of one's own) is
 * never judged.
 */
public class SourcePlaces {

    private final boolean fileOn;
    private final Path dropFolder;
    private final boolean sftpOn;
    private final String sftpServer;
    private final String sftpDirectory;
    private final boolean sftpRecursive;
    private final boolean s3On;
    private final String s3Bucket;
    private final String s3Prefix;

    SourcePlaces(boolean fileOn, Path dropFolder, boolean sftpOn, String sftpServer, String sftpDirectory,
                 boolean sftpRecursive, boolean s3On, String s3Bucket, String s3Prefix) {
        this.fileOn = fileOn;
        this.dropFolder = dropFolder.toAbsolutePath().normalize();
        this.sftpOn = sftpOn;
        this.sftpServer = sftpServer == null ? "" : sftpServer.strip().toLowerCase(Locale.ROOT);
        this.sftpDirectory = SftpSettings.normalize(sftpDirectory == null ? "" : sftpDirectory);
        this.sftpRecursive = sftpRecursive;
        this.s3On = s3On;
        this.s3Bucket = s3Bucket == null ? "" : s3Bucket;
        this.s3Prefix = s3Prefix == null ? "" : s3Prefix;
    }

    /** The places of the sources this configuration turns on, as the ingest routes read the settings. */
    public static SourcePlaces from(Settings s) {
        boolean sftpOn = s.flag("ktp.source.sftp.enabled", false);
        boolean s3On = s.flag("ktp.source.s3.enabled", false);
        return new SourcePlaces(s.flag("ktp.source.file.enabled", true), s.path("ktp.source.dir"),
                sftpOn, sftpOn ? s.string("ktp.source.sftp.host", "") + ":" + s.integer("ktp.source.sftp.port", 22) : "",
                s.string("ktp.source.sftp.directory", "inbox"), s.flag("ktp.source.sftp.recursive", false),
                s3On, s3On ? s.string("ktp.source.s3.bucket", "") : "", s.string("ktp.source.s3.prefix", ""));
    }

    /**
     * Why no source of this configuration takes the row's input again, or null when one does (or
     * when the row is not of a known source and shape). Names settings only, never the reference
     * (a file name is often a NIK).
     */
    public String unread(LedgerRecord row) {
        String ref = row.sourceRef();
        if (ref == null || row.sourceType() == null) {
            return null;
        }
        return switch (row.sourceType()) {
            case "file" -> ref.startsWith("file:") ? file(ref.substring("file:".length())) : null;
            case "sftp" -> ref.startsWith("sftp://") ? sftp(ref.substring("sftp://".length())) : null;
            case "s3" -> ref.startsWith("s3://") ? s3(ref.substring("s3://".length())) : null;
            default -> null;
        };
    }

    private String file(String path) {
        if (!fileOn) {
            return "the file drop is off (ktp.source.file.enabled)";
        }
        Path file;
        try {
            file = Path.of(path).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            return null;
        }
        // the file drop reads its folder only, not the folders in it
        return dropFolder.equals(file.getParent()) ? null : "its file is not in ktp.source.dir";
    }

    private String sftp(String serverAndPath) {
        if (!sftpOn) {
            return "the SFTP source is off (ktp.source.sftp.enabled)";
        }
        int slash = serverAndPath.indexOf('/');
        if (slash < 0) {
            return null;
        }
        String server = serverAndPath.substring(0, slash).strip().toLowerCase(Locale.ROOT);
        if (!server.equals(sftpServer)) {
            return "its file is on another server than ktp.source.sftp.host and ktp.source.sftp.port";
        }
        String file = SftpSettings.normalize(serverAndPath.substring(slash + 1));
        String parent = file.contains("/") ? file.substring(0, file.lastIndexOf('/')) : ".";
        boolean read = sftpRecursive
                ? sftpDirectory.equals(".") ? !file.equals("..") && !file.startsWith("../")
                        : file.startsWith(sftpDirectory + "/")
                : parent.equals(sftpDirectory);
        return read ? null : "its file is not in ktp.source.sftp.directory";
    }

    private String s3(String bucketAndKey) {
        if (!s3On) {
            return "the S3 source is off (ktp.source.s3.enabled)";
        }
        int slash = bucketAndKey.indexOf('/');
        if (slash < 0) {
            return null;
        }
        return bucketAndKey.substring(0, slash).equals(s3Bucket) && bucketAndKey.substring(slash + 1).startsWith(s3Prefix)
                ? null : "its object is not under ktp.source.s3.prefix in ktp.source.s3.bucket";
    }
}

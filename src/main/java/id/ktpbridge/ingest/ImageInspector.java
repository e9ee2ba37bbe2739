package id.ktpbridge.ingest;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Reads an image once, as a stream: its size, SHA-256 and media type from its first bytes. Inputs
 * that are not local files are spooled to disk on the way, so a batch never sits in memory.
 */
public class ImageInspector {

    private static final byte[] JPEG = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF};
    private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

    private final long maxBytes;

    public ImageInspector(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** The outcome of an inspection: either a usable image or the reason it is not one. */
    public record Inspection(Path file, long size, String sha256, String contentType, RejectReason rejection,
                             String detail) {

        public boolean accepted() {
            return rejection == null;
        }
    }

    public Inspection inspectFile(Path file) throws IOException {
        long size = Files.size(file);
        if (size > maxBytes) {
            return rejected(file, size, null, RejectReason.FILE_TOO_LARGE, size + " bytes > " + maxBytes);
        }
        try (InputStream in = Files.newInputStream(file)) {
            return inspect(file, in, OutputStream.nullOutputStream());
        }
    }

    /** Copies the stream to {@code spoolFile} while inspecting it; stops reading past the size limit. */
    public Inspection inspectStream(InputStream in, Path spoolFile) throws IOException {
        Files.createDirectories(spoolFile.getParent());
        try (OutputStream out = Files.newOutputStream(spoolFile)) {
            return inspect(spoolFile, in, out);
        }
    }

    private Inspection inspect(Path file, InputStream raw, OutputStream copy) throws IOException {
        MessageDigest sha = sha256();
        byte[] head = new byte[8];
        int headLen = 0;
        long size = 0;
        byte[] buf = new byte[64 * 1024];
        try (DigestInputStream in = new DigestInputStream(raw, sha)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                if (headLen < head.length) {
                    int take = Math.min(n, head.length - headLen);
                    System.arraycopy(buf, 0, head, headLen, take);
                    headLen += take;
                }
                size += n;
                if (size > maxBytes) {
                    return rejected(file, size, null, RejectReason.FILE_TOO_LARGE, "more than " + maxBytes + " bytes");
                }
                copy.write(buf, 0, n);
            }
        }
        String digest = HexFormat.of().formatHex(sha.digest());
        if (size == 0) {
            return rejected(file, 0, digest, RejectReason.EMPTY_FILE, "0 bytes");
        }
        String type = startsWith(head, headLen, JPEG) ? "image/jpeg" : startsWith(head, headLen, PNG) ? "image/png" : null;
        if (type == null) {
            return rejected(file, size, digest, RejectReason.UNSUPPORTED_FORMAT, "first bytes are neither JPEG nor PNG");
        }
        return new Inspection(file, size, digest, type, null, null);
    }

    private static boolean startsWith(byte[] head, int len, byte[] magic) {
        if (len < magic.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if (head[i] != magic[i]) {
                return false;
            }
        }
        return true;
    }

    private static Inspection rejected(Path file, long size, String sha, RejectReason reason, String detail) {
        return new Inspection(file, size, sha, null, reason, detail);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

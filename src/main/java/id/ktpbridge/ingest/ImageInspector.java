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
 * Reads an image once, as a stream: its size, SHA-256 and media type from its first bytes, while
 * copying it to what is uploaded later ({@link SpoolCopy}), so a batch never sits in memory.
 */
public class ImageInspector {

    private static final byte[] JPEG = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF};
    private static final byte[] PNG = ImageEnd.PNG_SIGNATURE;
    /** The last chunk of every complete PNG: length 0, "IEND", its CRC. */
    private static final byte[] IHDR = {'I', 'H', 'D', 'R'};
    private static final byte[] PNG_END = {0, 0, 0, 0, 'I', 'E', 'N', 'D', (byte) 0xAE, 0x42, 0x60, (byte) 0x82};
    /** JPEG's end-of-image marker; some writers add a little padding after it. */
    private static final byte[] JPEG_END = {(byte) 0xFF, (byte) 0xD9};
    private static final int TAIL = 64;

    private final long maxBytes;

    public ImageInspector(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** The outcome of an inspection: either a usable image or the reason it is not one. */
    public record Inspection(Path file, SpoolCopy copy, long size, String sha256, String contentType,
                             RejectReason rejection, String detail) {

        public Inspection(Path file, long size, String sha256, String contentType, RejectReason rejection,
                          String detail) {
            this(file, null, size, sha256, contentType, rejection, detail);
        }

        /**
         * The bytes when its copy is held in memory, else null. Through the copy, not kept here: an
         * exchange Camel still holds after its end (a delayed release of its file) keeps no image.
         */
        public byte[] held() {
            return copy == null ? null : copy.held();
        }

        public boolean accepted() {
            return rejection == null;
        }

        /** Without the file, whose name may be a NIK, or the bytes (it travels as an exchange property). */
        @Override
        public String toString() {
            return "Inspection[size=" + size + ", contentType=" + contentType + ", rejection=" + rejection + "]";
        }
    }

    /** A rejection when the file is over the size limit (nothing read), else null. */
    public Inspection checkSize(Path file) throws IOException {
        return checkSize(file, Files.size(file));
    }

    /** A rejection when a size the source states (a remote listing) is over the limit, else null. */
    public Inspection checkSize(Path file, long size) {
        return size > maxBytes ? rejected(file, size, null, RejectReason.FILE_TOO_LARGE, size + " bytes > " + maxBytes)
                : null;
    }

    public Inspection inspectFile(Path file) throws IOException {
        Inspection tooLarge = checkSize(file);
        if (tooLarge != null) {
            return tooLarge;
        }
        try (InputStream in = Files.newInputStream(file)) {
            return inspect(file, in, OutputStream.nullOutputStream(), () -> Files.newInputStream(file));
        }
    }

    /**
     * Copies the stream to {@code spoolFile} while inspecting it (a {@link SpoolCopy} that holds
     * nothing in memory); stops reading past the size limit.
     *
     * @throws SpoolFailure when the copy cannot be written (a full disk): not the input's fault
     */
    public Inspection inspectStream(InputStream in, Path spoolFile) throws IOException {
        return inspectStream(in, SpoolCopy.open(new SpoolCopy.Budget(0), spoolFile, -1));
    }

    /**
     * Copies the stream into {@code copy} (memory or a spool file, see {@link SpoolCopy}) while
     * inspecting it; stops reading past the size limit. An accepted inspection names the copy's file,
     * or holds its bytes.
     *
     * @throws SpoolFailure when the copy cannot be written (a full disk): not the input's fault
     */
    public Inspection inspectStream(InputStream in, SpoolCopy copy) throws IOException {
        Inspection inspection;
        try (copy) {
            inspection = inspect(null, in, copy, () -> {
                Path file = copy.file();
                return file != null ? Files.newInputStream(file) : new java.io.ByteArrayInputStream(copy.held());
            });
        }
        SpoolCopy held = inspection.accepted() && copy.file() == null ? copy : null;
        return new Inspection(copy.file(), held, inspection.size(), inspection.sha256(), inspection.contentType(),
                inspection.rejection(), inspection.detail());
    }

    /** The local copy of an input could not be written; the input itself may be fine. */
    public static final class SpoolFailure extends IOException {
        SpoolFailure(IOException cause) {
            super(cause);
        }
    }

    private Inspection inspect(Path file, InputStream raw, OutputStream copy, ImageEnd.Bytes again) throws IOException {
        MessageDigest sha = sha256();
        byte[] head = new byte[16];
        int headLen = 0;
        byte[] tail = new byte[TAIL];
        long size = 0;
        byte[] buf = new byte[64 * 1024];
        ImageEnd.Jpeg jpegStart = ImageEnd.Jpeg.untilScan();
        ImageEnd.Png pngStart = new ImageEnd.Png();
        try (DigestInputStream in = new DigestInputStream(raw, sha)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                if (headLen < head.length) {
                    int take = Math.min(n, head.length - headLen);
                    System.arraycopy(buf, 0, head, headLen, take);
                    headLen += take;
                }
                keepTail(tail, buf, n);
                jpegStart.feed(buf, 0, n);
                pngStart.feed(buf, 0, n);
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
        if (type.equals("image/png") && !(headLen >= 16 && startsWith(java.util.Arrays.copyOfRange(head, 12, 16), 4, IHDR))) {
            // the header chunk comes first in every PNG: without it there is no picture (a signature and
            // an end chunk, what a failed conversion can leave, would otherwise pass)
            return rejected(file, size, digest, RejectReason.CORRUPT_IMAGE, "no IHDR chunk after the signature");
        }
        // a JPEG's end marker among its last bytes is its own once its walk got past the segments
        // before its first scan (an EXIF thumbnail's is in one of them: a file cut short right after
        // it ends in an end marker too)
        int tailLen = (int) Math.min(size, TAIL);
        if (type.equals("image/png") && !pngStart.dataReached()) {
            // chunks and an end, what a failed conversion can leave, but no picture
            return rejected(file, size, digest, RejectReason.CORRUPT_IMAGE, "no IDAT chunk before the end");
        }
        boolean complete = type.equals("image/png")
                ? endsWith(tail, tailLen, PNG_END)
                : jpegStart.scanReached() && containsNear(tail, tailLen, JPEG_END);
        // bytes after the end marker (a motion photo's video, a PNG trailer) are allowed: walk to the
        // marker. What is read again is the input itself or its copy, written through as it was read
        if (!complete) {
            complete = type.equals("image/png") ? ImageEnd.pngReached(again) : ImageEnd.jpegReached(again);
        }
        if (!complete) {
            return rejected(file, size, digest, RejectReason.CORRUPT_IMAGE,
                    type.equals("image/png") ? "no IEND chunk at the end" : "no end-of-image marker after image data");
        }
        return new Inspection(file, size, digest, type, null, null);
    }

    /** Keeps the last {@link #TAIL} bytes seen, right-aligned in {@code tail}. */
    private static void keepTail(byte[] tail, byte[] buf, int n) {
        if (n >= TAIL) {
            System.arraycopy(buf, n - TAIL, tail, 0, TAIL);
        } else {
            System.arraycopy(tail, n, tail, 0, TAIL - n);
            System.arraycopy(buf, 0, tail, TAIL - n, n);
        }
    }

    private static boolean endsWith(byte[] tail, int len, byte[] suffix) {
        if (len < suffix.length) {
            return false;
        }
        for (int i = 0; i < suffix.length; i++) {
            if (tail[TAIL - suffix.length + i] != suffix[i]) {
                return false;
            }
        }
        return true;
    }

    /** The marker within the last bytes (JPEG writers may pad after it). */
    private static boolean containsNear(byte[] tail, int len, byte[] marker) {
        for (int start = TAIL - len; start <= TAIL - marker.length; start++) {
            if (tail[start] == marker[0] && tail[start + 1] == marker[1]) {
                return true;
            }
        }
        return false;
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

    /** A new SHA-256 digest: the content hash inputs are known by ({@link SourceStamp} checks a file with it too). */
    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

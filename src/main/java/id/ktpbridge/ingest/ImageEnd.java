package id.ktpbridge.ingest;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Walks a JPEG or PNG to its end marker, for an image whose last bytes are not that marker: a
 * phone's motion photo appends a video after the JPEG's end, other writers add a trailer. Such an
 * image is complete; one that stops before its end marker is not. Only called when the quick
 * check of the last bytes failed, so a plain image is not read twice.
 */
final class ImageEnd {

    private static final int EOI = 0xD9;
    private static final int SOS = 0xDA;
    private static final int IEND = 0x49454E44;

    private ImageEnd() {
    }

    /** Whether {@code file}, of the given type, reaches its end marker (anything may follow it). */
    static boolean reached(Path file, String contentType) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 64 * 1024)) {
            return "image/png".equals(contentType) ? pngEnds(new DataInputStream(in)) : jpegEnds(in);
        } catch (EOFException e) {
            return false;
        }
    }

    /**
     * Segment by segment from the start-of-image marker: each segment's length is skipped (an EXIF
     * thumbnail inside one has an end marker of its own, which does not count), and after a
     * start-of-scan the entropy-coded data up to its next marker.
     */
    private static boolean jpegEnds(InputStream in) throws IOException {
        if (in.read() != 0xFF || in.read() != 0xD8) {
            return false;
        }
        int marker = nextMarker(in);
        while (marker > 0) {
            if (marker == EOI) {
                return true;
            }
            if (marker == 0x01 || marker >= 0xD0 && marker <= 0xD7) {
                marker = nextMarker(in); // TEM and RSTn stand alone, without a length
                continue;
            }
            int high = in.read();
            int low = in.read();
            if (low < 0) {
                return false;
            }
            int length = (high << 8 | low) - 2;
            if (length < 0) {
                return false;
            }
            in.skipNBytes(length);
            marker = marker == SOS ? afterScan(in) : nextMarker(in);
        }
        return false;
    }

    /** The code of the marker that must come next (0xFF, fill bytes allowed, then the code); -1 if none. */
    private static int nextMarker(InputStream in) throws IOException {
        if (in.read() != 0xFF) {
            return -1;
        }
        int code;
        do {
            code = in.read();
        } while (code == 0xFF);
        return code == 0 ? -1 : code;
    }

    /** Skips entropy-coded data: the first marker after it that is neither a stuffed zero nor a restart. */
    private static int afterScan(InputStream in) throws IOException {
        for (int b = in.read(); b >= 0; b = in.read()) {
            if (b != 0xFF) {
                continue;
            }
            int code;
            do {
                code = in.read();
            } while (code == 0xFF);
            if (code < 0) {
                return -1;
            }
            if (code != 0x00 && (code < 0xD0 || code > 0xD7)) {
                return code;
            }
        }
        return -1;
    }

    /** Chunk by chunk after the signature, up to IEND with its CRC. */
    private static boolean pngEnds(DataInputStream in) throws IOException {
        in.skipNBytes(8);
        while (true) {
            long length = in.readInt() & 0xFFFFFFFFL;
            int type = in.readInt();
            in.skipNBytes(length + 4); // the data and the CRC
            if (type == IEND) {
                return true;
            }
        }
    }
}

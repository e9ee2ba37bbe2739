package id.ktpbridge.ingest;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * Walks a JPEG or PNG to its end marker. An image that stops before it is not complete, whatever
 * its last bytes are: a JPEG cut short can end in the end marker of the EXIF thumbnail inside it.
 * Bytes after the end marker are allowed: a phone's motion photo appends a video after the JPEG's
 * end, other writers add a trailer or padding.
 */
final class ImageEnd {

    /** The first bytes of every PNG. */
    static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    private static final int IEND = 0x49454E44;
    private static final int IDAT = 0x49444154;

    private ImageEnd() {
    }

    /** The bytes of an image (a file, its spool copy, a copy held in memory), opened from their start. */
    interface Bytes {
        InputStream open() throws IOException;
    }

    /**
     * Whether the PNG {@code image} reaches its IEND chunk (anything may follow it). Only called when
     * its last bytes are not that chunk, so a plain image is not read twice.
     */
    static boolean pngReached(Bytes image) throws IOException {
        boolean dataSeen = false;
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(image.open(), 64 * 1024))) {
            in.skipNBytes(8);
            while (true) {
                long length = in.readInt() & 0xFFFFFFFFL;
                int type = in.readInt();
                in.skipNBytes(length + 4); // the data and the CRC
                dataSeen |= type == IDAT;
                if (type == IEND) {
                    return dataSeen;
                }
            }
        } catch (EOFException e) {
            return false;
        }
    }

    /**
     * A PNG's chunk walk, fed with its bytes as they are read, up to its first image data chunk:
     * a PNG whose end chunk comes before any image data has no picture in it, however whole its
     * last bytes look. Only chunk headers are looked at; the data is skipped by its length.
     */
    static final class Png {
        private int signatureSeen;
        private long toSkip;
        private final byte[] header = new byte[8];
        private int headerFill;
        private boolean dataReached;
        private boolean stopped;

        /** Whether an image data chunk came before any end chunk. */
        boolean dataReached() {
            return dataReached;
        }

        void feed(byte[] buf, int off, int len) {
            int i = off;
            int end = off + len;
            while (i < end && !stopped) {
                if (signatureSeen < PNG_SIGNATURE.length) {
                    // anything else (a JPEG) is not walked past its first bytes
                    stopped = buf[i++] != PNG_SIGNATURE[signatureSeen++];
                    continue;
                }
                if (toSkip > 0) {
                    int skipped = (int) Math.min(toSkip, end - i);
                    toSkip -= skipped;
                    i += skipped;
                    continue;
                }
                header[headerFill++] = buf[i++];
                if (headerFill == header.length) {
                    headerFill = 0;
                    int type = (header[4] & 0xFF) << 24 | (header[5] & 0xFF) << 16 | (header[6] & 0xFF) << 8 | header[7] & 0xFF;
                    dataReached = type == IDAT;
                    stopped = type == IDAT || type == IEND;
                    long length = (header[0] & 0xFFL) << 24 | (header[1] & 0xFF) << 16 | (header[2] & 0xFF) << 8 | header[3] & 0xFF;
                    toSkip = length + 4; // the data and the CRC
                }
            }
        }
    }

    /**
     * Whether the JPEG {@code image} reaches its own end marker (anything may follow it) after a scan:
     * an end marker before any scan ends a file with no picture in it.
     */
    static boolean jpegReached(Bytes image) throws IOException {
        Jpeg walk = new Jpeg();
        byte[] buf = new byte[64 * 1024];
        try (InputStream in = image.open()) {
            int n;
            while (!walk.ended() && (n = in.read(buf)) > 0) {
                walk.feed(buf, 0, n);
            }
        }
        return walk.ended() && walk.scanSeen;
    }

    /**
     * A JPEG's walk, fed with its bytes as they are read (the image is read once), segment by segment
     * from the start-of-image marker: each segment's length is skipped (an EXIF thumbnail inside one
     * has an end marker of its own, which does not count), and after a start-of-scan the
     * entropy-coded data up to its next marker. As decoders do, stray bytes where a marker should
     * start are passed over. Input that does not start with the start-of-image marker never ends.
     * <p>
     * Walked {@link #untilScan}, it stops at the first start-of-scan: past the segments before it,
     * where an EXIF thumbnail and its end marker live, an end marker among the last bytes is the
     * image's own (entropy-coded data holds none), and the scan data, most of the file, is not
     * looked at byte by byte.
     */
    static final class Jpeg {
        private static final int SOI = 0xD8;
        private static final int EOI = 0xD9;
        private static final int SOS = 0xDA;

        private enum State {
            START, START_CODE, MARKER, CODE, LENGTH_HIGH, LENGTH_LOW, SKIP, SCAN, SCAN_CODE, ENDED, NOT_JPEG
        }

        private final boolean untilScan;
        private State state = State.START;

        /** Walks the whole image to its end marker. */
        Jpeg() {
            this(false);
        }

        private Jpeg(boolean untilScan) {
            this.untilScan = untilScan;
        }

        /** Walks the segments up to the first start-of-scan only (see {@link #scanReached}). */
        static Jpeg untilScan() {
            return new Jpeg(true);
        }

        /** Whether the walk got past the segments before the first scan (and, walked until then, stopped). */
        boolean scanReached() {
            return state == State.SCAN || state == State.SCAN_CODE || state == State.ENDED && !untilScan;
        }
        private int marker;
        /** Whether a start-of-scan was met: the picture's data begins there. */
        private boolean scanSeen;
        private int lengthHigh;
        private long toSkip;

        /** Whether the end-of-image marker (of the image itself) has been reached. */
        boolean ended() {
            return state == State.ENDED;
        }

        void feed(byte[] buf, int off, int len) {
            int end = off + len;
            for (int i = off; i < end && state != State.ENDED && state != State.NOT_JPEG
                    && !(untilScan && state == State.SCAN); i++) {
                int b = buf[i] & 0xFF;
                switch (state) {
                    case START -> state = b == 0xFF ? State.START_CODE : State.NOT_JPEG;
                    case START_CODE -> state = b == SOI ? State.MARKER : State.NOT_JPEG;
                    case MARKER -> state = b == 0xFF ? State.CODE : State.MARKER;
                    case CODE -> code(b, State.MARKER);
                    case LENGTH_HIGH -> {
                        lengthHigh = b;
                        state = State.LENGTH_LOW;
                    }
                    case LENGTH_LOW -> {
                        // the length counts its own two bytes
                        toSkip = (lengthHigh << 8 | b) - 2;
                        state = toSkip < 0 ? State.NOT_JPEG : toSkip == 0 ? afterSegment() : State.SKIP;
                    }
                    case SKIP -> {
                        long skipped = Math.min(toSkip, end - i);
                        toSkip -= skipped;
                        i += (int) skipped - 1;
                        if (toSkip == 0) {
                            state = afterSegment();
                        }
                    }
                    case SCAN -> {
                        // the entropy-coded data, most of the file: straight on to its next 0xFF
                        int next = i;
                        while (next < end && buf[next] != (byte) 0xFF) {
                            next++;
                        }
                        if (next < end) {
                            state = State.SCAN_CODE;
                        }
                        i = next;
                    }
                    // a stuffed zero or a restart marker belongs to the scan
                    case SCAN_CODE -> code(b, State.SCAN);
                    default -> throw new IllegalStateException(state.name());
                }
            }
        }

        /** The byte after 0xFF: a marker's code, or {@code otherwise} for 0x00 (and RSTn in a scan). */
        private void code(int b, State otherwise) {
            if (b == 0xFF) {
                return; // fill bytes before the code
            }
            if (b == 0x00 || otherwise == State.SCAN && b >= 0xD0 && b <= 0xD7) {
                state = otherwise;
            } else if (b == EOI) {
                state = State.ENDED;
            } else if (b == 0x01 || b >= 0xD0 && b <= 0xD7) {
                state = State.MARKER; // TEM and RSTn stand alone, without a length
            } else {
                marker = b;
                state = State.LENGTH_HIGH;
            }
        }

        private State afterSegment() {
            if (marker == SOS) {
                scanSeen = true;
                return State.SCAN;
            }
            return State.MARKER;
        }
    }
}

package id.ktpbridge.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import id.ktpbridge.ingest.ImageInspector.Inspection;
import id.ktpbridge.testkit.SampleImages;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageInspectorTest {

    private static final long LIMIT = 1L << 20;

    @TempDir
    Path dir;

    private final ImageInspector inspector = new ImageInspector(LIMIT);

    private static void assertAcceptedAs(Inspection result, byte[] original, String contentType) throws Exception {
        assertTrue(result.accepted(), () -> "rejected: " + result.rejection() + " " + result.detail());
        assertNull(result.rejection());
        assertEquals(contentType, result.contentType());
        assertEquals(original.length, result.size());
        assertEquals(SampleImages.sha256(original), result.sha256());
    }

    @Test
    void acceptsPngFile() throws Exception {
        byte[] png = SampleImages.card("png-file", "png");
        Path file = Files.write(dir.resolve("u1.png"), png);

        Inspection result = inspector.inspectFile(file);

        assertAcceptedAs(result, png, "image/png");
        assertEquals(file, result.file());
    }

    @Test
    void acceptsJpegFileWhateverItsName() throws Exception {
        byte[] jpeg = SampleImages.card("jpeg-file", "jpg");
        // the type comes from the first bytes, not the extension
        Path file = Files.write(dir.resolve("u2.png"), jpeg);

        assertAcceptedAs(inspector.inspectFile(file), jpeg, "image/jpeg");
    }

    @Test
    void streamIsSpooledByteForByte() throws Exception {
        byte[] jpeg = SampleImages.card("jpeg-stream", "jpg");
        Path spool = dir.resolve("spool/nested/x.img");

        Inspection result = inspector.inspectStream(new ByteArrayInputStream(jpeg), spool);

        assertAcceptedAs(result, jpeg, "image/jpeg");
        assertEquals(spool, result.file());
        assertArrayEquals(jpeg, Files.readAllBytes(spool));
    }

    @Test
    void aStreamWhoseSizeFitsTheBudgetIsHeldInMemoryAndNoSpoolFileIsMade() throws Exception {
        byte[] png = SampleImages.card("png-held", "png");
        SpoolCopy.Budget budget = new SpoolCopy.Budget(png.length);
        Path spool = dir.resolve("spool/held.img");
        SpoolCopy copy = SpoolCopy.open(budget, spool, png.length);

        Inspection result = inspector.inspectStream(new ByteArrayInputStream(png), copy);

        assertAcceptedAs(result, png, "image/png");
        assertNull(result.file());
        assertArrayEquals(png, result.held());
        assertFalse(Files.exists(spool.getParent()), "no spool file, nor its folder");
        assertEquals(png.length, budget.used());
        copy.release();
        assertEquals(0, budget.used());
    }

    @Test
    void aStreamPastTheBudgetGoesToItsSpoolFile() throws Exception {
        byte[] jpeg = SampleImages.card("jpeg-spooled", "jpg");
        SpoolCopy.Budget budget = new SpoolCopy.Budget(jpeg.length - 1);
        Path spool = dir.resolve("spool/spooled.img");
        SpoolCopy copy = SpoolCopy.open(budget, spool, jpeg.length);

        Inspection result = inspector.inspectStream(new ByteArrayInputStream(jpeg), copy);

        assertAcceptedAs(result, jpeg, "image/jpeg");
        assertEquals(spool, result.file());
        assertNull(result.held());
        assertArrayEquals(jpeg, Files.readAllBytes(spool));
        assertEquals(0, budget.used());
        copy.release();
        assertFalse(Files.exists(spool));
    }

    @Test
    void headerSplitAcrossTinyReadsIsStillRecognised() throws Exception {
        byte[] png = SampleImages.card("trickle", "png");
        InputStream oneByteAtATime = new ByteArrayInputStream(png) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 1));
            }
        };
        Path spool = dir.resolve("trickle.img");

        Inspection result = inspector.inspectStream(oneByteAtATime, spool);

        assertAcceptedAs(result, png, "image/png");
        assertArrayEquals(png, Files.readAllBytes(spool));
    }

    @Test
    void emptyInputIsRejected() throws Exception {
        Path empty = Files.createFile(dir.resolve("empty.jpg"));

        Inspection fromFile = inspector.inspectFile(empty);
        Inspection fromStream = inspector.inspectStream(InputStream.nullInputStream(), dir.resolve("empty.img"));

        for (Inspection r : new Inspection[] {fromFile, fromStream}) {
            assertFalse(r.accepted());
            assertEquals(RejectReason.EMPTY_FILE, r.rejection());
            assertEquals(0, r.size());
            assertNull(r.contentType());
        }
    }

    @Test
    void textIsRejectedAsUnsupported() throws Exception {
        byte[] text = "this is not a picture\n".getBytes(StandardCharsets.UTF_8);
        Path file = Files.write(dir.resolve("not-an-image.jpg"), text);

        Inspection result = inspector.inspectFile(file);

        assertFalse(result.accepted());
        assertEquals(RejectReason.UNSUPPORTED_FORMAT, result.rejection());
        assertNull(result.contentType());
        assertEquals(text.length, result.size());
        assertEquals(SampleImages.sha256(text), result.sha256());
    }

    @Test
    void truncatedMagicIsUnsupported() throws Exception {
        // the first two JPEG bytes alone are not enough
        byte[] stub = {(byte) 0xFF, (byte) 0xD8};
        Inspection result = inspector.inspectStream(new ByteArrayInputStream(stub), dir.resolve("stub.img"));
        assertEquals(RejectReason.UNSUPPORTED_FORMAT, result.rejection());
    }

    @Test
    void aPngWithItsHeaderAndEndButNoImageDataIsCorrupt() throws Exception {
        byte[] png = SampleImages.card("no-data", "png");
        byte[] iend = java.util.Arrays.copyOfRange(png, png.length - 12, png.length);
        // the signature and IHDR chunk of a real image (8 + 25 bytes), then its end chunk, with and
        // without a trailer after it
        byte[] headerAndEnd = concat(java.util.Arrays.copyOf(png, 33), iend);
        byte[] withTrailer = concat(headerAndEnd, "trailer".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        int i = 0;
        for (byte[] image : new byte[][] {headerAndEnd, withTrailer}) {
            Path file = Files.write(dir.resolve("nodata" + i++ + ".png"), image);
            Inspection fromFile = inspector.inspectFile(file);
            assertEquals(RejectReason.CORRUPT_IMAGE, fromFile.rejection(), file.toString());
            assertEquals("no IDAT chunk before the end", fromFile.detail());
            assertEquals(RejectReason.CORRUPT_IMAGE,
                    inspector.inspectStream(new ByteArrayInputStream(image), dir.resolve("nd" + i + ".img")).rejection());
        }
    }

    @Test
    void anImageWithNoPictureInItIsCorrupt() throws Exception {
        byte[] bare = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xD9};
        // start marker, a JFIF header and the end marker: no scan, no picture
        byte[] headerOnly = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0,
                0, 1, 0, 1, 0, 0, (byte) 0xFF, (byte) 0xD9};
        // the PNG signature and straight away its end chunk
        byte[] pngEnd = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 0, 'I', 'E', 'N', 'D',
                (byte) 0xAE, 0x42, 0x60, (byte) 0x82};
        int i = 0;
        for (byte[] image : new byte[][] {bare, headerOnly, pngEnd}) {
            Path file = Files.write(dir.resolve("empty" + i++ + ".img"), image);
            assertEquals(RejectReason.CORRUPT_IMAGE, inspector.inspectFile(file).rejection(), file.toString());
            assertEquals(RejectReason.CORRUPT_IMAGE,
                    inspector.inspectStream(new ByteArrayInputStream(image), dir.resolve("s" + i + ".img")).rejection());
        }
        // the same kinds of file with their picture are fine
        assertAcceptedAs(inspector.inspectFile(Files.write(dir.resolve("ok.png"), SampleImages.card("ok", "png"))),
                SampleImages.card("ok", "png"), "image/png");
        assertAcceptedAs(inspector.inspectFile(Files.write(dir.resolve("ok.jpg"), SampleImages.card("ok", "jpg"))),
                SampleImages.card("ok", "jpg"), "image/jpeg");
    }

    @Test
    void fileAtTheLimitIsAcceptedAndOneByteMoreIsNot() throws Exception {
        byte[] png = SampleImages.card("limit", "png");
        ImageInspector exact = new ImageInspector(png.length);
        ImageInspector tooSmall = new ImageInspector(png.length - 1);
        Path file = Files.write(dir.resolve("limit.png"), png);

        assertAcceptedAs(exact.inspectFile(file), png, "image/png");
        assertAcceptedAs(exact.inspectStream(new ByteArrayInputStream(png), dir.resolve("a.img")), png, "image/png");
        assertEquals(RejectReason.FILE_TOO_LARGE, tooSmall.inspectFile(file).rejection());
        assertEquals(RejectReason.FILE_TOO_LARGE,
                tooSmall.inspectStream(new ByteArrayInputStream(png), dir.resolve("b.img")).rejection());
    }

    @Test
    void oversizedFileIsRejectedWithItsSize() throws Exception {
        Path big = dir.resolve("big.jpg");
        byte[] jpeg = SampleImages.card("big", "jpg");
        Files.write(big, jpeg);
        Files.write(big, new byte[(int) LIMIT], StandardOpenOption.APPEND);

        Inspection result = inspector.inspectFile(big);

        assertFalse(result.accepted());
        assertEquals(RejectReason.FILE_TOO_LARGE, result.rejection());
        assertEquals(jpeg.length + LIMIT, result.size());
        assertNull(result.sha256());
    }

    @Test
    void bytesAfterTheEndMarkerAreAllowed() throws Exception {
        // a motion photo: the JPEG, then a video; a PNG with a trailer
        byte[] trailer = new byte[5000];
        new java.util.Random(7).nextBytes(trailer);
        for (String format : new String[] {"jpg", "png"}) {
            byte[] image = concat(SampleImages.card("trailer-" + format, format), trailer);
            String type = format.equals("png") ? "image/png" : "image/jpeg";
            assertAcceptedAs(inspector.inspectFile(Files.write(dir.resolve("u1." + format), image)), image, type);
            assertAcceptedAs(inspector.inspectStream(new ByteArrayInputStream(image), dir.resolve("spool." + format)),
                    image, type);
            // walked to its end marker again from the copy held in memory
            Inspection held = inspector.inspectStream(new ByteArrayInputStream(image),
                    SpoolCopy.open(new SpoolCopy.Budget(1L << 20), dir.resolve("held." + format), image.length));
            assertAcceptedAs(held, image, type);
            assertArrayEquals(image, held.held());
        }
    }

    @Test
    void anImageCutShortIsCorruptThoughAThumbnailInsideItEnds() throws Exception {
        byte[] jpeg = SampleImages.card("cut", "jpg");
        // an APP1 segment (where EXIF keeps its thumbnail) holding a small JPEG of its own, end marker included
        byte[] thumbnail = {(byte) 0xFF, (byte) 0xD8, 1, 2, 3, (byte) 0xFF, (byte) 0xD9};
        byte[] app1 = concat(new byte[] {(byte) 0xFF, (byte) 0xE1, 0, (byte) (thumbnail.length + 2)}, thumbnail);
        byte[] withThumbnail = concat(concat(new byte[] {(byte) 0xFF, (byte) 0xD8}, app1),
                java.util.Arrays.copyOfRange(jpeg, 2, jpeg.length));
        assertAcceptedAs(inspector.inspectFile(Files.write(dir.resolve("whole.jpg"), withThumbnail)), withThumbnail,
                "image/jpeg");

        byte[] cut = java.util.Arrays.copyOf(withThumbnail, withThumbnail.length * 2 / 3);
        Inspection result = inspector.inspectFile(Files.write(dir.resolve("cut.jpg"), cut));
        assertEquals(RejectReason.CORRUPT_IMAGE, result.rejection());

        byte[] png = SampleImages.card("cut", "png");
        byte[] cutPng = java.util.Arrays.copyOf(png, png.length - 20);
        assertEquals(RejectReason.CORRUPT_IMAGE,
                inspector.inspectFile(Files.write(dir.resolve("cut.png"), cutPng)).rejection());
    }

    @Test
    void aJpegCutRightAfterItsThumbnailIsCorruptThoughPaddingAfterItsOwnEndIsAllowed() throws Exception {
        byte[] jpeg = SampleImages.card("thumb-cut", "jpg");
        // an EXIF thumbnail with its own end marker, then the rest of the APP1 segment (zero padding, as
        // cameras reserve) before the image's own segments
        byte[] thumbnail = {(byte) 0xFF, (byte) 0xD8, 1, 2, 3, (byte) 0xFF, (byte) 0xD9};
        byte[] app1Body = concat(thumbnail, new byte[40]);
        byte[] app1 = concat(new byte[] {(byte) 0xFF, (byte) 0xE1, 0, (byte) (app1Body.length + 2)}, app1Body);
        byte[] whole = concat(concat(new byte[] {(byte) 0xFF, (byte) 0xD8}, app1),
                java.util.Arrays.copyOfRange(jpeg, 2, jpeg.length));
        int thumbnailEnds = 2 + 4 + thumbnail.length;
        assertAcceptedAs(inspector.inspectFile(Files.write(dir.resolve("whole.jpg"), whole)), whole, "image/jpeg");

        // cut right after the thumbnail's end marker, or in the padding after it
        for (int cutAt : new int[] {thumbnailEnds, thumbnailEnds + 1, thumbnailEnds + 30}) {
            byte[] cut = java.util.Arrays.copyOf(whole, cutAt);
            assertEquals(RejectReason.CORRUPT_IMAGE,
                    inspector.inspectFile(Files.write(dir.resolve("cut.jpg"), cut)).rejection(), "cut at " + cutAt);
            assertEquals(RejectReason.CORRUPT_IMAGE, inspector.inspectStream(new ByteArrayInputStream(cut),
                    dir.resolve("cut.img")).rejection(), "streamed, cut at " + cutAt);
            Inspection held = inspector.inspectStream(new ByteArrayInputStream(cut),
                    SpoolCopy.open(new SpoolCopy.Budget(1L << 20), dir.resolve("cut-held.img"), cut.length));
            assertEquals(RejectReason.CORRUPT_IMAGE, held.rejection(), "held in memory, cut at " + cutAt);
            assertNull(held.held(), "a rejected input's bytes are not kept");
        }

        // still whole: padding after the image's own end marker (scanners round files up) ...
        for (byte pad : new byte[] {0, (byte) 0xFF, '\n'}) {
            byte[] padded = concat(whole, filled(40, pad));
            assertAcceptedAs(inspector.inspectFile(Files.write(dir.resolve("padded.jpg"), padded)), padded,
                    "image/jpeg");
        }
        // ... and stray bytes before a marker, which decoders skip ("extraneous bytes before marker")
        int afterApp1 = 2 + app1.length;
        byte[] stray = concat(concat(java.util.Arrays.copyOf(whole, afterApp1), new byte[] {0, 0, 0}),
                java.util.Arrays.copyOfRange(whole, afterApp1, whole.length));
        assertAcceptedAs(inspector.inspectFile(Files.write(dir.resolve("stray.jpg"), stray)), stray, "image/jpeg");
    }

    private static byte[] filled(int length, byte value) {
        byte[] bytes = new byte[length];
        java.util.Arrays.fill(bytes, value);
        return bytes;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    @Test
    void oversizedStreamStopsReading() throws Exception {
        CountingEndlessJpeg endless = new CountingEndlessJpeg();

        Inspection result = assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> inspector.inspectStream(endless, dir.resolve("endless.img")));

        assertFalse(result.accepted());
        assertEquals(RejectReason.FILE_TOO_LARGE, result.rejection());
        assertTrue(result.size() > LIMIT);
        // it gave up within one buffer of the limit rather than draining the source
        assertTrue(endless.served < LIMIT + 128 * 1024, "read " + endless.served + " bytes");
    }

    @Test
    void anOversizedStreamHeldInMemoryStopsReadingAndItsCopyGrowsByDoubling() throws Exception {
        CountingEndlessJpeg endless = new CountingEndlessJpeg();
        SpoolCopy.Budget budget = new SpoolCopy.Budget(4 * LIMIT);
        // listed small, as a file still being written is
        SpoolCopy copy = SpoolCopy.open(budget, dir.resolve("growing.img"), 1000);

        Inspection result = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> inspector.inspectStream(endless, copy));

        assertEquals(RejectReason.FILE_TOO_LARGE, result.rejection());
        assertTrue(endless.served < LIMIT + 128 * 1024, "read " + endless.served + " bytes");
        assertNull(copy.file(), "held in memory all along");
        // doubled from 1000: at most twice what it held, not a read's worth at a time
        assertTrue(budget.used() <= 2 * (LIMIT + 64 * 1024), "reserved " + budget.used());
        copy.release();
        assertEquals(0, budget.used());
    }

    /** JPEG magic followed by zeros forever. */
    private static final class CountingEndlessJpeg extends InputStream {
        private static final byte[] MAGIC = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF};
        long served;

        @Override
        public int read() {
            int b = served < MAGIC.length ? MAGIC[(int) served] & 0xFF : 0;
            served++;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            for (int i = 0; i < len; i++) {
                b[off + i] = (byte) read();
            }
            return len;
        }
    }
}

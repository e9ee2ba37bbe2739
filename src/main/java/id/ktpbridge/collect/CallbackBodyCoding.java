package id.ktpbridge.collect;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;

/** A callback body sent compressed ({@code Content-Encoding} gzip or deflate), read back within a size limit. */
final class CallbackBodyCoding {

    private CallbackBodyCoding() {
    }

    /** Thrown when the body is larger than the limit once decompressed. */
    static final class TooLarge extends IOException {

        TooLarge() {
            super("too large once decompressed");
        }
    }

    static boolean known(String coding) {
        return coding.equals("gzip") || coding.equals("x-gzip") || coding.equals("deflate");
    }

    /** The body decompressed; {@link TooLarge} past {@code limit} bytes (a small body can inflate a thousandfold). */
    static byte[] decode(String coding, byte[] body, long limit) throws IOException {
        if (coding.equals("deflate")) {
            try {
                return read(new InflaterInputStream(new ByteArrayInputStream(body)), body.length, limit);
            } catch (java.util.zip.ZipException zlibHeaderMissing) {
                // many senders send "deflate" as the bare DEFLATE stream, without its zlib wrapping
                return read(new InflaterInputStream(new ByteArrayInputStream(body), new java.util.zip.Inflater(true)),
                        body.length, limit);
            }
        }
        return read(new GZIPInputStream(new ByteArrayInputStream(body)), body.length, limit);
    }

    private static byte[] read(InputStream stream, int sent, long limit) throws IOException {
        try (InputStream in = stream) {
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(sent * 4L, 1 << 16));
            byte[] buffer = new byte[8192];
            for (int n; (n = in.read(buffer)) > 0; ) {
                if (out.size() + (long) n > limit) {
                    throw new TooLarge();
                }
                out.write(buffer, 0, n);
            }
            return out.toByteArray();
        }
    }
}

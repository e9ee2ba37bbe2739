import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;

/**
 * Writes N synthetic KTP-sized images (valid grayscale PNGs of random noise, ~200 KB each) named
 * {@code u<user>-<seq>.png}, spread round-robin over M partner users.
 *
 * <p>Noise does not compress, so every file really carries ~200 KB over the wire; PNG with stored
 * (level 0) deflate blocks keeps generation fast. Seeded, so a re-run yields the same bytes.
 *
 * <pre>java bench/gen/GenImages.java &lt;dir&gt; &lt;images&gt; &lt;users&gt; [sizeBytes]</pre>
 */
public final class GenImages {

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: GenImages <dir> <images> <users> [sizeBytes]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        int images = Integer.parseInt(args[1]);
        int users = Integer.parseInt(args[2]);
        int size = args.length > 3 ? Integer.parseInt(args[3]) : 200 * 1024;
        int side = (int) Math.sqrt(size); // grayscale: one byte per pixel, plus one filter byte per row
        Files.createDirectories(dir);
        SplittableRandom random = new SplittableRandom(20240601L);
        byte[] row = new byte[side + 1];
        for (int i = 0; i < images; i++) {
            String name = String.format("u%06d-%05d.png", i % users, i / users);
            ByteArrayOutputStream raw = new ByteArrayOutputStream(side * (side + 1) + 1024);
            try (DeflaterOutputStream z = new DeflaterOutputStream(raw, new Deflater(Deflater.NO_COMPRESSION), 64 * 1024)) {
                for (int y = 0; y < side; y++) {
                    row[0] = 0; // filter type None
                    for (int x = 1; x <= side; x += 8) {
                        long bits = random.nextLong();
                        for (int b = 0; b < 8 && x + b <= side; b++) {
                            row[x + b] = (byte) (bits >>> (8 * b));
                        }
                    }
                    z.write(row);
                }
            }
            try (OutputStream out = Files.newOutputStream(dir.resolve(name))) {
                out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
                chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(side).putInt(side)
                        .put((byte) 8).put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0).array());
                chunk(out, "IDAT", raw.toByteArray());
                chunk(out, "IEND", new byte[0]);
            }
        }
        System.out.printf("%d images (%d users, ~%d KB each) in %s%n", images, users, size / 1024, dir);
    }

    private static void chunk(OutputStream out, String type, byte[] data) throws IOException {
        byte[] typeBytes = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        out.write(ByteBuffer.allocate(4).putInt(data.length).array());
        out.write(typeBytes);
        out.write(data);
        out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
}

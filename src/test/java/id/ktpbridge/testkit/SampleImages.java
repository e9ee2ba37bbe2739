package id.ktpbridge.testkit;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.imageio.ImageIO;

/**
 * Draws synthetic, obviously fake KTP-like cards (no real person's data). Tests use it to make
 * inputs; {@link #main} regenerates the demo images in {@code samples/}.
 */
public final class SampleImages {

    private SampleImages() {
    }

    /** @param format {@code png} or {@code jpg} */
    public static byte[] card(String label, String format) {
        BufferedImage img = new BufferedImage(428, 270, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(new Color(176, 214, 238));
            g.fillRect(0, 0, 428, 270);
            g.setColor(new Color(40, 60, 110));
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
            g.drawString("PROVINSI CONTOH - SAMPLE ONLY", 90, 26);
            g.setFont(new Font(Font.MONOSPACED, Font.PLAIN, 13));
            g.drawString("NIK     : 0000000000000000", 16, 70);
            g.drawString("Nama    : SAMPLE CARD " + label.toUpperCase(java.util.Locale.ROOT), 16, 95);
            g.drawString("Alamat  : JL. CONTOH NO. 1", 16, 120);
            g.drawString("Not a real identity document", 16, 240);
            g.setColor(new Color(220, 220, 220));
            g.fillRect(310, 60, 100, 130);
        } finally {
            g.dispose();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "jpg".equals(format) ? "jpeg" : format, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The content hash inputs are known by: hex SHA-256, as in the ledger and the result's {@code sourceSha256}. */
    public static String sha256(byte[] bytes) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Path write(Path dir, String fileName) throws IOException {
        String format = fileName.toLowerCase(java.util.Locale.ROOT).endsWith(".png") ? "png" : "jpg";
        Files.createDirectories(dir);
        return Files.write(dir.resolve(fileName), card(fileName.replaceAll("\\..*", ""), format));
    }

    /** Regenerates the demo images: {@code java ... SampleImages samples}. */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "samples");
        for (String name : new String[] {"u00001.png", "u00002.jpg", "u00003.png", "u00004-notektp.jpg",
                "u00005-error.png", "u00006.jpeg"}) {
            write(dir, name);
        }
        // a text file disguised as an image: the demo shows it quarantined with UNSUPPORTED_FORMAT
        Files.writeString(dir.resolve("u00007-not-an-image.jpg"), "this is not a picture\n");
        Files.writeString(dir.resolve("u00002.json"),
                "{\n  \"partnerUserId\": \"customer-2002\",\n  \"partnerUserIdType\": \"CLIENT_X_USER_ID\",\n"
                        + "  \"metadata\": {\"channel\": \"branch-drop\"}\n}\n");
    }
}

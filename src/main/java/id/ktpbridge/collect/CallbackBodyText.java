package id.ktpbridge.collect;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A callback body's text. JSON is UTF-8 (RFC 8259), but a sender may begin it with a byte order
 * mark, or name another charset in its Content-Type: read as UTF-8 regardless, a body with a mark
 * was refused 400 (which OneKYC may take as final) and one in UTF-16 too, and one in ISO-8859-1
 * lost its accented letters. A body beginning with a byte order mark is read in the encoding the
 * mark gives, without the mark; else in the Content-Type's charset, if it names one this JVM
 * knows; else as UTF-8. Bytes that do not decode become U+FFFD, as they did: the record's other
 * fields are no reason to refuse the callback.
 */
final class CallbackBodyText {

    private CallbackBodyText() {
    }

    static String of(byte[] raw, String contentType) {
        Charset charset = StandardCharsets.UTF_8;
        int mark = 0;
        if (startsWith(raw, 0xEF, 0xBB, 0xBF)) {
            mark = 3;
        } else if (startsWith(raw, 0x00, 0x00, 0xFE, 0xFF)) {
            charset = Charset.forName("UTF-32BE");
            mark = 4;
        } else if (startsWith(raw, 0xFF, 0xFE, 0x00, 0x00)) {
            // before UTF-16LE's mark, which it begins with: a JSON text does not begin with U+0000
            charset = Charset.forName("UTF-32LE");
            mark = 4;
        } else if (startsWith(raw, 0xFE, 0xFF)) {
            charset = StandardCharsets.UTF_16BE;
            mark = 2;
        } else if (startsWith(raw, 0xFF, 0xFE)) {
            charset = StandardCharsets.UTF_16LE;
            mark = 2;
        } else {
            Charset declared = declared(contentType);
            charset = declared == null ? charset : declared;
        }
        return new String(raw, mark, raw.length - mark, charset);
    }

    /** The charset a Content-Type names ({@code application/json; charset="utf-16"}), null for none or an unknown one. */
    static Charset declared(String contentType) {
        if (contentType == null) {
            return null;
        }
        String[] parts = contentType.split(";");
        for (int i = 1; i < parts.length; i++) {
            String parameter = parts[i].trim();
            int equals = parameter.indexOf('=');
            if (equals > 0 && parameter.substring(0, equals).trim().toLowerCase(Locale.ROOT).equals("charset")) {
                String name = parameter.substring(equals + 1).trim();
                if (name.length() >= 2 && name.startsWith("\"") && name.endsWith("\"")) {
                    name = name.substring(1, name.length() - 1).trim();
                }
                try {
                    return Charset.forName(name);
                } catch (IllegalArgumentException e) {
                    // an illegal or unsupported name: read as JSON's own UTF-8
                    return null;
                }
            }
        }
        return null;
    }

    private static boolean startsWith(byte[] raw, int... prefix) {
        if (raw.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if ((raw[i] & 0xFF) != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}

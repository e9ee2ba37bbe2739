package id.ktpbridge.collect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** How a callback body becomes text. */
class CallbackBodyTextTest {

    private static final String JSON = "{\"reasonCode\":\"DÉJÀ_VU\"}";

    @Test
    void aByteOrderMarkGivesTheEncodingWhateverTheContentTypeSays() {
        assertEquals(JSON, CallbackBodyText.of(marked(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF},
                StandardCharsets.UTF_8), "application/json; charset=ISO-8859-1"));
        assertEquals(JSON, CallbackBodyText.of(marked(new byte[] {(byte) 0xFE, (byte) 0xFF},
                StandardCharsets.UTF_16BE), null));
        assertEquals(JSON, CallbackBodyText.of(marked(new byte[] {(byte) 0xFF, (byte) 0xFE},
                StandardCharsets.UTF_16LE), null));
        assertEquals(JSON, CallbackBodyText.of(marked(new byte[] {0, 0, (byte) 0xFE, (byte) 0xFF},
                Charset.forName("UTF-32BE")), null));
        assertEquals(JSON, CallbackBodyText.of(marked(new byte[] {(byte) 0xFF, (byte) 0xFE, 0, 0},
                Charset.forName("UTF-32LE")), null));
    }

    @Test
    void withoutAMarkTheDeclaredCharsetElseUtf8() {
        assertEquals(JSON, CallbackBodyText.of(JSON.getBytes(StandardCharsets.ISO_8859_1),
                "application/json;CHARSET=\"iso-8859-1\""));
        assertEquals(JSON, CallbackBodyText.of(JSON.getBytes(StandardCharsets.UTF_8), "application/json"));
        assertEquals(JSON, CallbackBodyText.of(JSON.getBytes(StandardCharsets.UTF_8),
                "application/json; charset=no-such-charset"));
        assertEquals("{\"a\":\"\uFFFD\"}", CallbackBodyText.of(new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xC9,
                '"', '}'}, "application/json"), "a byte that does not decode is kept as U+FFFD");
        assertNull(CallbackBodyText.declared("application/json; charset="));
        assertNull(CallbackBodyText.declared("application/json; charset=\"\""));
        assertEquals(StandardCharsets.UTF_16, CallbackBodyText.declared("application/json; q=1; charset = utf-16"));
    }

    private static byte[] marked(byte[] mark, Charset charset) {
        byte[] text = JSON.getBytes(charset);
        return ByteBuffer.allocate(mark.length + text.length).put(mark).put(text).array();
    }
}

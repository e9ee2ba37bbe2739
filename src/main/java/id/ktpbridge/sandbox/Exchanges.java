package id.ktpbridge.sandbox;

import com.sun.net.httpserver.HttpExchange;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Small I/O helpers around {@link HttpExchange}. */
final class Exchanges {

    /** Upper bound for JSON request bodies; confirm bodies are tiny. */
    static final int MAX_JSON_BODY = 1024 * 1024;

    private Exchanges() { }

    /** Trimmed header value, or null when absent or blank (blank counts as "not sent"). */
    static String header(HttpExchange ex, String name) {
        String value = ex.getRequestHeaders().getFirst(name);
        if (value == null) {
            return null;
        }
        value = value.trim();
        return value.isEmpty() ? null : value;
    }

    static Map<String, List<String>> headersLowerCase(HttpExchange ex) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        ex.getRequestHeaders().forEach((name, values) ->
                out.put(name.toLowerCase(Locale.ROOT), List.copyOf(values)));
        return out;
    }

    /** Reads a small body; returns null when it exceeds {@code limit}. */
    static byte[] readBody(HttpExchange ex, int limit) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) != -1) {
                out.write(buf, 0, n);
                if (out.size() > limit) {
                    return null;
                }
            }
            return out.toByteArray();
        }
    }

    static void send(HttpExchange ex, int status, String contentType, String body) throws IOException {
        byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        if (contentType != null) {
            ex.getResponseHeaders().set("Content-Type", contentType);
        }
        // -1 = no body; HttpServer then sends Content-Length: 0
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }
}

package id.ktpbridge.target;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

import id.ktpbridge.result.ResultPublisher;
import org.apache.camel.Exchange;

/**
 * Shapes the request of the HTTP target: a JSON POST carrying only the headers meant for the
 * partner (configured ones, authentication, and the result's name and status for idempotency on
 * their side), never the bundle's internal headers.
 */
public class HttpTargetRequest {

    private final Map<String, String> headers;

    /**
     * @param extraHeaders {@code Name: value} pairs separated by {@code ;}
     * @param authMode     {@code none}, {@code bearer} (token) or {@code basic} (username, password)
     */
    public HttpTargetRequest(String extraHeaders, String authMode, String token, String username, String password) {
        Map<String, String> h = new LinkedHashMap<>();
        if (extraHeaders != null && !extraHeaders.isBlank()) {
            String[] pairs = extraHeaders.split(";");
            for (int i = 0; i < pairs.length; i++) {
                String pair = pairs[i];
                int colon = pair.indexOf(':');
                if (colon <= 0) {
                    // named by position only: the text may be a secret (an API key, a cookie cut at a ';')
                    throw new IllegalStateException("ktp.results.http.headers: entry " + (i + 1) + " of "
                            + pairs.length + " (" + pair.trim().length() + " characters) is not of the form"
                            + " Name: value; entries are separated by ';'");
                }
                h.put(pair.substring(0, colon).trim(), pair.substring(colon + 1).trim());
            }
        }
        switch (authMode == null ? "none" : authMode.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "none" -> { }
            case "bearer" -> h.put("Authorization", "Bearer " + required(token, "ktp.results.http.auth-token"));
            case "basic" -> h.put("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                    (required(username, "ktp.results.http.username") + ":" + (password == null ? "" : password))
                            .getBytes(StandardCharsets.UTF_8)));
            default -> throw new IllegalStateException("ktp.results.http.auth-mode: unknown mode '" + authMode
                    + "' (none, bearer or basic)");
        }
        this.headers = Map.copyOf(h);
    }

    /** Camel bean method for {@code direct:deliver-http}. */
    public void prepare(Exchange exchange) {
        var msg = exchange.getMessage();
        String name = msg.getHeader(ResultPublisher.RESULT_NAME, String.class);
        String status = msg.getHeader(ResultPublisher.RESULT_STATUS, String.class);
        msg.removeHeaders("*");
        headers.forEach(msg::setHeader);
        msg.setHeader(Exchange.HTTP_METHOD, "POST");
        msg.setHeader(Exchange.CONTENT_TYPE, "application/json");
        msg.setHeader("Ktp-Result-Name", name);
        msg.setHeader("Ktp-Result-Status", status);
    }

    private static String required(String value, String key) {
        if (value == null || value.isBlank()) {
            throw new IllegalStateException(key + " is required by ktp.results.http.auth-mode");
        }
        return value;
    }
}

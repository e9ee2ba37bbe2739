package id.ktpbridge.sandbox;

import java.util.List;
import java.util.Map;

/**
 * One request seen by the sandbox object storage, kept so tests can check exactly what a
 * client sent (raw URI as received, headers, size) without the sandbox keeping file bytes.
 *
 * @param method      HTTP method
 * @param rawUri      request URI exactly as received (path + raw query, still percent-encoded)
 * @param headers     request headers, lower-case names → values
 * @param contentType the Content-Type header, or null
 * @param bodySize    bytes read from the body (0 when the request was rejected before reading)
 * @param httpStatus  status the sandbox answered with
 */
public record StorageRequest(String method, String rawUri, Map<String, List<String>> headers,
                             String contentType, long bodySize, int httpStatus) {

    public StorageRequest {
        headers = Map.copyOf(headers);
    }

    /** Without the query (a presigned URL's signature) and the headers. */
    @Override
    public String toString() {
        int query = rawUri == null ? -1 : rawUri.indexOf('?');
        return "StorageRequest[" + method + " " + (query < 0 ? rawUri : rawUri.substring(0, query))
                + ", contentType=" + contentType + ", bodySize=" + bodySize + ", httpStatus=" + httpStatus + "]";
    }

    /** First value of a header (name case-insensitive), or null. */
    public String header(String name) {
        List<String> values = headers.get(name.toLowerCase(java.util.Locale.ROOT));
        return values == null || values.isEmpty() ? null : values.get(0);
    }
}

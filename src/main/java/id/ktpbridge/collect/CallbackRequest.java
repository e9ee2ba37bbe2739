package id.ktpbridge.collect;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import io.vertx.core.http.HttpServerRequest;
import org.apache.camel.Message;
import org.apache.camel.component.platform.http.vertx.HttpMessage;

/**
 * What the callback route reads of a request besides its body: its headers and the caller's
 * address. On the bundle's HTTP server (platform-http on Vert.x) both are read from the request
 * itself: the message's headers also hold the query string's parameters and the fields of a form
 * body, which the server adds after the real headers, so a form field {@code X-Forwarded-For} was
 * taken as the proxy's entry. Any other server's message is read by its headers, as before.
 */
final class CallbackRequest {

    /** Where the platform-http (Vert.x) consumer puts the caller's socket address. */
    private static final String REMOTE_ADDRESS = "CamelVertxPlatformHttpRemoteAddress";

    private final HttpServerRequest request;
    /** Another server's: the message's headers, taken before the route clears them. */
    private final Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    private final Object remote;
    private final Set<String> unread = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);

    /**
     * @param queryParameters the names of the query string's parameters: a header of such a name
     *                        is not read at all, the real one neither (on another server the
     *                        message cannot tell the two apart)
     */
    CallbackRequest(Message message, Set<String> queryParameters) {
        this.request = message instanceof HttpMessage http ? http.getRequest() : null;
        this.remote = message.getHeader(REMOTE_ADDRESS);
        this.unread.addAll(queryParameters);
        if (request == null) {
            message.getHeaders().forEach((name, value) -> {
                List<String> lines = new ArrayList<>();
                if (value instanceof Iterable<?> several) {
                    several.forEach(v -> lines.add(String.valueOf(v)));
                } else if (value != null && !(value instanceof java.net.SocketAddress)) {
                    lines.add(value.toString());
                }
                headers.put(name, lines);
            });
        }
    }

    /** Each line of a header, in order; empty when it is absent or not read. */
    List<String> lines(String name) {
        if (unread.contains(name)) {
            return List.of();
        }
        if (request != null) {
            return request.headers().getAll(name);
        }
        return headers.getOrDefault(name, List.of());
    }

    /** A header's value, its lines joined as one list ({@code a, b}); null when absent or not read. */
    String header(String name) {
        List<String> lines = lines(name);
        return lines.isEmpty() ? null : String.join(", ", lines);
    }

    /** The address of the socket's peer (the proxy, behind one), or null. */
    String remoteAddress() {
        if (request != null) {
            return request.remoteAddress() == null ? null : request.remoteAddress().hostAddress();
        }
        if (remote instanceof java.net.InetSocketAddress inet && inet.getAddress() != null) {
            return inet.getAddress().getHostAddress();
        }
        if (remote instanceof io.vertx.core.net.SocketAddress vertx) {
            return vertx.hostAddress();
        }
        return remote == null ? null : remote.toString();
    }
}

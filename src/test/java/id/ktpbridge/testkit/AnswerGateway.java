package id.ktpbridge.testkit;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * Stands between the bundle and the sandbox as a server that answers unlike the sandbox would:
 * calls are forwarded, except that a rule for a method and path answers in place of the sandbox
 * (before or after forwarding the call) or rewrites the sandbox's answer; a rule may be for
 * requests with certain headers only.
 */
public final class AnswerGateway implements AutoCloseable {

    /** One answer: status, headers and body. */
    public record Answer(int status, Map<String, String> headers, String body) {
        public static Answer json(int status, String body) {
            return new Answer(status, Map.of("Content-Type", "application/json"), body);
        }
    }

    /** @param when the request headers the rule is for (null: any) */
    private record Rule(String method, Pattern path, Predicate<Headers> when, boolean forwardFirst,
                        UnaryOperator<Answer> answer, AtomicInteger left, AtomicInteger used) {
    }

    private static final Set<String> NOT_COPIED = Set.of("host", "connection", "content-length", "expect",
            "upgrade", "transfer-encoding");

    private final String upstream;
    private final HttpServer server;
    private final java.util.concurrent.ExecutorService handlers = java.util.concurrent.Executors.newCachedThreadPool();
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final List<Rule> rules = new ArrayList<>();

    public AnswerGateway(String upstream) throws IOException {
        this.upstream = upstream.endsWith("/") ? upstream.substring(0, upstream.length() - 1) : upstream;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(handlers);
        server.start();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /**
     * The next {@code times} calls (-1: every one) of this method to a path matching {@code
     * pathRegex} get {@code answer} without reaching the sandbox.
     *
     * @return how many calls the rule has answered so far
     */
    public AtomicInteger answer(String method, String pathRegex, int times, Answer answer) {
        return rule(method, pathRegex, null, times, false, forwarded -> answer);
    }

    /** As {@link #answer}, for calls whose request headers {@code when} accepts only (others pass on). */
    public AtomicInteger answerWhen(String method, String pathRegex, Predicate<Headers> when, int times,
                                    Answer answer) {
        return rule(method, pathRegex, when, times, false, forwarded -> answer);
    }

    /** As {@link #answer}, after forwarding the call (the sandbox acts on it; its answer is lost). */
    public AtomicInteger answerAfterForwarding(String method, String pathRegex, int times, Answer answer) {
        return rule(method, pathRegex, null, times, true, forwarded -> answer);
    }

    /** The sandbox's answer to the next {@code times} such calls (-1: every one), rewritten. */
    public AtomicInteger rewrite(String method, String pathRegex, int times, UnaryOperator<Answer> rewrite) {
        return rule(method, pathRegex, null, times, true, rewrite);
    }

    private synchronized AtomicInteger rule(String method, String pathRegex, Predicate<Headers> when, int times,
                                            boolean forwardFirst, UnaryOperator<Answer> answer) {
        AtomicInteger used = new AtomicInteger();
        rules.add(new Rule(method, Pattern.compile(pathRegex), when, forwardFirst, answer, new AtomicInteger(times),
                used));
        return used;
    }

    private synchronized Rule next(String method, String path, Headers headers) {
        for (Rule r : rules) {
            if (r.method().equals(method) && r.path().matcher(path).matches() && r.left().get() != 0
                    && (r.when() == null || r.when().test(headers))) {
                r.left().decrementAndGet();
                r.used().incrementAndGet();
                return r;
            }
        }
        return null;
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] body = ex.getRequestBody().readAllBytes();
            Rule rule = next(ex.getRequestMethod(), ex.getRequestURI().getPath(), ex.getRequestHeaders());
            if (rule != null && !rule.forwardFirst()) {
                send(ex, rule.answer().apply(null));
                return;
            }
            Answer forwarded = forward(ex, body);
            send(ex, rule == null ? forwarded : rule.answer().apply(forwarded));
        }
    }

    private Answer forward(HttpExchange ex, byte[] body) throws IOException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(upstream + ex.getRequestURI()))
                .timeout(Duration.ofSeconds(20))
                .method(ex.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        ex.getRequestHeaders().forEach((name, values) -> {
            if (!NOT_COPIED.contains(name.toLowerCase(Locale.ROOT))) {
                values.forEach(v -> b.header(name, v));
            }
        });
        try {
            HttpResponse<String> response = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(response.statusCode(),
                    Map.of("Content-Type", response.headers().firstValue("Content-Type").orElse("application/json")),
                    response.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private static void send(HttpExchange ex, Answer answer) throws IOException {
        answer.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
        byte[] bytes = answer.body() == null ? new byte[0] : answer.body().getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(answer.status(), bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        handlers.shutdownNow();
    }
}

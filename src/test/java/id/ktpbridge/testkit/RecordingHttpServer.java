package id.ktpbridge.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/** A partner's HTTP endpoint for tests: records every request and answers with a status chosen by the test. */
public final class RecordingHttpServer implements AutoCloseable {

    /** One request as received. Header names are lower case. */
    public record Request(String method, String path, Map<String, List<String>> headers, String body) {

        public String header(String name) {
            List<String> v = headers.get(name.toLowerCase(java.util.Locale.ROOT));
            return v == null || v.isEmpty() ? null : v.get(0);
        }
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(4);
    private final List<Request> received = new CopyOnWriteArrayList<>();
    private final AtomicInteger status = new AtomicInteger(200);
    private volatile String retryAfter;

    public RecordingHttpServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    public String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    /** Status answered from now on (200 = accept). */
    public void answer(int httpStatus) {
        status.set(httpStatus);
    }

    /** A {@code Retry-After} value sent with every answer other than 2xx from now on (null: none). */
    public void retryAfter(String value) {
        retryAfter = value;
    }

    public List<Request> received() {
        return List.copyOf(received);
    }

    /** Requests answered with 2xx. */
    public List<Request> accepted() {
        return received.stream().filter(r -> r.headers().containsKey("x-test-answer-2xx")).toList();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String body;
        try (InputStream in = exchange.getRequestBody()) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        int answer = status.get();
        Map<String, List<String>> headers = new java.util.TreeMap<>();
        exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), List.copyOf(v)));
        if (answer / 100 == 2) {
            headers.put("x-test-answer-2xx", List.of("true"));
        }
        received.add(new Request(exchange.getRequestMethod(), exchange.getRequestURI().getPath(), headers, body));
        byte[] reply = (answer / 100 == 2 ? "{\"ok\":true}" : "{\"error\":\"test says " + answer + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        String wait = retryAfter;
        if (wait != null && answer / 100 != 2) {
            exchange.getResponseHeaders().add("Retry-After", wait);
        }
        exchange.sendResponseHeaders(answer, reply.length);
        exchange.getResponseBody().write(reply);
        exchange.close();
    }

    @Override
    public void close() {
        server.stop(0);
        // its threads are not daemons: left running, each server's would stay for the rest of the JVM
        executor.shutdownNow();
    }
}

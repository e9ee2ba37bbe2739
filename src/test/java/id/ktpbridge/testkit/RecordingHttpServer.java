package id.ktpbridge.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A partner's HTTP endpoint for tests: records every request and answers with a status chosen by
 * the test, its body short, or on demand trickled or huge.
 */
public final class RecordingHttpServer implements AutoCloseable {

    /** One request as received. Header names are lower case; the client's port tells its connections apart. */
    public record Request(String method, String path, Map<String, List<String>> headers, String body, int clientPort) {

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
    /** How answers are sent: {@code plain}, {@code trickle} or {@code huge}. */
    private volatile String bodyMode = "plain";
    private volatile Duration trickleEvery;
    private volatile long hugeBytes;
    private final AtomicLong bodyBytesSent = new AtomicLong();
    private final AtomicInteger answering = new AtomicInteger();

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

    /** From now on, answer with a body of a byte every {@code every}, for as long as the client reads. */
    public void trickle(Duration every) {
        trickleEvery = every;
        bodyMode = "trickle";
    }

    /** From now on, answer with a body of {@code bytes} bytes (Content-Length given), as fast as the client reads. */
    public void hugeBody(long bytes) {
        hugeBytes = bytes;
        bodyMode = "huge";
    }

    /** From now on, answer with a short body at once (the default). */
    public void plainBody() {
        bodyMode = "plain";
    }

    /** Bytes of trickled and huge bodies written so far (what the client took, and the sockets' buffers). */
    public long bodyBytesSent() {
        return bodyBytesSent.get();
    }

    /** Answers still being written. */
    public int answering() {
        return answering.get();
    }

    public List<Request> received() {
        return List.copyOf(received);
    }

    /** Requests answered with 2xx and a short body. */
    public List<Request> accepted() {
        return received.stream().filter(r -> r.headers().containsKey("x-test-answer-2xx")).toList();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String body;
        try (InputStream in = exchange.getRequestBody()) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        int answer = status.get();
        String mode = bodyMode;
        Map<String, List<String>> headers = new java.util.TreeMap<>();
        exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), List.copyOf(v)));
        if (answer / 100 == 2 && mode.equals("plain")) {
            headers.put("x-test-answer-2xx", List.of("true"));
        }
        if (exchange.getRequestURI().getRawQuery() != null) {
            headers.put("x-test-raw-query", List.of(exchange.getRequestURI().getRawQuery()));
        }
        received.add(new Request(exchange.getRequestMethod(), exchange.getRequestURI().getPath(), headers, body,
                exchange.getRemoteAddress().getPort()));
        if (!mode.equals("plain")) {
            answering.incrementAndGet();
            try {
                exchange.getResponseHeaders().add("Content-Type", "text/plain");
                if (mode.equals("trickle")) {
                    trickle(exchange, answer);
                } else {
                    huge(exchange, answer);
                }
            } finally {
                exchange.close();
                answering.decrementAndGet();
            }
            return;
        }
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

    private void trickle(HttpExchange exchange, int answer) throws IOException {
        exchange.sendResponseHeaders(answer, 0); // chunked: no end in sight
        OutputStream out = exchange.getResponseBody();
        try {
            while (true) {
                out.write('.');
                out.flush();
                bodyBytesSent.incrementAndGet();
                Thread.sleep(trickleEvery.toMillis());
            }
        } catch (IOException | InterruptedException gone) {
            // the client closed the connection, or the server stops
        }
    }

    private void huge(HttpExchange exchange, int answer) throws IOException {
        long size = hugeBytes;
        exchange.sendResponseHeaders(answer, size);
        byte[] block = new byte[64 * 1024];
        java.util.Arrays.fill(block, (byte) 'x');
        OutputStream out = exchange.getResponseBody();
        try {
            for (long left = size; left > 0; ) {
                int n = (int) Math.min(block.length, left);
                out.write(block, 0, n);
                bodyBytesSent.addAndGet(n);
                left -= n;
            }
        } catch (IOException gone) {
            // the client closed the connection
        }
    }

    @Override
    public void close() {
        server.stop(0);
        // its threads are not daemons: left running, each server's would stay for the rest of the JVM
        executor.shutdownNow();
    }
}

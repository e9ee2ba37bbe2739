package id.ktpbridge.sandbox;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the GTF sandbox as its own process, so benchmarks (bench/) can point the bundle and the
 * baseline clients at one shared OneKYC emulator and count what each of them called:
 *
 * <pre>
 * java -cp target/ktp-scan-bridge.jar id.ktpbridge.sandbox.SandboxMain --port 0 --latency-ms 50 \
 *     --processing-delay-ms 200 --callback-url http://127.0.0.1:8080/coe/submissions-callback \
 *     --callback-auth 'Bearer x' --port-file sandbox.url
 * </pre>
 *
 * Prints and (with {@code --port-file}) writes the base URL, which serves as token URL, API URL
 * and storage. Counters are served as JSON on a second loopback server ({@code GET /__bench/stats},
 * and {@code /__bench/settings} to change latency and callbacks between measured runs), because
 * {@link GtfSandbox} keeps its own HttpServer to itself.
 */
public final class SandboxMain {

    private static final String USAGE = """
            usage: SandboxMain [--host 127.0.0.1] [--port 0] [--latency-ms 0] [--latency-jitter-ms 0]
                               [--processing-delay-ms 1500] [--callback-url URL] [--callback-auth VALUE]
                               [--client-id ID] [--pass-key KEY] [--onboarding-partner P]
                               [--server-threads 64] [--port-file FILE]
                               [--stats-port 0] [--stats-port-file FILE]
            """;

    private SandboxMain() { }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parse(args);
        SandboxSettings settings = new SandboxSettings();
        settings.setHost(opts.getOrDefault("host", "127.0.0.1"));
        settings.setPort(Integer.parseInt(opts.getOrDefault("port", "0")));
        settings.setLatencyMillis(Long.parseLong(opts.getOrDefault("latency-ms", "0")));
        settings.setLatencyJitterMillis(Long.parseLong(opts.getOrDefault("latency-jitter-ms", "0")));
        settings.setProcessingDelayMillis(Long.parseLong(opts.getOrDefault("processing-delay-ms", "1500")));
        String callbackUrl = opts.get("callback-url");
        settings.setCallbackEnabled(callbackUrl != null && !callbackUrl.isBlank());
        settings.setCallbackUrl(callbackUrl);
        settings.setCallbackAuthorization(opts.get("callback-auth"));
        if (opts.containsKey("client-id")) {
            settings.setClientId(opts.get("client-id"));
        }
        if (opts.containsKey("pass-key")) {
            settings.setPassKey(opts.get("pass-key"));
        }
        if (opts.containsKey("onboarding-partner")) {
            settings.setOnboardingPartner(opts.get("onboarding-partner"));
        }

        // each request sleeps the configured latency on a server thread: with too few of them the
        // sandbox, not the client being measured, would set the ceiling
        settings.setServerThreads(Integer.parseInt(opts.getOrDefault("server-threads", "64")));
        GtfSandbox sandbox = new GtfSandbox(settings).start();

        HttpServer stats = HttpServer.create(new InetSocketAddress("127.0.0.1",
                Integer.parseInt(opts.getOrDefault("stats-port", "0"))), 0);
        stats.createContext("/__bench/stats", ex -> serveStats(ex, sandbox));
        stats.createContext("/__bench/settings", ex -> changeSettings(ex, settings));
        stats.start();
        String statsUrl = "http://127.0.0.1:" + stats.getAddress().getPort() + "/__bench/stats";

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stats.stop(0);
            sandbox.stop();
            stopped.countDown();
        }, "sandbox-main-shutdown"));

        System.out.println("GTF sandbox listening on " + sandbox.baseUrl());
        System.out.println("Bench stats on " + statsUrl);
        System.out.flush();
        // written last and atomically: a waiting script sees the file only once both servers answer
        writeAtomically(opts.get("stats-port-file"), statsUrl);
        writeAtomically(opts.get("port-file"), sandbox.baseUrl());
        stopped.await();
    }

    private static void serveStats(HttpExchange ex, GtfSandbox sandbox) throws IOException {
        try (ex) {
            ObjectNode body = SandboxCore.JSON.createObjectNode();
            long finished = 0;
            long confirmed = 0;
            long confirmAttempts = 0;
            for (String id : sandbox.submissionIds()) {
                String status = sandbox.submissionStatus(id);
                if ("COMPLETED".equals(status) || "ERROR".equals(status)) {
                    finished++;
                }
                confirmed += sandbox.confirmCount(id);
                confirmAttempts += sandbox.confirmAttempts(id);
            }
            body.put("tokenIssuedCount", sandbox.tokenIssuedCount());
            body.put("partnerTokenIssuedCount", sandbox.partnerTokenIssuedCount());
            body.put("submissionCount", sandbox.submissionCount());
            body.put("confirmedCount", confirmed);
            body.put("confirmAttempts", confirmAttempts);
            body.put("finishedCount", finished);
            body.put("storagePuts", sandbox.storageRequests().stream()
                    .filter(r -> "PUT".equals(r.method()) && r.httpStatus() / 100 == 2).count());
            body.put("callbacksDelivered", sandbox.callbacksDelivered());
            body.put("callbackAttempts", sandbox.callbackAttempts());
            Map<String, Long> calls = new TreeMap<>();
            long errors = 0;
            for (ApiCall call : sandbox.requestLog()) {
                calls.merge(call.endpoint(), 1L, Long::sum);
                if (call.httpStatus() >= 400) {
                    errors++;
                }
            }
            ObjectNode byEndpoint = body.putObject("apiCalls");
            calls.forEach(byEndpoint::put);
            body.put("apiErrors", errors);
            byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, bytes.length);
            ex.getResponseBody().write(bytes);
        }
    }

    /**
     * {@code /__bench/settings?latency-ms=0&callbacks=false}: lets the harness warm the sandbox up
     * without latency, and switch callbacks off for clients that have no callback endpoint (so the
     * sandbox does not spend the shared CPU on refused connections while they are measured).
     */
    private static void changeSettings(HttpExchange ex, SandboxSettings settings) throws IOException {
        try (ex) {
            String latency = UploadEndpoints.queryParam(ex.getRequestURI().getRawQuery(), "latency-ms");
            String callbacks = UploadEndpoints.queryParam(ex.getRequestURI().getRawQuery(), "callbacks");
            int status = 200;
            try {
                if (latency != null) {
                    settings.setLatencyMillis(Long.parseLong(latency));
                }
                if (callbacks != null) {
                    settings.setCallbackEnabled(Boolean.parseBoolean(callbacks) && settings.getCallbackUrl() != null);
                }
            } catch (IllegalArgumentException e) {
                status = 400;
            }
            ObjectNode body = SandboxCore.JSON.createObjectNode();
            body.put("latencyMillis", settings.getLatencyMillis());
            body.put("callbacks", settings.isCallbackEnabled());
            byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(status, bytes.length);
            ex.getResponseBody().write(bytes);
        }
    }

    private static void writeAtomically(String file, String content) throws IOException {
        if (file == null) {
            return;
        }
        Path target = Path.of(file).toAbsolutePath();
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.writeString(tmp, content + "\n");
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> opts = new TreeMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if ("--help".equals(a) || "-h".equals(a)) {
                System.out.print(USAGE);
                System.exit(0);
            }
            if (!a.startsWith("--") || i + 1 >= args.length) {
                System.err.print("unexpected argument '" + a + "'\n" + USAGE);
                System.exit(2);
            }
            opts.put(a.substring(2), args[++i]);
        }
        return opts;
    }
}

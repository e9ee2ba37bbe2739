package id.ktpbridge.testkit;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import id.ktpbridge.BridgeMain;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.sandbox.GtfSandbox;
import org.apache.camel.CamelContext;
import org.apache.camel.ServiceStatus;
import org.apache.camel.main.Main;

/**
 * The real application, started in-process exactly as {@code java -jar} starts it (same main
 * class, bundled routes and configuration), with test overrides: its own data folder, a free
 * callback port and short timings.
 */
public final class BridgeApp implements AutoCloseable {

    /**
     * Surefire's test JVMs run side by side, each with its number (1, 2, ...): each takes ports
     * from a range of its own, as another JVM's server may bind a port only a while after it was
     * found free (PostgreSQL after initdb, S3Proxy after its start). Alone (no number), the whole range.
     */
    private static final int FORK = Integer.getInteger("ktp.test.fork", 0);
    private static final int PORT_SPAN = FORK > 0 ? 4_000 : 12_000;
    private static final int FIRST_PORT = 20_000 + (FORK > 0 ? (FORK - 1) % 3 * PORT_SPAN : 0);
    /** Started at a place of its own per process, so JVMs running one after the other use other ports. */
    private static final AtomicInteger NEXT_PORT =
            new AtomicInteger((int) (ProcessHandle.current().pid() * 97 % PORT_SPAN));

    private final Main main;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final Path dataDir;
    private final int callbackPort;

    private BridgeApp(Main main, Path dataDir, int callbackPort) {
        this.main = main;
        this.dataDir = dataDir;
        this.callbackPort = callbackPort;
    }

    /** Fast timings for tests; {@code overrides} win. */
    public static Map<String, String> testProperties(Path dataDir, int callbackPort) {
        Map<String, String> p = new HashMap<>();
        p.put("ktp.data-dir", dataDir.toString());
        p.put("ktp.callback.port", String.valueOf(callbackPort));
        p.put("camel.server.host", "127.0.0.1");
        p.put("ktp.management.port", String.valueOf(freePort()));
        p.put("camel.management.host", "127.0.0.1");
        p.put("ktp.management.ledger-refresh", "300");
        p.put("ktp.management.ended-refresh", "300");
        p.put("ktp.source.poll-delay", "200");
        p.put("ktp.source.read-lock-min-age", "0");
        p.put("ktp.source.empty-file-min-age", "0");
        p.put("ktp.poll.interval", "250");
        p.put("ktp.poll.first-delay", "400");
        p.put("ktp.poll.initial-backoff", "300");
        p.put("ktp.poll.max-backoff", "1000");
        p.put("gtf.sandbox.processing-delay", "300");
        p.put("gtf.retry.initial-delay", "50");
        return p;
    }

    /**
     * Starts the application expecting the start to fail; returns the messages of the failure and
     * its causes, one per line.
     */
    public static String startupError(Path dataDir, Map<String, String> overrides) {
        return messages(org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
                () -> start(dataDir, overrides).close()));
    }

    /** The messages of an exception and its causes, one per line. */
    public static String messages(Throwable e) {
        StringBuilder messages = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            messages.append(t.getMessage()).append('\n');
        }
        return messages.toString();
    }

    public static BridgeApp start(Path dataDir, Map<String, String> overrides) {
        int port = freePort();
        Map<String, String> props = testProperties(dataDir, port);
        props.putAll(overrides);
        return run(new BridgeMain(props), dataDir, port);
    }

    /**
     * The bundle as another Camel Main based runtime (Camel JBang) runs it: a plain {@link Main}
     * given the project's {@code config/application.properties}, {@code config/camel-main.properties}
     * (which names the Java part) and {@code routes/*.yaml}, and nothing else of the bundle.
     */
    public static BridgeApp startOnPlainCamelMain(Path dataDir, Map<String, String> overrides) {
        int port = freePort();
        Map<String, String> props = testProperties(dataDir, port);
        props.put("camel.main.routes-include-pattern", "file:" + Path.of("routes").toAbsolutePath() + "/*.yaml");
        props.putAll(overrides);
        Main main = new Main();
        main.setPropertyPlaceholderLocations("file:" + Path.of("config/application.properties").toAbsolutePath()
                + ",file:" + Path.of("config/camel-main.properties").toAbsolutePath());
        props.forEach(main::addOverrideProperty);
        return run(main, dataDir, port);
    }

    private static BridgeApp run(Main main, Path dataDir, int port) {
        BridgeApp app = new BridgeApp(main, dataDir, port);
        Thread runner = new Thread(() -> {
            try {
                app.exit.complete(app.main.run(new String[0]));
            } catch (Throwable t) {
                app.exit.completeExceptionally(t);
            }
        }, "bridge-app");
        runner.setDaemon(true);
        runner.start();
        try {
            app.awaitStarted(Duration.ofSeconds(60));
        } catch (RuntimeException e) {
            // a start that hangs must not leave the application running (and logging) into later tests
            app.main.completed();
            try {
                app.exit.get(60, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception stillRunning) {
                e.addSuppressed(stillRunning);
            }
            throw e;
        }
        return app;
    }

    /** Runs the application in batch mode on this thread and returns its exit code. */
    public String managementUrl(String path) {
        return "http://127.0.0.1:" + context().resolvePropertyPlaceholders("{{ktp.management.port}}") + path;
    }

    public static int runBatch(Path dataDir, Map<String, String> overrides) throws Exception {
        Map<String, String> props = testProperties(dataDir, freePort());
        props.put("ktp.exit-when-done", "true");
        props.putAll(overrides);
        return new BridgeMain(props).run(new String[0]);
    }

    private void awaitStarted(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (exit.isDone()) {
                throw new IllegalStateException("the application stopped during startup (exit " + exit.getNow(null) + ")");
            }
            CamelContext ctx = main.getCamelContext();
            if (ctx != null && ctx.getStatus() == ServiceStatus.Started) {
                return;
            }
            pause(50);
        }
        throw new IllegalStateException("the application did not start in " + timeout);
    }

    public CamelContext context() {
        return main.getCamelContext();
    }

    public GtfSandbox sandbox() {
        return context().getRegistry().lookupByNameAndType("gtfSandbox", GtfSandbox.class);
    }

    public Ledger ledger() {
        return context().getRegistry().lookupByNameAndType("ledger", Ledger.class);
    }

    public <T> T bean(String name, Class<T> type) {
        return context().getRegistry().lookupByNameAndType(name, type);
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path inbox() {
        return dataDir.resolve("inbox");
    }

    public Path results() {
        return dataDir.resolve("results");
    }

    public Path done() {
        return dataDir.resolve("done");
    }

    public Path failed() {
        return dataDir.resolve("failed");
    }

    public String callbackUrl() {
        return "http://127.0.0.1:" + callbackPort + "/coe/submissions-callback";
    }

    /** The exit code once the application ends by itself (batch mode). */
    public CompletableFuture<Integer> exit() {
        return exit;
    }

    @Override
    public void close() {
        if (!exit.isDone()) {
            main.completed();
        }
        try {
            exit.get(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the application did not stop", e);
        }
    }

    /**
     * A port nothing listens on, for a server a test starts a moment later. Taken below Linux's
     * ephemeral range (32768 and up), where the outgoing connections of the tests themselves get
     * their local ports, and never the same one twice in a JVM: a port the kernel handed out as
     * free could otherwise be taken by a client connection before the server binds it.
     */
    public static int freePort() {
        for (int tries = 0; tries < PORT_SPAN; tries++) {
            int port = FIRST_PORT + Math.floorMod(NEXT_PORT.getAndIncrement(), PORT_SPAN);
            try (ServerSocket s = new ServerSocket(port)) {
                return port;
            } catch (IOException inUse) {
                // taken: the next one
            }
        }
        throw new IllegalStateException("no free port in " + FIRST_PORT + "-" + (FIRST_PORT + PORT_SPAN - 1));
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

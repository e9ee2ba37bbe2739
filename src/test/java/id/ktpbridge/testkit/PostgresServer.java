package id.ktpbridge.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throw-away PostgreSQL server from the machine's Debian packages (postgresql-15, installed by
 * {@code .ci/run}): a fresh cluster in a temporary folder, on a free loopback port, trust auth.
 * {@code initdb} refuses to run as root, so the server runs as the {@code postgres} user then.
 */
public final class PostgresServer implements AutoCloseable {

    private final Path dir;
    private final Path bin;
    private final int port;
    private final boolean asPostgresUser;
    private boolean running;

    private PostgresServer(Path dir, Path bin, int port, boolean asPostgresUser) {
        this.dir = dir;
        this.bin = bin;
        this.port = port;
        this.asPostgresUser = asPostgresUser;
    }

    public static PostgresServer start() throws Exception {
        Path bin = findBin();
        boolean root = "root".equals(System.getProperty("user.name"));
        Path dir = Files.createTempDirectory("ktp-pg-");
        if (root) {
            run(List.of("chown", "postgres:postgres", dir.toString()), false);
        }
        int port = BridgeApp.freePort();
        PostgresServer pg = new PostgresServer(dir, bin, port, root);
        try {
            pg.exec(List.of(bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", "postgres",
                    "-A", "trust", "-E", "UTF8", "--no-sync"));
            pg.startServer();
        } catch (Exception e) {
            // a postmaster pg_ctl started before it gave up (its -w wait timed out) would run on, and the
            // folder would stay: neither is left behind
            try {
                pg.running = true;
                pg.stopServer();
            } catch (Exception none) {
                // no postmaster was running
            }
            try {
                pg.deleteFolder();
            } catch (Exception cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        return pg;
    }

    /** Stops the server as a crash would (no checkpoint, connections cut) and starts it again. */
    public void restart() throws Exception {
        stopServer();
        startServer();
    }

    /** Stops the server as a crash would; {@link #startAgain} brings it back on the same port. */
    public void stop() throws Exception {
        stopServer();
    }

    public void startAgain() throws Exception {
        startServer();
    }

    private void stopServer() throws Exception {
        if (!running) {
            return;
        }
        running = false;
        exec(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "immediate",
                "-w", "stop"));
    }

    private void startServer() throws Exception {
        exec(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-w", "-t", "60",
                "-l", dir.resolve("server.log").toString(), "-o",
                "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off", "start"));
        running = true;
    }

    public int port() {
        return port;
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** Creates a database and returns its JDBC URL (user postgres, no password). */
    public String createDatabase(String name) throws SQLException {
        try (Connection c = DriverManager.getConnection(jdbcUrl("postgres"), "postgres", "")) {
            c.createStatement().execute("CREATE DATABASE " + name);
        }
        return jdbcUrl(name);
    }

    /** What the server has logged so far (statement errors included). */
    public String serverLog() throws java.io.IOException {
        Path log = dir.resolve("server.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() throws Exception {
        stopServer();
        deleteFolder();
    }

    private void deleteFolder() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private void exec(List<String> command) throws Exception {
        run(command, asPostgresUser);
    }

    private static void run(List<String> command, boolean asPostgres) throws Exception {
        List<String> full = new ArrayList<>();
        if (asPostgres) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.addAll(command);
        // the output goes to a file, read once the command has ended or been ended: a pipe read to its
        // end would block for as long as the command, or anything it started, keeps it open
        Path out = Files.createTempFile("ktp-pg-command-", ".out");
        try {
            Process p = new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            boolean ended = p.waitFor(120, TimeUnit.SECONDS);
            if (!ended) {
                p.destroyForcibly();
            }
            if (!ended || p.exitValue() != 0) {
                throw new IllegalStateException("command " + (ended ? "failed" : "did not end within 120 s") + ": "
                        + String.join(" ", full) + "\n" + new String(Files.readAllBytes(out)));
            }
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static Path findBin() throws IOException {
        Path root = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(root)) {
            try (Stream<Path> versions = Files.list(root)) {
                var bin = versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("initdb")))
                        .max(Comparator.naturalOrder());
                if (bin.isPresent()) {
                    return bin.get();
                }
            }
        }
        throw new IllegalStateException("PostgreSQL server binaries not found under /usr/lib/postgresql:"
                + " install the Debian package postgresql-15 (.ci/run does)");
    }
}

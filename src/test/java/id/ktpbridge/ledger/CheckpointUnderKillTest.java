package id.ktpbridge.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ledger's flushes (H2 {@code CHECKPOINT SYNC}) run while other threads write, and the process
 * can be killed at any moment: after each kill every row must still be found through its index
 * under the state it has. Without {@link CheckpointGate} a checkpoint that meets a statement
 * half-way left indexes missing rows or naming rows that were gone, within a few kills.
 */
class CheckpointUnderKillTest {

    private static final String[] STATES = {"RECEIVED", "UPLOADED", "CONFIRMED", "COLLECTING", "DELIVERED"};
    private static final int KILLS = 10;

    @TempDir
    Path dir;

    @Test
    void indexesMatchTheirTableAfterEveryKill() throws Exception {
        String url = url(dir);
        Random random = new Random(20261126L);
        long rows = 0;
        for (int kill = 1; kill <= KILLS; kill++) {
            Process writer = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx128m", "-cp", System.getProperty("java.class.path"), Writer.class.getName(), dir.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("writer.log").toFile()).start();
            try {
                Path started = dir.resolve("writing");
                long until = System.currentTimeMillis() + 60_000;
                while (!Files.exists(started) && System.currentTimeMillis() < until) {
                    Thread.sleep(20);
                }
                assertTrue(Files.exists(started), "the writer started: " + Files.readString(dir.resolve("writer.log")));
                Thread.sleep(700 + random.nextInt(1500));
            } finally {
                writer.destroyForcibly();
                writer.waitFor(30, TimeUnit.SECONDS);
                Files.deleteIfExists(dir.resolve("writing"));
            }
            assertEquals(List.of(), inconsistencies(url), "after kill " + kill);
            // the next writer opens the file as it is, not rebuilt (H2UncleanStop): what the kills
            // leave adds up, as it did before there were rebuilds
            Files.deleteIfExists(dir.resolve("ledger.in-use"));
            long before = rows;
            rows = rowCount(url);
            assertTrue(rows > before, "the writer wrote rows before kill " + kill + " (" + before + " -> " + rows + ")");
        }
    }

    static String url(Path dir) {
        // the bundle's own settings for its embedded ledger
        return "jdbc:h2:file:" + dir.resolve("ledger").toString().replace('\\', '/')
                + ";DB_CLOSE_ON_EXIT=FALSE;QUERY_CACHE_SIZE=32;RETENTION_TIME=1000";
    }

    private static long rowCount(String url) throws SQLException {
        try (Connection c = DriverManager.getConnection(H2FileUrls.forLedger(url), "sa", "");
             ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM t")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Rows whose state the index does not give, read once by the table and once by the index. */
    private static List<String> inconsistencies(String url) throws SQLException {
        List<String> found = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(H2FileUrls.forLedger(url), "sa", "")) {
            Map<String, String> table = new HashMap<>();
            try (ResultSet rs = c.createStatement().executeQuery("SELECT id, state FROM t")) {
                while (rs.next()) {
                    table.put(rs.getString(1), rs.getString(2));
                }
            }
            Map<String, String> index = new HashMap<>();
            for (String state : STATES) {
                try (PreparedStatement ps = c.prepareStatement("SELECT id FROM t USE INDEX (ix_t_state) WHERE state = ?")) {
                    ps.setString(1, state);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            index.put(rs.getString(1), state);
                        }
                    }
                } catch (SQLException e) {
                    found.add("reading " + state + " by the index: " + e.getMessage());
                }
            }
            table.forEach((id, state) -> {
                if (!state.equals(index.get(id))) {
                    found.add(id + " is " + state + ", the index says " + index.get(id));
                }
            });
            index.keySet().stream().filter(id -> !table.containsKey(id)).forEach(id -> found.add(id + " only in the index"));
        }
        return found;
    }

    /** Writes rows through their states on 8 threads, with a flush every 20 ms, until killed. */
    public static final class Writer {

        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            DataSources.Pool pool = DataSources.create(url(dir), "sa", "", 16, "kill-test");
            DataSource ds = pool.dataSource();
            try (Connection c = ds.getConnection()) {
                c.createStatement().execute("CREATE TABLE IF NOT EXISTS t (id VARCHAR(36) PRIMARY KEY,"
                        + " state VARCHAR(16) NOT NULL, at BIGINT, payload VARCHAR(10000), result VARCHAR(10000))");
                c.createStatement().execute("CREATE INDEX IF NOT EXISTS ix_t_state ON t (state, at)");
            }
            DurableFlush flush = DurableFlush.of(ds);
            ExecutorService threads = Executors.newFixedThreadPool(9);
            String payload = "p".repeat(1500);
            String result = "r".repeat(4000);
            for (int i = 0; i < 8; i++) {
                threads.submit(() -> {
                    while (true) {
                        String id = UUID.randomUUID().toString();
                        long began = flush.beginWrite();
                        try (Connection c = ds.getConnection()) {
                            update(c, "INSERT INTO t (id, state, payload) VALUES (?, 'RECEIVED', ?)", id, payload);
                            update(c, "UPDATE t SET state = 'UPLOADED' WHERE id = ?", id);
                            update(c, "UPDATE t SET state = 'CONFIRMED', at = ? WHERE id = ?", System.currentTimeMillis(), id);
                            update(c, "UPDATE t SET state = 'COLLECTING', at = ? WHERE id = ?", System.currentTimeMillis(), id);
                            c.setAutoCommit(false);
                            update(c, "UPDATE t SET state = 'DELIVERED', result = ? WHERE id = ?", result, id);
                            c.commit();
                            c.setAutoCommit(true);
                        }
                        flush.written(began);
                    }
                });
            }
            threads.submit(() -> {
                boolean marked = false;
                while (true) {
                    Thread.sleep(20);
                    flush.flush();
                    // the test kills from some time after the marker: only once a checkpoint holds a
                    // row of this run (a starved JVM may not have written one in that time)
                    if (!marked && flush.checkpoints() > 0) {
                        Files.createFile(dir.resolve("writing"));
                        marked = true;
                    }
                }
            });
            Thread.sleep(Long.MAX_VALUE);
        }

        static void update(Connection c, String sql, Object... values) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < values.length; i++) {
                    ps.setObject(i + 1, values[i]);
                }
                ps.executeUpdate();
            }
        }
    }
}

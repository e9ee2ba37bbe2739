package id.ktpbridge.ledger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An H2 file whose process was killed can hold changes H2 shows to some transactions and not to
 * others (see {@link H2UncleanStop}); the pool that opens it next rebuilds it first.
 */
class H2UncleanStopTest {

    /** Most runs see such changes after one or two kills. */
    private static final int KILLS = 15;

    @TempDir
    Path dir;

    @Test
    void aFileLeftOpenByAKilledProcessIsRebuiltSoEveryTransactionSeesTheSameRows() throws Exception {
        String url = CheckpointUnderKillTest.url(dir);
        Kills kills = killWritersUntilViewsDiffer(dir, KILLS, new Random(20261128L));
        List<String> views = kills.views();
        // H2 leaves such changes only when its background write meets statements half-way
        assumeTrue(Set.copyOf(views).size() > 1, kills.count() + " kills left no change that some transactions"
                + " see and others do not: " + views);
        System.out.println("changes seen by some transactions only after kill " + kills.count() + ": " + views);

        Files.writeString(dir.resolve("ledger.in-use"), "left by the killed writer\n");
        assertRebuiltToTheCommittedView(url, views);
    }

    /**
     * The same, on a file such kills left once (made by {@link H2UncleanStopFixture}): the loop above
     * finds one in most runs only, and skips otherwise.
     */
    @Test
    void theSavedFileOfAKilledWriterThatTransactionsSeeDifferentlyIsRebuiltSoEveryOneSeesTheCommittedRows()
            throws Exception {
        String url = CheckpointUnderKillTest.url(dir);
        H2UncleanStopFixture.unpack(dir);
        // opened as it is, with H2 alone: transactions see different rows, and go on doing so after
        // H2 closed and opened it again (H2 itself leaves the file so)
        List<String> views = views(url);
        assertEquals(H2UncleanStopFixture.VIEWS, Set.copyOf(views), "as the fixture's README says: " + views);
        assertEquals(H2UncleanStopFixture.COMMITTED, views.get(views.size() - 1));
        assertEquals(views, views(url), "H2 does not repair it by itself");
        assertFalse(Files.exists(dir.resolve("ledger.in-use")));

        Files.writeString(dir.resolve("ledger.in-use"), "left by the killed writer\n");
        assertRebuiltToTheCommittedView(url, views);
    }

    /**
     * Opens the file (marked open) through a pool and checks every transaction then sees
     * {@code views}' last one: numbered above every transaction the writer can have had open, it
     * sees the changes left without their undo record as not made.
     */
    private void assertRebuiltToTheCommittedView(String url, List<String> views) throws Exception {
        String committed = views.get(views.size() - 1);
        DataSources.Pool pool = DataSources.create(url, "sa", "", 4, "reopened");
        long rows;
        try (Connection c = pool.dataSource().getConnection();
             ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM t")) {
            rs.next();
            rows = rs.getLong(1);
        } finally {
            pool.closer().close();
        }
        assertTrue(rows > 0);
        assertFalse(Files.exists(dir.resolve("ledger.in-use")), "a pool that closed leaves no marker");
        List<String> after = views(url);
        assertEquals(Set.of(committed), Set.copyOf(after),
                "every transaction sees the rows as they were without the changes left half-written: " + views);
        assertTrue(committed.startsWith(rows + "/"), committed + " against " + rows);
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.map(p -> p.getFileName().toString())
                    .filter(n -> n.contains("rebuil")).toList(), "no file of the rebuild is left");
        }
    }

    /** How many kills {@link #killWritersUntilViewsDiffer} made, and what transactions saw after the last. */
    record Kills(int count, List<String> views) {
    }

    /**
     * Kills a {@link Writer} on the file in {@code dir} until transactions see its rows differently
     * ({@link #views}), {@code most} times at most. The marker the writer's pool left is removed after
     * each kill, so the next writer opens the file as it is: such changes of several kills add up.
     */
    static Kills killWritersUntilViewsDiffer(Path dir, int most, Random random) throws Exception {
        String url = CheckpointUnderKillTest.url(dir);
        List<String> views = List.of();
        int kill = 0;
        while (kill < most && Set.copyOf(views).size() < 2) {
            kill++;
            Process writer = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx128m", "-cp", System.getProperty("java.class.path"), Writer.class.getName(), dir.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("writer.log").toFile()).start();
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(dir.resolve("writing"))
                        || !writer.isAlive());
                assertTrue(writer.isAlive(), "the writer started: " + Files.readString(dir.resolve("writer.log")));
                // past some of H2's background writes (every 500 ms), which is where such changes come from
                Duration writing = Duration.ofMillis(700 + random.nextInt(800));
                await().during(writing).atMost(writing.plusSeconds(10)).until(writer::isAlive);
            } finally {
                writer.destroyForcibly();
                writer.waitFor(30, TimeUnit.SECONDS);
                Files.deleteIfExists(dir.resolve("writing"));
            }
            assertTrue(Files.exists(dir.resolve("ledger.in-use")), "the writer's pool marked the file open");
            views = views(url);
            Files.delete(dir.resolve("ledger.in-use"));
        }
        return new Kills(kill, views);
    }

    @Test
    void aFileClosedByItsPoolIsNotRebuiltNorIsOneAnotherPoolOfTheProcessHolds() throws Exception {
        String url = CheckpointUnderKillTest.url(dir);
        DataSources.Pool first = DataSources.create(url, "sa", "", 2, "first");
        try (Connection c = first.dataSource().getConnection()) {
            c.createStatement().execute("CREATE TABLE t (id INT PRIMARY KEY)");
            c.createStatement().execute("INSERT INTO t VALUES (1)");
        }
        Object file = fileKey(dir.resolve("ledger.mv.db"));
        DataSources.Pool second = DataSources.create(url, "sa", "", 2, "second");
        second.closer().close();
        assertTrue(Files.exists(dir.resolve("ledger.in-use")), "still open in the first pool");
        first.closer().close();
        assertFalse(Files.exists(dir.resolve("ledger.in-use")));

        DataSources.Pool again = DataSources.create(url, "sa", "", 2, "again");
        try (Connection c = again.dataSource().getConnection();
             ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM t")) {
            rs.next();
            assertEquals(1, rs.getInt(1));
        } finally {
            again.closer().close();
        }
        assertEquals(file, fileKey(dir.resolve("ledger.mv.db")), "the same file, not a rebuilt one");
    }

    @Test
    void aFileMarkedOpenIsRebuiltAndARebuildStoppedBetweenItsMovesIsFinished() throws Exception {
        String url = CheckpointUnderKillTest.url(dir);
        DataSources.Pool pool = DataSources.create(url, "sa", "", 2, "first");
        try (Connection c = pool.dataSource().getConnection()) {
            c.createStatement().execute("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))");
            c.createStatement().execute("CREATE INDEX ix_v ON t (v)");
            c.createStatement().execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')");
        } finally {
            pool.closer().close();
        }
        Path db = dir.resolve("ledger.mv.db");
        Object before = fileKey(db);
        Files.writeString(dir.resolve("ledger.in-use"), "left by a killed process\n");
        DataSources.Pool rebuilt = DataSources.create(url, "sa", "", 2, "rebuilt");
        try (Connection c = rebuilt.dataSource().getConnection();
             ResultSet rs = c.createStatement().executeQuery("SELECT id FROM t USE INDEX (ix_v) WHERE v = 'b'")) {
            assertTrue(rs.next());
            assertEquals(2, rs.getInt(1));
        } finally {
            rebuilt.closer().close();
        }
        assertNotEquals(before, fileKey(db),
                "a file marked open is rebuilt");

        // stopped after the old file stepped aside and before the new one took its name
        Files.move(db, dir.resolve("ledger-rebuilt.mv.db"));
        Files.writeString(dir.resolve("ledger.mv.db.before-rebuild"), "the old file");
        DataSources.Pool finished = DataSources.create(url, "sa", "", 2, "finished");
        try (Connection c = finished.dataSource().getConnection();
             ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM t")) {
            rs.next();
            assertEquals(2, rs.getInt(1));
        } finally {
            finished.closer().close();
        }
        assertFalse(Files.exists(dir.resolve("ledger.mv.db.before-rebuild")));
        assertFalse(Files.exists(dir.resolve("ledger-rebuilt.mv.db")));
    }

    @Test
    void aLedgerAtTheLatestSchemaIsRebuiltWithItsGeneratedColumnComputedAgain() throws Exception {
        String url = CheckpointUnderKillTest.url(dir);
        DataSources.Pool pool = DataSources.create(url, "sa", "", 2, "first");
        String id = UUID.randomUUID().toString();
        try {
            SchemaMigrator.migrate(pool.dataSource());
            new Ledger(pool.dataSource()).insert(new NewInput(id, "file", "file:/in/a.jpg", "a.jpg", "aa".repeat(32),
                    1234L, "image/jpeg", "partner-a", "user-1", "PARTNER_USER_ID", UUID.randomUUID().toString(),
                    UUID.randomUUID().toString(), null), SubmissionState.RECEIVED);
        } finally {
            pool.closer().close();
        }
        Path db = dir.resolve("ledger.mv.db");
        Object before = fileKey(db);
        Files.writeString(dir.resolve("ledger.in-use"), "left by a killed process\n");
        DataSources.Pool rebuilt = DataSources.create(url, "sa", "", 2, "rebuilt");
        try {
            assertNotEquals(before, fileKey(db), "rebuilt (a rebuild that fails opens the file as it is)");
            // found through the generated source_ref_tail, computed again in the new file
            assertEquals(List.of(id), new Ledger(rebuilt.dataSource()).findUnconfirmedAt("file:/in/a.jpg").stream()
                    .map(LedgerRecord::id).toList());
        } finally {
            rebuilt.closer().close();
        }
    }

    @Test
    void aRebuildThatCannotBeDoneLeavesTheFileAsItWasAndOpensIt() throws Exception {
        String url = CheckpointUnderKillTest.url(dir);
        DataSources.Pool pool = DataSources.create(url, "sa", "", 2, "first");
        try (Connection c = pool.dataSource().getConnection()) {
            c.createStatement().execute("CREATE TABLE t (id INT PRIMARY KEY)");
            c.createStatement().execute("INSERT INTO t VALUES (1), (2), (3)");
        } finally {
            pool.closer().close();
        }
        Files.writeString(dir.resolve("ledger.in-use"), "left by a killed process\n");
        // where the rebuild writes the database out: taken by a folder that is not empty
        Files.createDirectories(dir.resolve("ledger-rebuilt.mv.db").resolve("in-the-way"));
        DataSources.Pool opened = DataSources.create(url, "sa", "", 2, "opened");
        try (Connection c = opened.dataSource().getConnection();
             ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM t")) {
            rs.next();
            assertEquals(3, rs.getInt(1));
        } finally {
            opened.closer().close();
        }
        assertTrue(Files.exists(dir.resolve("ledger.in-use")), "not rebuilt: the next start tries again");
        Files.delete(dir.resolve("ledger-rebuilt.mv.db").resolve("in-the-way"));
        Object before = fileKey(dir.resolve("ledger.mv.db"));
        DataSources.Pool again = DataSources.create(url, "sa", "", 2, "again");
        again.closer().close();
        assertNotEquals(before, fileKey(dir.resolve("ledger.mv.db")), "rebuilt once it can be");
        assertFalse(Files.exists(dir.resolve("ledger.in-use")));
    }

    @Test
    void aPoolClosedWithAConnectionInUseOrAFileH2ClosedUnderItKeepsTheMarker() throws Exception {
        String url = CheckpointUnderKillTest.url(dir);
        DataSources.Pool pool = DataSources.create(url, "sa", "", 2, "left-open");
        Connection inUse = pool.dataSource().getConnection();
        inUse.createStatement().execute("CREATE TABLE t (id INT PRIMARY KEY)");
        pool.closer().close(); // the pool gives up on it: the file stays open
        assertTrue(Files.exists(dir.resolve("ledger.in-use")), "the next start rebuilds it");
        inUse.close();

        Files.delete(dir.resolve("ledger.in-use"));
        // as the pool's closure listener does when H2 closed the database after a failed write
        H2UncleanStop.Release release = H2UncleanStop.opening(url, "sa", "", 2);
        release.keep("H2 closed it after a failed write");
        release.close();
        assertTrue(Files.exists(dir.resolve("ledger.in-use")), "H2 closed it after a failed write: rebuilt next");

        // two pools on the file (the results database the ledger's): what one of them met counts
        // whichever closes last
        Files.delete(dir.resolve("ledger.in-use"));
        H2UncleanStop.Release results = H2UncleanStop.opening(url, "sa", "", 2);
        H2UncleanStop.Release ledger = H2UncleanStop.opening(url, "sa", "", 2);
        results.keep("H2 closed it after a failed write");
        results.close();
        ledger.close();
        assertTrue(Files.exists(dir.resolve("ledger.in-use")), "kept for the file, not for the pool");
    }

    @Test
    void theNewFileGetsTheSameSettingsButNoneThatRefuseOrFillIt() {
        assertEquals("jdbc:h2:file:/d/ledger-rebuilt;DB_CLOSE_ON_EXIT=FALSE;CIPHER=AES",
                H2UncleanStop.rebuiltUrl("jdbc:h2:file:/d/ledger;DB_CLOSE_ON_EXIT=FALSE;IFEXISTS=TRUE;CIPHER=AES;"
                        + "INIT=RUNSCRIPT FROM 'x';schema=KTP", Path.of("/d/ledger-rebuilt")));
    }

    @Test
    void theRebuildNeverReachesADatabaseThroughAnotherProcess() {
        assertEquals("jdbc:h2:file:/d/ledger;DB_CLOSE_ON_EXIT=FALSE;CIPHER=AES",
                H2UncleanStop.ownFileOnly("jdbc:h2:file:/d/ledger;AUTO_SERVER=TRUE;DB_CLOSE_ON_EXIT=FALSE;file_lock=NO;"
                        + "CIPHER=AES;AUTO_SERVER_PORT=9090"));
    }

    @Test
    void onlyH2FilesNamedByPathAreTaken() {
        assertEquals(Optional.of(Path.of("/data/ledger")), H2UncleanStop.databasePath("jdbc:h2:file:/data/ledger;A=B"));
        assertEquals(Optional.of(Path.of("/data/ledger")), H2UncleanStop.databasePath("jdbc:h2:async:/data/x/../ledger"));
        assertEquals(Optional.of(Path.of("ledger").toAbsolutePath()), H2UncleanStop.databasePath("jdbc:h2:./ledger"));
        assertEquals(Optional.of(Path.of("../ledger").toAbsolutePath().normalize()),
                H2UncleanStop.databasePath("jdbc:h2:../ledger"));
        assertEquals(Optional.of(Path.of(System.getProperty("user.home"), "ktp/ledger")),
                H2UncleanStop.databasePath("jdbc:h2:~/ktp/ledger"));
        assertEquals(Optional.empty(), H2UncleanStop.databasePath("jdbc:h2:mem:ledger"));
        assertEquals(Optional.empty(), H2UncleanStop.databasePath("jdbc:h2:tcp://db/ledger"));
        assertEquals(Optional.empty(), H2UncleanStop.databasePath("jdbc:h2:split:/data/ledger"));
        assertEquals(Optional.empty(), H2UncleanStop.databasePath("jdbc:postgresql://db/ktp"));
    }

    /** The file's identity: a rebuilt file is a new one. */
    private static Object fileKey(Path file) throws java.io.IOException {
        return Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
    }

    /**
     * What each of several transactions held open at once sees (rows, rows RECEIVED), in the order
     * they began: H2 numbers them from 1, as the killed process did its own (16 connections).
     */
    static List<String> views(String url) throws SQLException {
        List<String> seen = new ArrayList<>();
        List<Connection> open = new ArrayList<>();
        try {
            for (int i = 0; i < 40; i++) {
                Connection c = DriverManager.getConnection(H2FileUrls.forLedger(url), "sa", "");
                open.add(c);
                c.setAutoCommit(false);
                // by the table, not by the index on state (whose own half-written changes may differ):
                // the payload is in the table only
                try (ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*),"
                        + " COUNT(CASE WHEN state = 'RECEIVED' THEN 1 END), SUM(LENGTH(payload)) FROM t")) {
                    rs.next();
                    seen.add(rs.getLong(1) + "/" + rs.getLong(2));
                }
            }
        } finally {
            for (Connection c : open) {
                c.close();
            }
        }
        return seen;
    }

    /** Inserts and updates rows on 8 threads, without flushes (H2's background writer alone), until killed. */
    public static final class Writer {

        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            DataSource ds = DataSources.create(CheckpointUnderKillTest.url(dir), "sa", "", 16, "kill-test").dataSource();
            try (Connection c = ds.getConnection()) {
                c.createStatement().execute("CREATE TABLE IF NOT EXISTS t (id VARCHAR(36) PRIMARY KEY,"
                        + " state VARCHAR(16) NOT NULL, payload VARCHAR(200))");
                c.createStatement().execute("CREATE INDEX IF NOT EXISTS ix_t_state ON t (state)");
            }
            ExecutorService threads = Executors.newFixedThreadPool(8);
            String payload = "p".repeat(100);
            for (int i = 0; i < 8; i++) {
                threads.submit(() -> {
                    while (true) {
                        String id = UUID.randomUUID().toString();
                        try (Connection c = ds.getConnection()) {
                            CheckpointUnderKillTest.Writer.update(c,
                                    "INSERT INTO t (id, state, payload) VALUES (?, 'RECEIVED', ?)", id, payload);
                            CheckpointUnderKillTest.Writer.update(c, "UPDATE t SET state = 'DONE' WHERE id = ?", id);
                        }
                    }
                });
            }
            Files.createFile(dir.resolve("writing"));
            new java.util.concurrent.CountDownLatch(1).await();
        }
    }
}

package id.ktpbridge.ledger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds an H2 database file that was not closed the last time it was open (its process was
 * killed, the machine lost power) before a pool uses it again.
 * <p>
 * H2 2.3 writes its maps to the file one after another while statements go on (its background
 * writer; a write when unsaved changes pile up), so a file cut off after such a write can hold a
 * change without its undo record. H2 then shows that change to a transaction that happens to get
 * the number of the one that made it, and the value before it to every other: one statement finds
 * a row and the next one does not (an input resumed from RECEIVED whose next update changed no row
 * and ended it FAILED). Rebuilt (its definitions, then its rows copied into a new file that takes
 * the old one's place, no copy of the rows on disk between) each row is as the rebuild read it, and
 * every index is made anew from the rows. Only changes that were never flushed are at stake, as
 * after any kill.
 * <p>
 * The rebuild reads as a transaction numbered above any the killed process can have had open, so
 * it reads every such change as not made, as H2's own writes take it. A transaction whose commit
 * that write met half-way may still be read in part (H2 cannot tell it from an open one either).
 * <p>
 * A file left open is known by a marker beside it ({@code <name>.in-use}), made when the first pool
 * of the process opens it and removed once the last one has closed it with every connection; it
 * stays when H2 closed the database under a pool after a failed write (the pool opens it again
 * as it is). A file another process holds (H2's file lock) is left to refuse the pool as before.
 * Without the room for a copy, or as a user without admin rights ({@code SCRIPT NODATA} needs them),
 * the file is opened as it is, with a WARN.
 */
final class H2UncleanStop {

    private static final Logger LOG = LoggerFactory.getLogger(H2UncleanStop.class);
    private static final String PREFIX = "jdbc:h2:";
    /** H2's "Database may be already in use": another process holds the file. */
    private static final int ALREADY_OPEN = 90020;
    /** Pools of this process per database, so a second pool on one file does not take it for left open. */
    private static final Map<Path, Integer> OPEN = new HashMap<>();
    /** Why a database open in this process must keep its marker (any of its pools may have said so); under OPEN. */
    private static final Map<Path, String> KEPT = new HashMap<>();

    private H2UncleanStop() {
    }

    /** Undoes {@link #opening}: the marker goes with the last pool of the process on the file. */
    interface Release extends AutoCloseable {
        /** The file is left as a killed process leaves it ({@code why}): the marker stays for the next start. */
        void keep(String why);

        @Override
        void close();
    }

    private static final Release NOTHING = new Release() {
        @Override
        public void keep(String why) {
        }

        @Override
        public void close() {
        }
    };

    /**
     * Called before a pool opens {@code url}: rebuilds the file when it was left open, and marks it
     * open until the returned release is closed (after the pool). Any URL that is not an H2 file of
     * this process's own is left alone.
     */
    static Release opening(String url, String user, String password, int maxConnections) {
        Optional<Path> named = databasePath(url);
        if (named.isEmpty()) {
            return NOTHING;
        }
        Path base = named.get();
        synchronized (OPEN) {
            int pools = OPEN.getOrDefault(base, 0);
            if (pools == 0) {
                try {
                    finishInterruptedRebuild(base);
                    Path marker = sibling(base, ".in-use");
                    if (Files.exists(marker) && Files.exists(sibling(base, ".mv.db"))) {
                        Rebuild done = rebuildOrKeep(url, base, user, password, maxConnections);
                        if (done == Rebuild.HELD_ELSEWHERE) {
                            return NOTHING; // its marker, not ours
                        }
                        if (done == Rebuild.NOT_DONE) {
                            // what it holds is still there: the marker stays until a rebuild is done
                            KEPT.putIfAbsent(base, "not rebuilt at its start");
                        }
                    }
                    mark(marker);
                } catch (IOException e) {
                    throw new LedgerException("Could not check or mark the H2 database " + base + ": " + e.getMessage());
                }
            }
            OPEN.put(base, pools + 1);
        }
        return new Release() {
            @Override
            public void keep(String why) {
                synchronized (OPEN) {
                    KEPT.putIfAbsent(base, why);
                }
            }

            @Override
            public void close() {
                synchronized (OPEN) {
                    int left = OPEN.merge(base, -1, Integer::sum);
                    if (left > 0) {
                        return;
                    }
                    OPEN.remove(base);
                    String kept = KEPT.remove(base);
                    if (kept != null) {
                        LOG.warn("The H2 database {} is left as a killed process leaves it ({}): the next start"
                                + " tries to rebuild it", sibling(base, ".mv.db"), kept);
                        return;
                    }
                    try {
                        Files.deleteIfExists(sibling(base, ".in-use"));
                    } catch (IOException e) {
                        LOG.warn("Could not remove {} after closing the database: the next start rebuilds it ({})",
                                sibling(base, ".in-use"), e.getMessage());
                    }
                }
            }
        };
    }

    /**
     * The database's path without H2's {@code .mv.db}, absolute, for a URL naming a file by path on
     * the default or the {@code async:} file system; empty for anything else (memory, a server,
     * other file systems).
     */
    static Optional<Path> databasePath(String url) {
        if (url == null || !url.startsWith(PREFIX)) {
            return Optional.empty();
        }
        String rest = url.substring(PREFIX.length());
        int settings = rest.indexOf(';');
        String name = settings < 0 ? rest : rest.substring(0, settings);
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.startsWith("file:")) {
            name = name.substring("file:".length());
        } else if (lower.startsWith("async:")) {
            name = name.substring("async:".length());
        }
        Path path;
        if (name.startsWith("~/") || name.startsWith("~\\")) {
            path = Path.of(System.getProperty("user.home"), name.substring(2));
        } else if (H2FileUrls.namesAPath(name) && !name.startsWith("~")) {
            path = Path.of(name);
        } else {
            return Optional.empty();
        }
        // one key however the URL spells it: a second spelling must not take the file for left open
        return Optional.of(path.toAbsolutePath().normalize());
    }

    /** What {@link #rebuildOrKeep} did. */
    private enum Rebuild { DONE, NOT_DONE, HELD_ELSEWHERE }

    /** The marker, on disk before the database is used (a power cut must not take it away). */
    private static void mark(Path marker) throws IOException {
        Path folder = marker.toAbsolutePath().getParent();
        Files.createDirectories(folder);
        try (java.nio.channels.FileChannel out = java.nio.channels.FileChannel.open(marker,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE,
                java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
            out.write(java.nio.ByteBuffer.wrap(("open since " + java.time.Instant.now() + "\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
            out.force(true);
        }
        try (java.nio.channels.FileChannel dir = java.nio.channels.FileChannel.open(folder,
                java.nio.file.StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            // a file system whose folders cannot be opened so: the file itself is on disk
        }
    }

    /**
     * A rebuild that cannot be done (no room for the copy, say) leaves the file as it was, to be
     * opened so, as before there were rebuilds (the marker stays, so a later start tries again); a
     * file H2 cannot read at all refuses the pool then.
     */
    private static Rebuild rebuildOrKeep(String url, Path base, String user, String password, int maxConnections)
            throws IOException {
        Path db = sibling(base, ".mv.db");
        long needed = Files.size(db) + (64L << 20);
        long free = Files.getFileStore(db).getUsableSpace();
        if (free < needed) {
            LOG.warn("The H2 database {} was not closed when it was last open, and is opened as it is: a rebuild needs"
                    + " about {} MB free beside it, {} MB are", db, needed >> 20, free >> 20);
            return Rebuild.NOT_DONE;
        }
        try {
            return rebuild(url, base, user, password, maxConnections) ? Rebuild.DONE : Rebuild.HELD_ELSEWHERE;
        } catch (IOException | RuntimeException e) {
            finishInterruptedRebuild(base);
            LOG.warn("Could not rebuild the H2 database {} ({}): opened as it is", sibling(base, ".mv.db"),
                    e instanceof LedgerException || e instanceof IOException ? e.getMessage()
                            : e.getClass().getSimpleName());
            return Rebuild.NOT_DONE;
        }
    }

    /** @return false when another process holds the file (nothing was done) */
    private static boolean rebuild(String url, Path base, String user, String password, int maxConnections)
            throws IOException {
        Path db = sibling(base, ".mv.db");
        Path rebuiltBase = sibling(base, "-rebuilt");
        Path rebuilt = sibling(rebuiltBase, ".mv.db");
        LOG.warn("The H2 database {} was not closed when it was last open (its process killed, the power lost):"
                + " rebuilding it from its rows before it is used", db);
        long start = System.nanoTime();
        discard(rebuilt);
        List<Connection> held = new ArrayList<>();
        try {
            // H2 numbers each transaction with the lowest number free, from 1: every number the killed
            // process can have used is taken by a transaction held open here, so the reading one
            // gets a number of its own and reads every change left without its undo record as not
            // made, as H2's own writes take it. (SCRIPT would not do: it copies such changes as made.)
            // (several kills' worth may be there, made under a larger pool than today's: a margin)
            String oldUrl = H2FileUrls.forLedger(ownFileOnly(url));
            for (int i = 0; i < Math.max(512, 4 * maxConnections + 16); i++) {
                Connection c = DriverManager.getConnection(oldUrl, user, password);
                held.add(c);
                c.setAutoCommit(false);
                try (Statement st = c.createStatement()) {
                    st.execute("SELECT 1");
                }
            }
            Connection reader = DriverManager.getConnection(oldUrl, user, password);
            held.add(reader);
            // committed values only (a URL's LOCK_MODE=0 would read uncommitted ones), row by row
            // (H2 would otherwise hold a whole table's result, and put what does not fit in memory
            // in a file of its own in the temporary folder)
            reader.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
            reader.setAutoCommit(false);
            try (Statement st = reader.createStatement()) {
                st.execute("SET LAZY_QUERY_EXECUTION TRUE");
            }
            try (Connection writer = DriverManager.getConnection(
                    H2FileUrls.forLedger(ownFileOnly(rebuiltUrl(url, rebuiltBase))), user, password)) {
                copy(reader, writer);
                try (Statement st = writer.createStatement()) {
                    st.execute("SHUTDOWN");
                }
            } catch (SQLException e) {
                discard(rebuilt);
                // not H2's message: it may quote the statement that failed, a row's values with it
                throw new LedgerException("Could not rebuild the H2 database " + db + ": " + brief(e));
            }
            try (Statement st = reader.createStatement()) {
                st.execute("SHUTDOWN");
            }
        } catch (SQLException e) {
            if (e.getErrorCode() == ALREADY_OPEN) {
                LOG.warn("The H2 database {} is held by another process: not rebuilt", db);
                return false;
            }
            throw new LedgerException("Could not read the H2 database " + db + " to rebuild it: " + brief(e));
        } finally {
            for (Connection c : held) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // closed by the SHUTDOWN
                }
            }
        }
        // the old file steps aside before the new one takes its name: a stop in between is finished
        // at the next start (finishInterruptedRebuild)
        Path old = sibling(base, ".mv.db.before-rebuild");
        Files.move(db, old, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.move(rebuilt, db, StandardCopyOption.ATOMIC_MOVE);
        discard(old);
        LOG.info("Rebuilt the H2 database {} in {} ms", db, (System.nanoTime() - start) / 1_000_000);
        return true;
    }

    /** The table's columns that hold values of their own (not generated), quoted, in their order. */
    private static List<String> storedColumns(Connection reader, String schema, String table) throws SQLException {
        List<String> columns = new ArrayList<>();
        try (PreparedStatement ps = reader.prepareStatement("SELECT COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS"
                + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND IS_GENERATED = 'NEVER' ORDER BY ORDINAL_POSITION")) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(quotedName(rs.getString(1)));
                }
            }
        }
        return columns;
    }

    /**
     * The database's definitions (tables, indexes, constraints, users; {@code SCRIPT NODATA}), then
     * every table's rows as {@code reader} reads them, into the new database {@code writer} opened.
     */
    private static void copy(Connection reader, Connection writer) throws SQLException {
        List<String> definitions = new ArrayList<>();
        try (Statement st = reader.createStatement(); ResultSet rs = st.executeQuery("SCRIPT NODATA")) {
            while (rs.next()) {
                String sql = rs.getString(1);
                if (!sql.startsWith("--")) { // the row-count notes
                    definitions.add(sql);
                }
            }
        }
        List<String[]> tables = new ArrayList<>();
        try (Statement st = reader.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT TABLE_SCHEMA, TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_TYPE = 'BASE TABLE'"
                        + " AND TABLE_SCHEMA <> 'INFORMATION_SCHEMA'")) {
            while (rs.next()) {
                tables.add(new String[] {rs.getString(1), rs.getString(2)});
            }
        }
        writer.setAutoCommit(false);
        try (Statement st = writer.createStatement()) {
            for (String sql : definitions) {
                st.execute(sql);
            }
            st.execute("SET REFERENTIAL_INTEGRITY FALSE"); // rows come table by table
        }
        for (String[] name : tables) {
            String table = quotedName(name[0]) + "." + quotedName(name[1]);
            // a generated column (ktp_submission.source_ref_tail) takes no value: the new database computes it
            String columnList = String.join(", ", storedColumns(reader, name[0], name[1]));
            try (Statement st = reader.createStatement();
                 ResultSet rows = st.executeQuery("SELECT " + columnList + " FROM " + table)) {
                int columns = rows.getMetaData().getColumnCount();
                try (PreparedStatement insert = writer.prepareStatement("INSERT INTO " + table + " (" + columnList
                        + ") OVERRIDING SYSTEM VALUE VALUES (" + String.join(", ", java.util.Collections.nCopies(columns,
                        "?")) + ")")) {
                    int batch = 0;
                    long bytes = 0;
                    while (rows.next()) {
                        for (int i = 1; i <= columns; i++) {
                            Object value = rows.getObject(i);
                            insert.setObject(i, value);
                            bytes += value instanceof String text ? 2L * text.length()
                                    : value instanceof byte[] data ? data.length : 16;
                        }
                        insert.addBatch();
                        // a few MB at a time (result documents are large), each committed at once
                        if (++batch == 500 || bytes > (8L << 20)) {
                            insert.executeBatch();
                            writer.commit();
                            batch = 0;
                            bytes = 0;
                        }
                    }
                    if (batch > 0) {
                        insert.executeBatch();
                    }
                }
            }
            writer.commit();
        }
        try (Statement st = writer.createStatement()) {
            st.execute("SET REFERENTIAL_INTEGRITY TRUE");
        }
        writer.commit();
    }

    private static String quotedName(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    /**
     * The URL of the new file: the same settings (a cipher, say), but none that would have the new
     * file refused or filled before the rows come (IFEXISTS, INIT, SCHEMA).
     */
    static String rebuiltUrl(String url, Path rebuiltBase) {
        StringBuilder out = new StringBuilder(PREFIX + "file:" + rebuiltBase.toString().replace('\\', '/'));
        int settings = url.indexOf(';');
        if (settings >= 0) {
            for (String setting : url.substring(settings + 1).split(";")) {
                String name = setting.split("=", 2)[0].trim().toUpperCase(Locale.ROOT);
                if (!setting.isBlank() && !List.of("IFEXISTS", "INIT", "SCHEMA").contains(name)) {
                    out.append(';').append(setting);
                }
            }
        }
        return out.toString();
    }

    /**
     * The URL without settings that would let the rebuild reach a database another process holds
     * ({@code AUTO_SERVER}: through that process's server; {@code FILE_LOCK}: without the lock).
     */
    static String ownFileOnly(String url) {
        int settings = url.indexOf(';');
        if (settings < 0) {
            return url;
        }
        StringBuilder out = new StringBuilder(url.substring(0, settings));
        for (String setting : url.substring(settings + 1).split(";")) {
            String name = setting.split("=", 2)[0].trim().toUpperCase(Locale.ROOT);
            if (!setting.isBlank() && !List.of("AUTO_SERVER", "AUTO_SERVER_PORT", "FILE_LOCK").contains(name)) {
                out.append(';').append(setting);
            }
        }
        return out.toString();
    }

    /** H2's error code and SQL state, not its message, which may quote a statement and its values. */
    private static String brief(SQLException e) {
        return "H2 error " + e.getErrorCode() + ", SQL state " + e.getSQLState();
    }

    /** Puts a file back in place when a rebuild was stopped while the two files swapped names. */
    private static void finishInterruptedRebuild(Path base) throws IOException {
        Path db = sibling(base, ".mv.db");
        Path old = sibling(base, ".mv.db.before-rebuild");
        Path rebuilt = sibling(sibling(base, "-rebuilt"), ".mv.db");
        if (!Files.exists(db) && Files.exists(old)) {
            // stopped between the two moves: the rebuilt file is whole (it was shut down before them)
            Files.move(Files.exists(rebuilt) ? rebuilt : old, db, StandardCopyOption.ATOMIC_MOVE);
        }
        if (Files.exists(db)) {
            discard(old);
            discard(rebuilt);
        }
    }

    /** Left-overs of a rebuild: one that cannot be removed is in the way of the next rebuild only. */
    private static void discard(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.warn("Could not remove {} ({})", p, e.getMessage());
        }
    }

    private static Path sibling(Path base, String suffix) {
        return base.resolveSibling(base.getFileName() + suffix);
    }

    private static String quoted(Path p) {
        return p.toAbsolutePath().toString().replace('\\', '/').replace("'", "''");
    }
}

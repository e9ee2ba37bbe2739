package id.ktpbridge.ledger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
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
 * and ended it FAILED). Rebuilt from its rows ({@code SCRIPT}, then {@code RUNSCRIPT} into a new
 * file that takes the old one's place) each row is as the rebuild read it, and every index is made
 * anew from the rows. Only changes that were never flushed are at stake, as after any kill.
 * <p>
 * A file left open is known by a marker beside it ({@code <name>.in-use}), made when the first pool
 * of the process opens it and removed once the last one has closed it. A file another process
 * holds (H2's file lock) is left to refuse the pool as before.
 */
final class H2UncleanStop {

    private static final Logger LOG = LoggerFactory.getLogger(H2UncleanStop.class);
    private static final String PREFIX = "jdbc:h2:";
    /** H2's "Database may be already in use": another process holds the file. */
    private static final int ALREADY_OPEN = 90020;
    /** Pools of this process per database, so a second pool on one file does not take it for left open. */
    private static final Map<Path, Integer> OPEN = new HashMap<>();

    private H2UncleanStop() {
    }

    /** Undoes {@link #opening}: the marker goes with the last pool of the process on the file. */
    interface Release extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Called before a pool opens {@code url}: rebuilds the file when it was left open, and marks it
     * open until the returned release is closed (after the pool). Any URL that is not an H2 file of
     * this process's own is left alone.
     */
    static Release opening(String url, String user, String password) {
        Optional<Path> named = databasePath(url);
        if (named.isEmpty()) {
            return () -> { };
        }
        Path base = named.get();
        synchronized (OPEN) {
            int pools = OPEN.getOrDefault(base, 0);
            if (pools == 0) {
                try {
                    finishInterruptedRebuild(base);
                    Path marker = sibling(base, ".in-use");
                    if (Files.exists(marker) && Files.exists(sibling(base, ".mv.db"))
                            && !rebuildOrKeep(url, base, user, password)) {
                        return () -> { }; // held by another process: its marker, not ours
                    }
                    Files.createDirectories(marker.toAbsolutePath().getParent());
                    Files.writeString(marker, "open since " + java.time.Instant.now() + "\n");
                } catch (IOException e) {
                    throw new LedgerException("Could not check or mark the H2 database " + base + ": " + e.getMessage());
                }
            }
            OPEN.put(base, pools + 1);
        }
        return () -> {
            synchronized (OPEN) {
                int left = OPEN.merge(base, -1, Integer::sum);
                if (left <= 0) {
                    OPEN.remove(base);
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
     * The database's path without H2's {@code .mv.db}, for a URL naming a file by path on the
     * default or the {@code async:} file system; empty for anything else (memory, a server, other
     * file systems).
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
        if (name.startsWith("~/") || name.startsWith("~\\")) {
            return Optional.of(Path.of(System.getProperty("user.home"), name.substring(2)));
        }
        if (name.startsWith("/") || name.startsWith("./") || name.matches("(?s)[A-Za-z]:[/\\\\].*")) {
            return Optional.of(Path.of(name));
        }
        return Optional.empty();
    }

    /**
     * A rebuild that cannot be done (no room for the copy, say) leaves the file as it was, to be
     * opened so, as before there were rebuilds; a file H2 cannot read at all refuses the pool then.
     *
     * @return false when another process holds the file (nothing was done)
     */
    private static boolean rebuildOrKeep(String url, Path base, String user, String password) throws IOException {
        try {
            return rebuild(url, base, user, password);
        } catch (LedgerException | IOException e) {
            finishInterruptedRebuild(base);
            LOG.warn("Could not rebuild the H2 database {} ({}): opened as it is", sibling(base, ".mv.db"),
                    e.getMessage());
            return true;
        }
    }

    /** @return false when another process holds the file (nothing was done) */
    private static boolean rebuild(String url, Path base, String user, String password) throws IOException {
        Path db = sibling(base, ".mv.db");
        Path script = sibling(base, ".rebuild.sql.gz");
        Path rebuiltBase = sibling(base, "-rebuilt");
        Path rebuilt = sibling(rebuiltBase, ".mv.db");
        LOG.warn("The H2 database {} was not closed when it was last open (its process killed, the power lost):"
                + " rebuilding it from its rows before it is used", db);
        long start = System.nanoTime();
        try (Connection c = DriverManager.getConnection(H2FileUrls.forLedger(url), user, password);
             Statement st = c.createStatement()) {
            st.execute("SCRIPT TO '" + quoted(script) + "' COMPRESSION GZIP");
            st.execute("SHUTDOWN");
        } catch (SQLException e) {
            if (e.getErrorCode() == ALREADY_OPEN) {
                LOG.warn("The H2 database {} is held by another process: not rebuilt", db);
                return false;
            }
            throw new LedgerException("Could not read the H2 database " + db + " to rebuild it: " + e.getMessage());
        }
        discard(rebuilt);
        // the same settings (a cipher, say) for the new file
        String rebuiltUrl = PREFIX + "file:" + rebuiltBase.toAbsolutePath().toString().replace('\\', '/')
                + (url.indexOf(';') < 0 ? "" : url.substring(url.indexOf(';')));
        try (Connection c = DriverManager.getConnection(H2FileUrls.forLedger(rebuiltUrl), user, password);
             Statement st = c.createStatement()) {
            st.execute("RUNSCRIPT FROM '" + quoted(script) + "' COMPRESSION GZIP");
            st.execute("SHUTDOWN");
        } catch (SQLException e) {
            discard(rebuilt);
            throw new LedgerException("Could not rebuild the H2 database " + db + ": " + e.getMessage());
        }
        // the old file steps aside before the new one takes its name: a stop in between is finished
        // at the next start (finishInterruptedRebuild)
        Path old = sibling(base, ".mv.db.before-rebuild");
        Files.move(db, old, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.move(rebuilt, db, StandardCopyOption.ATOMIC_MOVE);
        discard(old);
        discard(script);
        LOG.info("Rebuilt the H2 database {} in {} ms", db, (System.nanoTime() - start) / 1_000_000);
        return true;
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
            discard(sibling(base, ".rebuild.sql.gz"));
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

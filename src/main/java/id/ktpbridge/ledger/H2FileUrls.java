package id.ktpbridge.ledger;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Two settings every H2 database file the bundle opens gets, whoever wrote its URL.
 *
 * <ul>
 * <li>H2's {@code async:} file system. H2's default one uses a {@code FileChannel}, which the JDK
 * closes when the thread using it is interrupted; H2 then fails every later statement and drops
 * the commits it had not yet written to the file. Camel interrupts the threads still working when
 * a stop runs out of time. The {@code async:} file system does its reads, writes and syncs on
 * threads nobody interrupts, and keeps the caller's interrupt flag set.</li>
 * <li>{@code MAX_COMPACT_TIME=0}: no compaction when the database closes. H2 2.3.232 wrote its last
 * commit before that compaction, which could then drop it: commits made in the seconds before any
 * stop, checkpointed ones included, were gone at the next start (H2 issue 4247, fixed in 2.4.240;
 * {@code LedgerCloseTest}). Seen here first as a confirmed input back at RECEIVED after a stop, its
 * source file already let go.
 * The file's free space is still reused while it is open (RETENTION_TIME), so it does not grow
 * from stop to stop. A URL that sets MAX_COMPACT_TIME itself keeps its value.</li>
 * </ul>
 */
public final class H2FileUrls {

    private static final String PREFIX = "jdbc:h2:";
    /** Databases that are no file this process opens: left alone. */
    private static final List<String> NOT_A_LOCAL_FILE = List.of("mem:", "tcp:", "ssl:", "zip:");
    // a file database named by path, without a file system prefix
    private static final Pattern PATH = Pattern.compile("(?:[/\\\\~.]|[A-Za-z]:[/\\\\]).*", Pattern.DOTALL);

    private H2FileUrls() {
    }

    /**
     * The URL with the settings above when it names a file this process opens; a file system the
     * URL chose itself ({@code retry:}, {@code split:}, ...) is kept, and gets the second setting only.
     * Any other URL is returned unchanged.
     */
    /** Whether H2 takes {@code name} (a URL's database part, without a file system prefix) for a path. */
    static boolean namesAPath(String name) {
        return PATH.matcher(name).matches();
    }

    /**
     * Whether two H2 URLs name the same local database file (however each spells its path); false
     * for anything else (memory, a server, another database).
     */
    public static boolean sameLocalFile(String a, String b) {
        var first = H2UncleanStop.databasePath(a);
        return first.isPresent() && first.equals(H2UncleanStop.databasePath(b));
    }

    public static String forLedger(String url) {
        if (url == null || !url.startsWith(PREFIX)) {
            return url;
        }
        String rest = url.substring(PREFIX.length());
        String lower = rest.toLowerCase(Locale.ROOT);
        if (NOT_A_LOCAL_FILE.stream().anyMatch(lower::startsWith)) {
            return url;
        }
        if (lower.startsWith("file:")) {
            rest = "async:" + rest.substring("file:".length());
        } else if (PATH.matcher(rest).matches()) {
            rest = "async:" + rest;
        }
        if (!lower.contains(";max_compact_time=")) {
            rest += ";MAX_COMPACT_TIME=0";
        }
        return PREFIX + rest;
    }
}

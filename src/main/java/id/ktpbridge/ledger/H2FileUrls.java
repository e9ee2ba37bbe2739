package id.ktpbridge.ledger;

import java.util.regex.Pattern;

/**
 * Opens H2 database files through H2's {@code async:} file system. H2's default one uses a
 * {@code FileChannel}, which the JDK closes when the thread using it is interrupted; H2 then fails
 * every later statement and drops the commits it had not yet written to the file. Camel interrupts
 * the threads still working when a stop runs out of time, so a stop could lose a confirmed
 * submission whose input had already been let go. The {@code async:} file system does its reads,
 * writes and syncs on threads nobody interrupts, and keeps the caller's interrupt flag set.
 */
public final class H2FileUrls {

    private static final String PREFIX = "jdbc:h2:";
    // a file database named by path, with or without "file:"; every other form (mem:, tcp:, ssl:,
    // zip:, or a file system of the user's choice) is left alone
    private static final Pattern PATH = Pattern.compile("(?:[/\\\\~.]|[A-Za-z]:[/\\\\]).*", Pattern.DOTALL);

    private H2FileUrls() {
    }

    /** The same URL on the {@code async:} file system when it names an H2 file by path, else unchanged. */
    public static String interruptSafe(String url) {
        if (url == null || !url.startsWith(PREFIX)) {
            return url;
        }
        String rest = url.substring(PREFIX.length());
        if (rest.startsWith("file:")) {
            return PREFIX + "async:" + rest.substring("file:".length());
        }
        return PATH.matcher(rest).matches() ? PREFIX + "async:" + rest : url;
    }
}

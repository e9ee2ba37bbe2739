package id.ktpbridge;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Predicate;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an operator most often gets wrong, checked before anything starts, each refused with one
 * line naming the setting: folders that are files or cannot be written, a port another process
 * holds (the HTTP server would only log that and run on without callbacks), a value a route takes
 * in milliseconds only. Without these the bundle started, logged a stack trace or nothing, and a
 * batch run ended "successfully" with nothing done.
 */
final class StartupChecks {

    private static final Logger LOG = LoggerFactory.getLogger(StartupChecks.class);

    /** The width of the ledger's columns that name an instance (ktp_lease.holder, ktp_processed_input.owner). */
    static final int MAX_INSTANCE_ID = 128;

    private final Settings s;
    private final Predicate<Path> searchable;

    StartupChecks(Settings s) {
        this(s, Files::isExecutable);
    }

    /** @param searchable whether a folder's entries can be looked at; a seam for the tests, run as root */
    StartupChecks(Settings s, Predicate<Path> searchable) {
        this.s = s;
        this.searchable = searchable;
    }

    void run() {
        String placeholder = placeholder(System.getenv());
        if (placeholder != null) {
            throw new IllegalStateException("Environment variable " + placeholder + " still holds a REPLACE_ME"
                    + " placeholder (the shipped Kubernetes ConfigMap and Secret have them): set the real value");
        }
        writableFolder("ktp.data-dir");
        // with the file drop off nothing uses its folders: one this instance cannot reach does not matter
        if (s.flag("ktp.source.file.enabled", true)) {
            sourceFolder("ktp.source.dir", s.flag("ktp.exit-when-done", false));
            notAFile("ktp.source.done-dir");
            notAFile("ktp.source.failed-dir");
            notTheDropFolder("ktp.source.done-dir");
            notTheDropFolder("ktp.source.failed-dir");
        }
        boolean fileTarget = Arrays.stream(s.string("ktp.results.targets", "file").split(","))
                .map(t -> t.trim().toLowerCase(Locale.ROOT)).anyMatch("file"::equals);
        if (fileTarget) {
            writableFolder("ktp.results.dir");
        }
        // the SFTP and S3 sources take it too: named here, where it is set, and not by their own settings
        try {
            java.util.regex.Pattern.compile(s.string("ktp.source.include", ".*"));
        } catch (java.util.regex.PatternSyntaxException e) {
            throw refused("ktp.source.include", "not a valid regular expression (" + e.getDescription()
                    + "): write one, such as (?i).*\\.png, not a file pattern such as *.png");
        }
        // each checked where it is set, not where its route or resolver first compiles it
        for (String key : new String[] {"ktp.source.sftp.include", "ktp.source.user-id-pattern",
                "ktp.source.user-id-allowed", "ktp.source.user-id-type-allowed"}) {
            if (s.optional(key).isPresent()) {
                s.pattern(key, "", 0);
            }
        }
        // taken by routes as milliseconds: "1s" there would fail deep inside a route's start
        s.number("ktp.poll.interval", 1000);
        s.number("ktp.db.retry-delay", 500);
        if (s.number("ktp.source.max-size", 1) < 1) {
            throw refused("ktp.source.max-size", "must be at least 1 byte");
        }
        if (s.integer("ktp.concurrency", 1) < 1) {
            throw refused("ktp.concurrency", "must be at least 1");
        }
        // either at 0 and failed deliveries are never tried again (a timer of period 0 fires once)
        if (s.duration("ktp.results.retry.interval", java.time.Duration.ofSeconds(2)).toMillis() < 1) {
            throw refused("ktp.results.retry.interval", "must be more than 0");
        }
        if (s.integer("ktp.results.retry.batch-size", 100) < 1) {
            throw refused("ktp.results.retry.batch-size", "must be at least 1");
        }
        // at 0 a failed delivery is due again at once (negative values read as 0)
        java.time.Duration initialBackoff = s.duration("ktp.results.retry.initial-backoff",
                java.time.Duration.ofSeconds(2));
        if (initialBackoff.toMillis() < 1) {
            throw refused("ktp.results.retry.initial-backoff", "must be at least 1 ms");
        }
        if (s.duration("ktp.results.retry.max-backoff", java.time.Duration.ofMinutes(5)).compareTo(initialBackoff) < 0) {
            throw refused("ktp.results.retry.max-backoff", "must not be less than ktp.results.retry.initial-backoff ("
                    + initialBackoff.toMillis() + " ms)");
        }
        // at 0 every immediate attempt would count as hung, and each result wait for the retry schedule
        if (s.duration("ktp.results.immediate-attempt-wait", java.time.Duration.ofSeconds(30)).toMillis() < 1) {
            throw refused("ktp.results.immediate-attempt-wait", "must be more than 0");
        }
        // -1 reaches the driver, which refuses it at every delivery; Camel reads -5s as 0 (no limit):
        // neither is what the operator meant, and only 0 says "no limit"
        if (s.string("ktp.results.jdbc.statement-timeout", "").startsWith("-")) {
            throw refused("ktp.results.jdbc.statement-timeout", "must not be negative (0: no statement limit)");
        }
        // the ledger reading's schedule: at 0 the executor refuses it with a message naming no setting
        if (s.duration("ktp.management.ledger-refresh", java.time.Duration.ofSeconds(5)).toMillis() < 1) {
            throw refused("ktp.management.ledger-refresh", "must be at least 1 ms");
        }
        // at 0 (or a value Camel reads as 0) each breaks something unasked: claims stale at once (a
        // cluster takes inputs in hand twice) and the sweeps' timers fire once; retention's timer
        // fires once and personal data stays; every submission times out at its first poll; every
        // OneKYC call fails at once; the ledger is never polled, or every callback is refused 413
        for (String key : new String[] {"ktp.source.claim-ttl", "ktp.ledger.retention-interval", "ktp.poll.deadline",
                "gtf.http.connect-timeout", "gtf.http.read-timeout", "gtf.http.upload-timeout",
                "ktp.cluster.checkin-interval"}) {
            if (s.optional(key).isPresent() && s.duration(key, java.time.Duration.ZERO).toMillis() < 1) {
                throw refused(key, "must be more than 0");
            }
        }
        for (String key : new String[] {"ktp.poll.interval", "ktp.poll.batch-size", "ktp.source.batch-size",
                "ktp.callback.max-body-size", "ktp.callback.note-queue-size", "ktp.db.retry-delay"}) {
            if (s.optional(key).isPresent() && s.number(key, 1) < 1) {
                throw refused(key, "must be at least 1");
            }
        }
        // read by the routes only, where Camel takes a text it cannot read (2S, 30S) as 0: a scan or
        // listing loop without a pause, a progress timer that fires once. Read here as durations
        // (which refuses such a text), and a pause of 0 refused
        for (String key : new String[] {"ktp.source.poll-delay", "ktp.source.s3.poll-delay", "ktp.source.sftp.poll-delay",
                "ktp.source.sftp.oversize-poll-delay", "ktp.source.sftp.read-lock-check-interval", "ktp.progress.interval"}) {
            if (s.optional(key).isPresent() && s.duration(key, java.time.Duration.ZERO).toMillis() < 1) {
                throw refused(key, "must be more than 0");
            }
        }
        for (String key : new String[] {"ktp.source.read-lock-min-age", "ktp.source.sftp.read-lock-min-age",
                "ktp.source.sftp.read-lock-timeout", "ktp.source.sftp.connect-timeout", "ktp.source.claim-release-delay"}) {
            if (s.optional(key).isPresent()) {
                s.duration(key, java.time.Duration.ZERO);
            }
        }
        // a negative count reaches Camel's redelivery as "for ever"
        if (s.integer("ktp.db.retry-attempts", 0) < 0) {
            throw refused("ktp.db.retry-attempts", "must not be negative");
        }
        long spoolMemory = s.number("ktp.source.spool-memory-bytes", 0);
        if (spoolMemory < 0) {
            throw refused("ktp.source.spool-memory-bytes", "must not be negative (0: every copy in a spool file)");
        }
        // the copies live in the heap: past half of it the bundle's own work would run out of room
        long halfHeap = Runtime.getRuntime().maxMemory() / 2;
        if (spoolMemory > halfHeap) {
            throw refused("ktp.source.spool-memory-bytes", "must be at most half the heap (" + halfHeap
                    + " bytes here; KTP_HEAP sets the heap)");
        }
        notNegative("ktp.health.onekyc.probe-interval", "no probe");
        notNegative("ktp.source.empty-file-min-age", "empty files are taken at once");
        notNegative("ktp.source.file.broken-read-window", "5 failed reads in a row are enough");
        notNegative("ktp.source.s3.broken-read-window", "5 broken reads in a row are enough");
        notNegative("ktp.callback.request-timeout", "no limit");
        // a timer's negative delay fires its route in a loop, as fast as it can
        notNegative("ktp.source.sweep-first-delay", "the first sweep at start");
        notNegative("ktp.source.sftp.broken-read-window", "5 failed sidecar look-ups in a row are enough");
        instanceId();
        if (s.flag("camel.server.enabled", false)) {
            freePort("ktp.callback.port", "camel.server.port", s.string("camel.server.host", "0.0.0.0"));
        }
        if (s.flag("camel.management.enabled", false)) {
            freePort("ktp.management.port", "camel.management.port", s.string("camel.management.host", "0.0.0.0"));
        }
    }

    /**
     * The ledger keeps this instance's id in VARCHAR(128) columns (claim owners, lease holders): a
     * longer one started, and then every claim and lease failed (SQL state 22001).
     */
    private void instanceId() {
        String id = BridgeConfiguration.instanceId(s);
        int length = id.codePointCount(0, id.length());
        if (length <= MAX_INSTANCE_ID) {
            return;
        }
        String key = "ktp.cluster.instance-id";
        throw refused(key, s.optional(key).isPresent()
                ? "must be at most " + MAX_INSTANCE_ID + " characters (the ledger's columns), not " + length
                : "not set, and its default (the host name and a suffix of 9 characters) is " + length
                        + " characters long: set one of at most " + MAX_INSTANCE_ID);
    }

    /** The first bundle variable ({@code KTP_*}, {@code GTF_*}) whose value is a REPLACE_ME placeholder, or null. */
    static String placeholder(java.util.Map<String, String> env) {
        return env.entrySet().stream()
                .filter(e -> (e.getKey().startsWith("KTP_") || e.getKey().startsWith("GTF_"))
                        && e.getValue() != null && e.getValue().startsWith("REPLACE_ME"))
                .map(java.util.Map.Entry::getKey).sorted().findFirst().orElse(null);
    }

    private void writableFolder(String key) {
        Path dir = s.path(key);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw refused(key, dir + " cannot be made a folder (" + e.getClass().getSimpleName() + ")");
        }
        if (!Files.isWritable(dir)) {
            throw refused(key, dir + " is not writable");
        }
    }

    /**
     * The drop folder: made when missing (a typo would then go unseen, so a batch run says so). One
     * that cannot be made is refused: Camel's consumer only warned and polled nothing, and a batch
     * ended "Inputs: 0" with exit 0.
     */
    private void sourceFolder(String key, boolean batch) {
        Path dir = s.path(key);
        if (!Files.exists(dir)) {
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw refused(key, dir + " cannot be made a folder (" + e.getClass().getSimpleName() + ")");
            }
            if (batch) {
                LOG.warn("Setting '{}' ({}): {} did not exist; it was made empty, and this batch has nothing to do",
                        key, Settings.envName(key), dir);
            }
        }
        if (!Files.isDirectory(dir)) {
            throw refused(key, dir + " is a file, not a folder");
        }
        if (!Files.isReadable(dir) || !Files.isWritable(dir)) {
            throw refused(key, dir + " cannot be read and written (inputs are moved out of it)");
        }
        // read without search (mode 600): its files are listed, but none can be looked at, opened or moved
        if (!searchable.test(dir)) {
            throw refused(key, dir + " cannot be searched (its x permission): its files would be listed but"
                    + " could not be opened");
        }
    }

    /**
     * A folder the sources make when they first need it. One that refuses files is not refused here:
     * a move it refuses is handled as it comes (the file stays, named by its ledger id in an ERROR
     * line), as it would be for a folder that turns read-only later.
     */
    private void notAFile(String key) {
        Path dir = s.path(key);
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw refused(key, dir + " is a file, not a folder");
        }
    }

    /**
     * A done or failed folder that is the drop folder itself: each file moved there would be taken
     * again as a new input, for ever (a rejected one rejected again, a submitted one rejected as a
     * duplicate or, without the content check, submitted again). A sub-folder is fine: the drop
     * folder is not read recursively.
     */
    private void notTheDropFolder(String key) {
        Path dir = s.path(key).toAbsolutePath().normalize();
        Path source = s.path("ktp.source.dir").toAbsolutePath().normalize();
        boolean same = dir.equals(source);
        if (!same && Files.isDirectory(dir) && Files.isDirectory(source)) {
            try {
                // the same folder by another path: a link, a bind mount
                same = Files.isSameFile(dir, source);
            } catch (IOException e) {
                same = false;
            }
        }
        if (same) {
            throw refused(key, dir + " is the drop folder (ktp.source.dir) itself: the files moved there would be"
                    + " taken again; use a folder of its own, such as a sub-folder of it");
        }
    }

    /**
     * The port the server binds ({@code boundKey}, which the bundled properties set to {@code key}),
     * named by {@code key} unless {@code boundKey} was set to another port itself.
     */
    private void freePort(String key, String boundKey, String host) {
        int port = s.integer(boundKey, s.integer(key, 0));
        if (port != s.integer(key, 0)) {
            key = boundKey;
        }
        if (port < 0 || port > 65535) {
            throw refused(key, port + " is not a port (1-65535, or 0 for any free one)");
        }
        if (port == 0) {
            return; // any free one, as the launcher's training start asks
        }
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(host, port));
        } catch (IOException e) {
            throw refused(key, "port " + port + " on " + host + " is in use by another process ("
                    + e.getClass().getSimpleName() + ")");
        }
    }

    /**
     * A duration setting whose 0 means something of its own: Camel reads a negative one (-5s) as
     * 0, which would mean it unasked; refused, as one that does not read.
     */
    private void notNegative(String key, String zeroMeans) {
        if (s.string(key, "").startsWith("-")) {
            throw refused(key, "must not be negative (0: " + zeroMeans + ")");
        }
        s.duration(key, java.time.Duration.ofMinutes(1));
    }

    private static IllegalStateException refused(String key, String why) {
        return new IllegalStateException("Setting '" + key + "' (" + Settings.envName(key) + "): " + why);
    }
}

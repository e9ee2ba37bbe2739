package id.ktpbridge.ingest;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

import org.apache.camel.Exchange;

/**
 * The name a file of the drop folder (an image or its sidecar) takes in the done or failed folder:
 * its own, or {@code <ledger id>-<name>} beside a file of that name already there (a scanner that
 * numbers its images anew each day), or beside its sidecar's name ({@code u1.jpg} after
 * {@code u1.png}: the same {@code u1.json}). A move would replace the earlier file. Decided once
 * per input and folder, so image and sidecar go in under the same name. A name that would not fit
 * a file system's 255 bytes (in the failed folder with its report's {@code .error.json}) goes in
 * aside too, its part before the extension shortened to fit: the ledger id keeps it apart.
 */
public final class PlacedName {

    /** The longest file name, in bytes, that Linux file systems take (NAME_MAX). */
    static final int NAME_MAX = 255;
    private static final String SIDECAR_EXTENSION = ".json";
    /** What the failed folder adds to a quarantined input's name for its report (FileQuarantine). */
    static final String REPORT_SUFFIX = ".error.json";

    /** Exchange property: the file name of the input's sidecar, when it has one. */
    static final String SIDECAR = "KtpPlacedSidecar";
    /**
     * Exchange property: the aside decisions by folder, in an object of their own. Camel's move
     * expression runs on a copy of the exchange, which shares this object (not a property set on
     * it later), so the image's move and its sidecar's, whichever comes first, decide once.
     */
    private static final String DECISIONS = "KtpPlacements";

    private final Path dir;
    /** Exchange property: whether the input goes in beside a file of the same name in {@link #dir}. */
    private final String asideProperty;
    /** The bytes a name may have in {@link #dir}: fewer in the failed folder, which adds a report. */
    private final int maxName;

    private PlacedName(Path dir, String asideProperty, int maxName) {
        this.dir = dir;
        this.asideProperty = asideProperty;
        this.maxName = maxName;
    }

    public static PlacedName done(Path doneDir) {
        return new PlacedName(doneDir, "KtpDoneAside", NAME_MAX);
    }

    public static PlacedName failed(Path failedDir) {
        return new PlacedName(failedDir, "KtpFailedAside", maxName(true));
    }

    /** Camel bean method, the file consumer's {@code move} expression: the done path of the input's file. */
    public String target(Exchange exchange) {
        return path(exchange, exchange.getMessage().getHeader(Exchange.FILE_NAME, String.class)).toString();
    }

    /** Where {@code fileName} (the image's or its sidecar's) goes in the folder. */
    Path path(Exchange exchange, String fileName) {
        return dir.resolve(aside(exchange)
                ? fitted(Settlement.asideName(exchange, fileName), maxName) : fileName);
    }

    /**
     * The most bytes an input's name may have in a done ({@code failedFolder} false) or failed
     * folder, which adds the report's {@code .error.json} to it; for remote sources too.
     */
    public static int maxName(boolean failedFolder) {
        return failedFolder ? NAME_MAX - REPORT_SUFFIX.length() : NAME_MAX;
    }

    /** Whether {@code name} has more than {@code max} bytes in UTF-8. */
    public static boolean tooLong(String name, int max) {
        return utf8Length(name) > max;
    }

    /**
     * {@code name}, or when it has more than {@code max} bytes in UTF-8, its part before the
     * extension cut (between characters) so that it has no more.
     */
    public static String fitted(String name, int max) {
        if (utf8Length(name) <= max) {
            return name;
        }
        int dot = name.lastIndexOf('.');
        // a part after the last dot as long as half the room is no extension to keep
        String extension = dot > 0 && utf8Length(name.substring(dot)) < max / 2 ? name.substring(dot) : "";
        // the same room for an image and its sidecar (".json"), so both keep the same cut name
        int room = max - Math.max(utf8Length(extension), SIDECAR_EXTENSION.length());
        int end = 0;
        int used = 0;
        while (end < name.length() - extension.length()) {
            int c = name.codePointAt(end);
            used += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
            if (used > room) {
                break;
            }
            end += Character.charCount(c);
        }
        return name.substring(0, end) + extension;
    }

    private static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    private boolean aside(Exchange exchange) {
        Boolean known = decided(exchange, asideProperty);
        if (known == null) {
            String image = exchange.getMessage().getHeader(Exchange.FILE_NAME_ONLY, String.class);
            String sidecar = exchange.getProperty(SIDECAR, String.class);
            known = image != null && (taken(image) || tooLong(image))
                    || sidecar != null && (taken(sidecar) || tooLong(sidecar));
            decide(exchange, asideProperty, known);
        }
        return known;
    }

    /** Called before the exchange is ever copied: from then on its copies share the decisions. */
    public static void shareDecisions(Exchange exchange) {
        exchange.setProperty(DECISIONS, new java.util.concurrent.ConcurrentHashMap<String, Boolean>());
    }

    /** The aside decision {@code key} made for this input, or null. */
    public static Boolean decided(Exchange exchange, String key) {
        java.util.Map<?, ?> shared = exchange.getProperty(DECISIONS, java.util.Map.class);
        Object value = shared != null ? shared.get(key) : exchange.getProperty(key);
        return value instanceof Boolean b ? b : null;
    }

    public static void decide(Exchange exchange, String key, boolean aside) {
        @SuppressWarnings("unchecked")
        java.util.Map<String, Boolean> shared = exchange.getProperty(DECISIONS, java.util.Map.class);
        if (shared != null) {
            shared.put(key, aside);
        } else {
            exchange.setProperty(key, aside);
        }
    }

    private boolean taken(String name) {
        return Files.exists(dir.resolve(name), LinkOption.NOFOLLOW_LINKS);
    }

    private boolean tooLong(String name) {
        return tooLong(name, maxName);
    }
}

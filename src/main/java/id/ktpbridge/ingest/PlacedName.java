package id.ktpbridge.ingest;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

import org.apache.camel.Exchange;

/**
 * The name a file of the drop folder (an image or its sidecar) takes in the done or failed folder:
 * its own, or {@code <ledger id>-<name>} beside a file of that name already there (a scanner that
 * numbers its images anew each day), or beside its sidecar's name ({@code u1.jpg} after
 * {@code u1.png}: the same {@code u1.json}). A move would replace the earlier file. Decided once
 * per input and folder, so image and sidecar go in under the same name.
 */
public final class PlacedName {

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

    private PlacedName(Path dir, String asideProperty) {
        this.dir = dir;
        this.asideProperty = asideProperty;
    }

    public static PlacedName done(Path doneDir) {
        return new PlacedName(doneDir, "KtpDoneAside");
    }

    public static PlacedName failed(Path failedDir) {
        return new PlacedName(failedDir, "KtpFailedAside");
    }

    /** Camel bean method, the file consumer's {@code move} expression: the done path of the input's file. */
    public String target(Exchange exchange) {
        return path(exchange, exchange.getMessage().getHeader(Exchange.FILE_NAME, String.class)).toString();
    }

    /** Where {@code fileName} (the image's or its sidecar's) goes in the folder. */
    Path path(Exchange exchange, String fileName) {
        return dir.resolve(aside(exchange)
                ? Settlement.asideName(exchange, fileName) : fileName);
    }

    private boolean aside(Exchange exchange) {
        Boolean known = decided(exchange, asideProperty);
        if (known == null) {
            String image = exchange.getMessage().getHeader(Exchange.FILE_NAME_ONLY, String.class);
            String sidecar = exchange.getProperty(SIDECAR, String.class);
            known = image != null && taken(image) || sidecar != null && taken(sidecar);
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
}

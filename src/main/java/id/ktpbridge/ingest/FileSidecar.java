package id.ktpbridge.ingest;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Exchange;
import org.apache.camel.support.SynchronizationAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The optional {@code <base>.json} next to a dropped image: {@code partnerUserId},
 * {@code partnerUserIdType} and {@code metadata} override the name rules. A broken sidecar is
 * reported through {@link InputHeaders#SIDECAR_ERROR} so the image is rejected with a reason; one
 * that could not be read for a passing reason leaves its image for another try ({@link #readFailed}).
 * The sidecar follows its image to the done or failed folder. {@link #apply} holds the rules for
 * every source that has sidecars (the SFTP source reads its sidecars remotely and applies them here).
 */
public class FileSidecar {

    private static final Logger LOG = LoggerFactory.getLogger(FileSidecar.class);
    /** Largest sidecar accepted, in bytes; a larger one makes its image rejected. */
    public static final long MAX_SIDECAR_BYTES = 64 * 1024;
    /** The {@link InputHeaders#SIDECAR_ERROR} text of a sidecar larger than {@link #MAX_SIDECAR_BYTES}. */
    public static final String TOO_LARGE = "the sidecar is larger than 64 KB";
    /** The {@link InputHeaders#SIDECAR_ERROR} text of a sidecar that is a symbolic link (never followed). */
    public static final String SYMBOLIC_LINK = "the sidecar is a symbolic link";
    private static final String NOT_JSON = "the sidecar is not valid JSON";
    private static final String NOT_AN_OBJECT = "the sidecar is not a JSON object";
    /** Reads of one image's sidecar that may fail in a row before the image is rejected (the SFTP source's too). */
    public static final int READ_TRIES = 5;
    /** The wait before an image whose sidecar could not be read goes back, times the failures in a row. */
    public static final java.time.Duration READ_RETRY_PAUSE = java.time.Duration.ofSeconds(1);

    private final ObjectMapper json;
    private final Path doneDir;
    private final Path failedDir;
    private final PlacedName doneName;
    private final PlacedName failedName;
    /** Images whose sidecar reads failed in a row, by the sidecar's path. */
    private volatile PassingFailures failedReads = new PassingFailures(READ_TRIES);
    private volatile java.time.Duration readWindow = java.time.Duration.ZERO;
    private volatile Opener opener = sidecar -> Files.newInputStream(sidecar, LinkOption.NOFOLLOW_LINKS);

    /** Opens a sidecar for reading: the file system, or in a test a disk that fails. */
    interface Opener {
        InputStream open(Path sidecar) throws IOException;
    }

    public FileSidecar(ObjectMapper json, Path doneDir, Path failedDir) {
        this.json = json;
        this.doneDir = doneDir;
        this.failedDir = failedDir;
        this.doneName = doneDir == null ? null : PlacedName.done(doneDir);
        this.failedName = failedDir == null ? null : PlacedName.failed(failedDir);
    }

    /** Camel bean method: reads the sidecar of the file in the exchange, if there is one. */
    public void read(Exchange exchange) {
        String absolute = exchange.getMessage().getHeader(Exchange.FILE_PATH, String.class);
        if (absolute == null) {
            return;
        }
        Path image = Path.of(absolute);
        // the name without its extension, nothing else: a backslash is a character of a local file's
        // name (a\b.jpg must not take b.json, another image's sidecar)
        Path sidecar = image.resolveSibling(PartnerUserResolver.withoutExtension(image.getFileName().toString())
                + ".json");
        if (Files.isSymbolicLink(sidecar)) {
            // a link can point anywhere on the host (another partner user's sidecar, say): never followed
            follow(exchange, sidecar);
            exchange.getMessage().setHeader(InputHeaders.SIDECAR_ERROR, SYMBOLIC_LINK);
            return;
        }
        if (!Files.isRegularFile(sidecar, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        follow(exchange, sidecar);
        // opened without following a link put in its place meanwhile, and read no further than the limit
        byte[] bytes;
        try (InputStream in = opener.open(sidecar)) {
            bytes = in.readNBytes((int) MAX_SIDECAR_BYTES + 1);
        } catch (IOException e) {
            readFailed(exchange, sidecar, e);
            return;
        }
        failedReads.passed(sidecar.toString());
        if (bytes.length > MAX_SIDECAR_BYTES) {
            exchange.getMessage().setHeader(InputHeaders.SIDECAR_ERROR, TOO_LARGE);
            return;
        }
        apply(exchange, new String(bytes, StandardCharsets.UTF_8));
    }

    /**
     * {@code ktp.source.file.broken-read-window}, as for the image's own reads: a sidecar's failed
     * reads reject its image only once they have gone on this long too.
     */
    public void readWindow(java.time.Duration window) {
        this.readWindow = window;
        this.failedReads = new PassingFailures(READ_TRIES, window, java.time.Clock.systemUTC());
    }

    /**
     * A sidecar the bundle may not read (permission denied) rejects its image at once: someone has
     * to mend it. Any other read error (a network mount's I/O error, a sidecar being replaced) is
     * taken for a passing one: the image stays in the drop folder with nothing recorded and is taken
     * again after a pause (1 s, then 2, 3 ... s), until {@link #READ_TRIES} reads in a row failed,
     * the last at least {@code ktp.source.file.broken-read-window} after the first; then it is
     * rejected too. Either way the message says the sidecar could not be read: an operator shown
     * "not valid JSON" would look at a file that is fine.
     */
    private void readFailed(Exchange exchange, Path sidecar, IOException e) {
        boolean refused = e instanceof java.nio.file.AccessDeniedException;
        String why = "the sidecar could not be read (" + (refused ? "permission denied" : FailureReport.safeMessage(e));
        int inARow = refused ? 0 : failedReads.failed(sidecar.toString());
        if (inARow == 0) {
            exchange.getMessage().setHeader(InputHeaders.SIDECAR_ERROR, why + (refused ? ")"
                    : readWindow.toMillis() > 0 ? ", at least " + READ_TRIES + " times in a row, over at least "
                            + readWindow.toSeconds() + " s)" : ", " + READ_TRIES + " times in a row)"));
            return;
        }
        exchange.getMessage().setHeader(InputHeaders.NOT_NOW, why + ")");
        // the listing leaves the image out for the pause (PausedFiles): neither the next scan, which
        // comes at once while files are found, nor a worker waiting it out with the claim held is spent on it
        exchange.getMessage().setHeader(InputHeaders.NOT_NOW_PAUSE, READ_RETRY_PAUSE.toMillis() * inARow);
    }

    /** Reads sidecars through {@code opener} from now on. */
    void opener(Opener opener) {
        this.opener = opener;
    }

    /**
     * The sidecar rules every source shares: parses {@code sidecarJson} and sets
     * {@link InputHeaders#PARTNER_USER_ID}, {@link InputHeaders#PARTNER_USER_ID_TYPE} and
     * {@link InputHeaders#METADATA} from it, or {@link InputHeaders#SIDECAR_ERROR} when it is unusable
     * (too large, not a JSON object, fields of the wrong type). Never throws for a bad sidecar.
     */
    public void apply(Exchange exchange, String sidecarJson) {
        if (sidecarJson == null) {
            exchange.getMessage().setHeader(InputHeaders.SIDECAR_ERROR, NOT_AN_OBJECT);
            return;
        }
        if (sidecarJson.length() > MAX_SIDECAR_BYTES) {
            exchange.getMessage().setHeader(InputHeaders.SIDECAR_ERROR, TOO_LARGE);
            return;
        }
        JsonNode node;
        try {
            // a byte-order mark (Windows editors write one) is no part of the JSON
            // strictly: a sidecar appended to ({"partnerUserId":"A"}{"partnerUserId":"B"}) or naming a
            // field twice does not say which person it means, and is no valid JSON document
            node = json.reader().with(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                    .with(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                    .readTree(sidecarJson.startsWith("\uFEFF") ? sidecarJson.substring(1) : sidecarJson);
        } catch (IOException e) {
            exchange.getMessage().setHeader(InputHeaders.SIDECAR_ERROR, NOT_JSON);
            return;
        }
        if (node == null || !node.isObject()) {
            exchange.getMessage().setHeader(InputHeaders.SIDECAR_ERROR, NOT_AN_OBJECT);
            return;
        }
        text(node, "partnerUserId", exchange, InputHeaders.PARTNER_USER_ID);
        text(node, "partnerUserIdType", exchange, InputHeaders.PARTNER_USER_ID_TYPE);
        JsonNode metadata = node.get("metadata");
        if (metadata != null && !metadata.isNull()) {
            if (!metadata.isObject()) {
                exchange.getMessage().setHeader(InputHeaders.SIDECAR_ERROR, "'metadata' must be a JSON object");
                return;
            }
            String written = metadata.toString();
            if (written.length() > MAX_SIDECAR_BYTES) {
                // as the ledger keeps it: numbers can come out longer than they went in (1e-7 as 1.0E-7)
                exchange.getMessage().setHeader(InputHeaders.SIDECAR_ERROR, TOO_LARGE);
                return;
            }
            exchange.getMessage().setHeader(InputHeaders.METADATA, written);
        }
    }

    private static void text(JsonNode node, String field, Exchange exchange, String header) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return;
        }
        if (!value.isTextual()) {
            exchange.getMessage().setHeader(InputHeaders.SIDECAR_ERROR, "'" + field + "' must be a string");
            return;
        }
        // as S3 user metadata is read: spaces around a value (a spreadsheet's export) are no part of it,
        // and a blank one sets nothing, so the next rule (the file name) decides
        String text = value.asText().trim();
        if (!text.isEmpty()) {
            exchange.getMessage().setHeader(header, text);
        }
    }

    /** The sidecar goes where its image goes, and its name counts where the image's name is chosen (PlacedName). */
    private void follow(Exchange exchange, Path sidecar) {
        exchange.setProperty(PlacedName.SIDECAR, sidecar.getFileName().toString());
        PlacedName.shareDecisions(exchange);
        exchange.getExchangeExtension().addOnCompletion(new FollowImage(sidecar));
    }

    /**
     * Moves the sidecar where its image went: after the file consumer's own move of the image (the
     * last completion step), so a sidecar whose image stayed (its move refused) stays beside it.
     */
    private final class FollowImage extends SynchronizationAdapter implements org.apache.camel.Ordered {
        private final Path sidecar;

        FollowImage(Path sidecar) {
            this.sidecar = sidecar;
        }

        @Override
        public int getOrder() {
            return org.apache.camel.Ordered.LOWEST;
        }

        @Override
        public void onComplete(Exchange exchange) {
            if (SettledInPlace.kept(exchange)) {
                return;
            }
            // beside a file of the same name if its image went in beside one (PlacedName)
            moveTo(doneName.path(exchange, sidecar.getFileName().toString()));
        }

        @Override
        public void onFailure(Exchange exchange) {
            // an image replaced meanwhile stays for its own turn, and its sidecar with it
            // ... and one whose quarantine was refused stays, with its sidecar beside it
            if (Settlement.staysInSource(exchange) || SourceStamp.replaced(exchange) || SettledInPlace.kept(exchange)) {
                return;
            }
            // under the name its image takes there (FileQuarantine)
            moveTo(failedName.path(exchange, sidecar.getFileName().toString()));
        }

        private void moveTo(Path target) {
            Path dir = target.getParent();
            try {
                Files.createDirectories(dir);
                Files.move(sidecar, target, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                LOG.warn("Could not move a sidecar to {}: {}", dir, FailureReport.safeMessage(e));
            }
        }
    }
}

package id.ktpbridge.ingest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;

import id.ktpbridge.submit.WorkItem;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file source's failed inputs: moved to the failed folder with a {@code <name>.error.json}
 * saying why, unless {@link Settlement} says the input stays in the folder for the next attempt.
 * A name already in the failed folder (a scanner reusing names, a file dropped again) is kept:
 * the newcomer goes in under {@code <ledger id>-<name>}, and so does a name too long for its report
 * to fit, shortened (see {@link PlacedName}).
 */
public class FileQuarantine {

    private static final Logger LOG = LoggerFactory.getLogger(FileQuarantine.class);

    private final FailureReport reports;
    private final Path failedDir;
    private final PlacedName placed;
    private final SettledInPlace settled;
    private final PausedFiles paused;
    private volatile ReportWriter writer = (partial, report) -> Files.writeString(partial, report, StandardCharsets.UTF_8);

    /** Writes a report under its temporary name: the file system, or in a test a disk that fills up. */
    interface ReportWriter {
        void write(Path partial, String report) throws IOException;
    }

    public FileQuarantine(FailureReport reports, Path failedDir, SettledInPlace settled, PausedFiles paused) {
        this.reports = reports;
        this.failedDir = failedDir;
        this.placed = PlacedName.failed(failedDir);
        this.settled = settled;
        this.paused = paused;
    }

    /** Writes reports through {@code writer} from now on. */
    void writer(ReportWriter writer) {
        this.writer = writer;
    }

    /** Camel bean method, run for a failed exchange before the file consumer lets go of the file. */
    public void settle(Exchange exchange) {
        String ledgerId = exchange.getProperty(WorkItem.LEDGER_ID, String.class);
        if (SourceStamp.replaced(exchange)) {
            // the file there now was never read: it is not this input's to quarantine
            SourceRelease.replacedWhileProcessed(exchange, "in the source folder");
            return;
        }
        if (Settlement.staysInSource(exchange)) {
            Exception failure = FailureReport.failure(exchange);
            // before the consumer lets go of its claim: the next scan does not take it before then
            java.time.Duration pause = Settlement.pause(exchange);
            if (pause != null) {
                paused.pause(exchange, pause);
            }
            // not quarantined: it waits (an outage, a stop); the reason says which
            LOG.warn("Ledger {}: no outcome recorded yet ({}); the file stays in the source folder"
                    + " and is taken again{}", ledgerId == null ? "-" : ledgerId,
                    failure == null ? "stopping" : FailureReport.safeMessage(failure),
                    pause == null ? "" : " in " + Math.max(1, pause.toSeconds()) + " s");
            return;
        }
        String path = exchange.getMessage().getHeader("CamelFileAbsolutePath", String.class);
        String name = exchange.getMessage().getHeader(Exchange.FILE_NAME_ONLY, String.class);
        if (path == null || name == null) {
            return;
        }
        Path source = Path.of(path);
        Path report = null;
        Path partial = null;
        try {
            Files.createDirectories(failedDir);
            // beside a file of its name or its sidecar's there, as its sidecar (FileSidecar)
            Path target = placed.path(exchange, name);
            Path written = target.resolveSibling(target.getFileName() + PlacedName.REPORT_SUFFIX);
            // short whatever the input's name (PlacedName keeps the report's own within 255 bytes)
            partial = target.resolveSibling("." + (ledgerId != null ? ledgerId : UUID.randomUUID())
                    + PlacedName.REPORT_SUFFIX + ".tmp");
            writer.write(partial, reports.report(exchange));
            Files.move(partial, written, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            // the report first: a kill between the two moves leaves a report whose image is still to come,
            // never an image without its reason
            report = written;
            Files.move(source, target);
            SourceRelease.letGo(exchange);
        } catch (IOException e) {
            // the image stays in the source folder: a report without it in the failed folder would say
            // otherwise, and one written part-way (a full disk) would stay there, hidden, for ever
            for (Path left : new Path[] {report, partial}) {
                try {
                    if (left != null) {
                        Files.deleteIfExists(left);
                    }
                } catch (IOException ignored) {
                    // the ERROR line below still says where the image is
                }
            }
            settled.remember(exchange);
            LOG.error("Ledger {}: the failed input could not be moved to {}: {}; it stays in the source folder and is"
                    + " not taken again while the bundle runs", ledgerId, failedDir, FailureReport.safeMessage(e));
        }
    }
}

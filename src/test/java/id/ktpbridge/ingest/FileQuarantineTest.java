package id.ktpbridge.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.submit.WorkItem;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A failed file input goes to the failed folder with its report, or neither goes. */
class FileQuarantineTest {

    private static final String LEDGER_ID = "0f6a3c1e-1d2b-4c5d-8e9f-0a1b2c3d4e5f";

    @TempDir
    Path dir;

    @Test
    void aFailedInputGoesWithItsReport() throws Exception {
        Path inbox = Files.createDirectories(dir.resolve("inbox"));
        Path image = Files.write(inbox.resolve("u1.png"), new byte[] {1, 2, 3});
        quarantine().settle(failed(image));
        assertEquals(List.of("u1.png", "u1.png.error.json"), names(dir.resolve("failed")));
        assertTrue(Files.notExists(image));
    }

    @Test
    void anInputQuarantinedAgainKeepsItsReasonInTheReport() throws Exception {
        Path inbox = Files.createDirectories(dir.resolve("inbox"));
        Path image = Files.write(inbox.resolve("u1.png"), new byte[] {1, 2, 3});
        Exchange again = failed(image);
        // taken again after a stop between the report and the move: the ledger has its result
        again.setException(new InputAlreadyEndedException(LEDGER_ID, "CORRUPT_IMAGE", "REJECTED",
                "The image is corrupt or truncated: no IEND chunk at the end"));
        quarantine().settle(again);
        com.fasterxml.jackson.databind.JsonNode report = new ObjectMapper()
                .readTree(dir.resolve("failed").resolve("u1.png.error.json").toFile());
        assertEquals("CORRUPT_IMAGE", report.path("reasonCode").asText());
        assertTrue(report.path("message").asText().startsWith("The image is corrupt or truncated: no IEND chunk"),
                report.toString());
        assertTrue(report.path("message").asText().contains("already ended as REJECTED"), report.toString());
    }

    @Test
    void noReportStaysInTheFailedFolderWhenTheImageCouldNotFollowIt() throws Exception {
        Path inbox = Files.createDirectories(dir.resolve("inbox"));
        // gone from the drop folder before its move (an operator took it back): the move fails
        Path image = inbox.resolve("u1.png");
        quarantine().settle(failed(image));
        assertEquals(List.of(), names(dir.resolve("failed")));
    }

    @Test
    void aReportWrittenPartWayIsNotLeftInTheFailedFolder() throws Exception {
        Path inbox = Files.createDirectories(dir.resolve("inbox"));
        Path image = Files.write(inbox.resolve("u1.png"), new byte[] {1, 2, 3});
        FileQuarantine quarantine = quarantine();
        // the disk fills up half-way through the report
        quarantine.writer((partial, report) -> {
            Files.writeString(partial, report.substring(0, report.length() / 2));
            throw new java.io.IOException("No space left on device");
        });
        quarantine.settle(failed(image));
        assertEquals(List.of(), names(dir.resolve("failed")));
        assertTrue(Files.exists(image), "the image stays in the drop folder");
    }

    @Test
    void aNameTooLongForItsReportGoesInShortenedUnderItsLedgerId() throws Exception {
        Path inbox = Files.createDirectories(dir.resolve("inbox"));
        // 250 bytes in UTF-8: with ".error.json" over the 255 bytes a file name may have
        String name = "\u00e9".repeat(123) + ".png";
        Path image = Files.write(inbox.resolve(name), new byte[] {1, 2, 3});

        quarantine().settle(failed(image));

        List<String> placed = names(dir.resolve("failed"));
        assertEquals(2, placed.size(), placed.toString());
        String shortened = placed.get(0);
        assertEquals(List.of(shortened, shortened + ".error.json"), placed);
        // the ledger id, as much of the name as fits (whole characters), the extension
        assertTrue(shortened.startsWith(LEDGER_ID + "-\u00e9\u00e9") && shortened.endsWith("\u00e9.png"), shortened);
        assertTrue(name.startsWith(shortened.substring(LEDGER_ID.length() + 1, shortened.length() - 4)), shortened);
        // 255 bytes would cut a two-byte character in half
        assertEquals(254, utf8Length(shortened + ".error.json"), shortened);
        assertTrue(Files.notExists(image));
        assertTrue(Files.readString(dir.resolve("failed").resolve(shortened + ".error.json")).contains(name),
                "the report names the file as it was");
    }

    @Test
    void aLongNameWhoseReportFitsKeepsItsName() throws Exception {
        Path inbox = Files.createDirectories(dir.resolve("inbox"));
        // 240 bytes, 251 with ".error.json": its report's temporary name must not be longer still
        String name = "u".repeat(236) + ".png";
        Path image = Files.write(inbox.resolve(name), new byte[] {1, 2, 3});
        quarantine().settle(failed(image));
        assertEquals(List.of(name, name + ".error.json"), names(dir.resolve("failed")));
        assertTrue(Files.notExists(image));
    }

    @Test
    void anAsideNameIsShortenedToFit() throws Exception {
        Path inbox = Files.createDirectories(dir.resolve("inbox"));
        Path failed = Files.createDirectories(dir.resolve("failed"));
        // its own name and report fit (241 bytes), but not with the ledger id before it
        String name = "u".repeat(226) + ".jpg";
        Files.write(failed.resolve(name), new byte[] {9});
        Files.writeString(failed.resolve(name + ".error.json"), "{}");
        Path image = Files.write(inbox.resolve(name), new byte[] {1, 2, 3});

        quarantine().settle(failed(image));

        // cut to leave room for the longer ".json" of a sidecar, which goes in under the same name
        String aside = LEDGER_ID + "-" + "u".repeat(255 - ".error.json".length() - LEDGER_ID.length() - 1
                - ".json".length()) + ".jpg";
        assertEquals(List.of(aside, aside + ".error.json", name, name + ".error.json"), names(failed));
        assertTrue(Files.notExists(image));
    }

    private static int utf8Length(String name) {
        return name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }

    private FileQuarantine quarantine() {
        return new FileQuarantine(new FailureReport(new ObjectMapper()), dir.resolve("failed"), new SettledInPlace(),
                new PausedFiles());
    }

    /** The exchange of an input whose result (FAILED) is recorded, as the file route ends it. */
    private static Exchange failed(Path image) {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.getMessage().setHeader("CamelFileAbsolutePath", image.toAbsolutePath().toString());
        exchange.getMessage().setHeader(Exchange.FILE_NAME_ONLY, image.getFileName().toString());
        exchange.getMessage().setHeader(InputHeaders.SOURCE_FILE, image.getFileName().toString());
        exchange.setProperty(WorkItem.LEDGER_ID, LEDGER_ID);
        exchange.setProperty(Settlement.OUTCOME_RECORDED, true);
        exchange.setException(new InputRejectedException(RejectReason.CORRUPT_IMAGE, "no IEND chunk at the end"));
        return exchange;
    }

    private static List<String> names(Path folder) throws Exception {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void anImageAndItsSidecarCutToFitKeepOneName() {
        String base = "u6502-" + "x".repeat(240);
        String image = PlacedName.fitted("ledger-" + base + ".jpg", 255);
        String sidecar = PlacedName.fitted("ledger-" + base + ".json", 255);
        assertEquals(image.substring(0, image.length() - 4), sidecar.substring(0, sidecar.length() - 5));
        assertTrue(sidecar.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= 255);
    }
}

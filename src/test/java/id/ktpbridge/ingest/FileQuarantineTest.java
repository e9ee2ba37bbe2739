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
    void noReportStaysInTheFailedFolderWhenTheImageCouldNotFollowIt() throws Exception {
        Path inbox = Files.createDirectories(dir.resolve("inbox"));
        // gone from the drop folder before its move (an operator took it back): the move fails
        Path image = inbox.resolve("u1.png");
        quarantine().settle(failed(image));
        assertEquals(List.of(), names(dir.resolve("failed")));
    }

    private FileQuarantine quarantine() {
        return new FileQuarantine(new FailureReport(new ObjectMapper()), dir.resolve("failed"), new SettledInPlace());
    }

    /** The exchange of an input whose result (FAILED) is recorded, as the file route ends it. */
    private static Exchange failed(Path image) {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.getMessage().setHeader("CamelFileAbsolutePath", image.toAbsolutePath().toString());
        exchange.getMessage().setHeader(Exchange.FILE_NAME_ONLY, image.getFileName().toString());
        exchange.setProperty(WorkItem.LEDGER_ID, "0f6a3c1e-1d2b-4c5d-8e9f-0a1b2c3d4e5f");
        exchange.setProperty(Settlement.OUTCOME_RECORDED, true);
        exchange.setException(new InputRejectedException(RejectReason.CORRUPT_IMAGE, "no IEND chunk at the end"));
        return exchange;
    }

    private static List<String> names(Path folder) throws Exception {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}

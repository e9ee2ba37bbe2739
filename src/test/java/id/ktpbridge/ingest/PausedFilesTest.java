package id.ktpbridge.ingest;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.component.file.GenericFile;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

/** Which listed files a pause holds back: by path for the file drop, by version for SFTP. */
class PausedFilesTest {

    private final CamelContext context = new DefaultCamelContext();

    @Test
    void byVersionAFileReplacedUnderThePausedNameIsNotHeldBack() {
        PausedFiles paused = PausedFiles.byVersion();
        paused.pause(given("/inbox/u1.png"), Duration.ofMinutes(1));
        assertTrue(paused.holds(file("/inbox/u1.png", 10L, 1_000L)));
        assertFalse(paused.holds(file("/inbox/u1.png", 11L, 1_000L)), "another size");
        assertFalse(paused.holds(file("/inbox/u1.png", 10L, 2_000L)), "another time");
        assertFalse(paused.holds(file("/inbox/u2.png", 10L, 1_000L)));
    }

    @Test
    void byPathTheFileDropHoldsBackWhatIsUnderThePausedName() {
        PausedFiles paused = new PausedFiles();
        paused.pause(given("/drop/u1.png"), Duration.ofMinutes(1));
        assertTrue(paused.holds(file("/drop/u1.png", 11L, 2_000L)));
        assertFalse(paused.holds(file("/drop/u2.png", 10L, 1_000L)));
    }

    @Test
    void aPauseThatHasPassedHoldsNothing() throws Exception {
        PausedFiles paused = PausedFiles.byVersion();
        paused.pause(given("/inbox/u1.png"), Duration.ofMillis(50));
        Thread.sleep(100);
        assertFalse(paused.holds(file("/inbox/u1.png", 10L, 1_000L)));
    }

    /** The exchange of a file given back, as the listing named it. */
    private Exchange given(String path) {
        Exchange exchange = new DefaultExchange(context);
        exchange.getMessage().setHeader("CamelFileAbsolutePath", path);
        exchange.getMessage().setHeader(Exchange.FILE_LENGTH, 10L);
        exchange.getMessage().setHeader(Exchange.FILE_LAST_MODIFIED, 1_000L);
        return exchange;
    }

    private static GenericFile<Object> file(String path, long length, long modified) {
        GenericFile<Object> file = new GenericFile<>();
        file.setAbsoluteFilePath(path);
        file.setFileLength(length);
        file.setLastModified(modified);
        return file;
    }
}

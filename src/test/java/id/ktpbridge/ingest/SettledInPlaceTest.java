package id.ktpbridge.ingest;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.component.file.GenericFile;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

/** What the folder sources remember of files kept in place, past the most they remember. */
class SettledInPlaceTest {

    private final CamelContext context = new DefaultCamelContext();

    @Test
    void pastItsLimitItForgetsTheFilesNoScanMetLongestAgoNotTheOnesStillThere() {
        SettledInPlace settled = new SettledInPlace();
        settled.remember(kept("/in/still-there.png"));
        settled.remember(kept("/in/moved-away.png"));
        for (int i = 0; i < 120_000; i++) {
            settled.remember(kept("/in/other-" + i + ".png"));
            if (i % 10_000 == 0) {
                // each scan meets the files still in the folder
                assertTrue(settled.holds(file("/in/still-there.png")));
            }
        }
        assertTrue(settled.holds(file("/in/still-there.png")), "a file every scan meets was forgotten");
        assertFalse(settled.holds(file("/in/moved-away.png")));
        assertFalse(settled.holds(file("/in/other-0.png")));
        assertTrue(settled.holds(file("/in/other-119999.png")));
    }

    private Exchange kept(String path) {
        Exchange exchange = new DefaultExchange(context);
        exchange.getMessage().setHeader("CamelFileAbsolutePath", path);
        exchange.getMessage().setHeader(Exchange.FILE_LENGTH, 10L);
        exchange.getMessage().setHeader(Exchange.FILE_LAST_MODIFIED, 1_000L);
        return exchange;
    }

    private static GenericFile<Object> file(String path) {
        GenericFile<Object> file = new GenericFile<>();
        file.setAbsoluteFilePath(path);
        file.setFileLength(10L);
        file.setLastModified(1_000L);
        return file;
    }
}

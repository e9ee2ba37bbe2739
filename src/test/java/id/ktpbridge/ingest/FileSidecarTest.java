package id.ktpbridge.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileSidecarTest {

    @TempDir
    Path dir;

    @Test
    void aBackslashIsPartOfTheNameNotAFolder() throws Exception {
        // a legal Linux name (an archive made on Windows, unpacked): its sidecar is scans\k1.json, not k1.json
        Path inbox = Files.createDirectories(dir.resolve("inbox"));
        Files.writeString(inbox.resolve("k1.json"), "{\"partnerUserId\":\"someone-else\"}");
        Path image = Files.write(inbox.resolve("scans\\k1.jpg"), new byte[] {1});

        assertNull(read(image).getMessage().getHeader(InputHeaders.PARTNER_USER_ID), "another image's sidecar applied");

        Files.writeString(inbox.resolve("scans\\k1.json"), "{\"partnerUserId\":\"its-own\"}");
        assertEquals("its-own", read(image).getMessage().getHeader(InputHeaders.PARTNER_USER_ID));
    }

    @Test
    void aSidecarThatDoesNotSayWhichPersonItMeansIsRefused() throws Exception {
        Path inbox = Files.createDirectories(dir.resolve("inbox"));
        Path image = Files.write(inbox.resolve("k2.jpg"), new byte[] {1});
        for (String sidecar : new String[] {
                "{\"partnerUserId\":\"A\"}{\"partnerUserId\":\"B\"}", // appended to with >>
                "{\"partnerUserId\":\"A\"}\n{\"partnerUserId\":\"B\"}\n", // JSON Lines
                "{\"partnerUserId\":\"A\",\"partnerUserId\":\"B\"}", // a field twice
                "{\"partnerUserId\":\"A\"} junk"}) {
            Files.writeString(inbox.resolve("k2.json"), sidecar);
            Exchange read = read(image);
            assertEquals("the sidecar is not valid JSON", read.getMessage().getHeader(InputHeaders.SIDECAR_ERROR),
                    sidecar);
        }
        Files.writeString(inbox.resolve("k2.json"), "\uFEFF{\"partnerUserId\":\"A\"}\n");
        Exchange read = read(image);
        assertNull(read.getMessage().getHeader(InputHeaders.SIDECAR_ERROR), "a byte-order mark and a newline are fine");
        assertEquals("A", read.getMessage().getHeader(InputHeaders.PARTNER_USER_ID));
    }

    @Test
    void spacesAroundAUserIdAreNoPartOfItAndABlankOneSetsNothing() throws Exception {
        Path inbox = Files.createDirectories(dir.resolve("inbox"));
        Path image = Files.write(inbox.resolve("k3.jpg"), new byte[] {1});
        Files.writeString(inbox.resolve("k3.json"), "{\"partnerUserId\":\" cust-3 \",\"partnerUserIdType\":\"\"}");
        Exchange read = read(image);
        assertNull(read.getMessage().getHeader(InputHeaders.SIDECAR_ERROR));
        assertEquals("cust-3", read.getMessage().getHeader(InputHeaders.PARTNER_USER_ID));
        assertNull(read.getMessage().getHeader(InputHeaders.PARTNER_USER_ID_TYPE), "blank: the configured type applies");
    }

    private Exchange read(Path image) {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.getMessage().setHeader(Exchange.FILE_PATH, image.toString());
        new FileSidecar(new ObjectMapper(), dir.resolve("done"), dir.resolve("failed")).read(exchange);
        return exchange;
    }
}

package id.ktpbridge.ingest;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
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
        // a legal Linux name (an archive made on Windows, unpacked): its sidecar is scans\k1.json, not k1.json.
        // The drop's listing leaves such names out (UntakeableFiles); this holds should one come here all the same
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

    @Test
    void aSidecarTheBundleMayNotReadRejectsItsImageAtOnce() throws Exception {
        Path inbox = Files.createDirectories(dir.resolve("inbox"));
        Path image = Files.write(inbox.resolve("k4.jpg"), new byte[] {1});
        Files.writeString(inbox.resolve("k4.json"), "{\"partnerUserId\":\"cust-4\"}");
        // the tests run as root, who may read any file: the refusal is the disk's answer
        FileSidecar sidecars = sidecars();
        sidecars.opener(sidecar -> {
            throw new AccessDeniedException(sidecar.toString());
        });
        Exchange read = read(sidecars, image);
        assertEquals("the sidecar could not be read (permission denied)",
                read.getMessage().getHeader(InputHeaders.SIDECAR_ERROR));
        assertNull(read.getMessage().getHeader(InputHeaders.NOT_NOW));
    }

    @Test
    void anImageWhoseSidecarCouldNotBeReadForAMomentIsTakenAgainAndSubmittedUnderItsSidecarsUser() throws Exception {
        AtomicInteger opened = new AtomicInteger();
        try (LogCapture log = new LogCapture();
             BridgeApp app = BridgeApp.start(dir.resolve("data"), Map.of())) {
            // a network mount's I/O error on the first two reads
            app.bean("fileSidecar", FileSidecar.class).opener(sidecar -> {
                if (opened.incrementAndGet() <= 2) {
                    throw new IOException("Input/output error");
                }
                return Files.newInputStream(sidecar, LinkOption.NOFOLLOW_LINKS);
            });
            Files.createDirectories(app.inbox());
            Files.writeString(app.inbox().resolve("u7101.json"), "{\"partnerUserId\":\"cust-7101\"}");
            Results.drop(app.inbox(), "u7101.png", SampleImages.card("u7101", "png"));

            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 1
                    && Files.exists(app.done().resolve("u7101.png")));
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals("cust-7101", result.path("partnerUserId").asText(), "submitted under its sidecar's user");
            assertEquals(3, opened.get());
            assertEquals(1, app.sandbox().submissionCount());
            assertEquals(1, app.ledger().createdSince(0).size(), "the tries before left no rows");
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(app.done().resolve("u7101.json")));
            assertFalse(Files.exists(app.failed().resolve("u7101.png")), "it was quarantined");
            assertTrue(log.text().contains("the sidecar could not be read (IOException: Input/output error)"),
                    log.text());
            assertFalse(log.text().contains("u7101"), "the file name (it may hold a NIK) is in the log");
        }
    }

    @Test
    void anImageWhoseSidecarKeepsFailingToBeReadIsRejectedAfterItsTries() throws Exception {
        AtomicInteger opened = new AtomicInteger();
        // no window: the 5 reads in a row are enough
        try (BridgeApp app = BridgeApp.start(dir.resolve("data"), Map.of("ktp.source.file.broken-read-window", "0"))) {
            app.bean("fileSidecar", FileSidecar.class).opener(sidecar -> {
                opened.incrementAndGet();
                throw new IOException("Input/output error");
            });
            Files.createDirectories(app.inbox());
            Files.writeString(app.inbox().resolve("u7102.json"), "{\"partnerUserId\":\"cust-7102\"}");
            Results.drop(app.inbox(), "u7102.png", SampleImages.card("u7102", "png"));

            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 1
                    && Files.exists(app.failed().resolve("u7102.png")));
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("REJECTED", result.path("status").asText(), result.toString());
            assertEquals("INVALID_SIDECAR", result.path("reasonCode").asText());
            assertTrue(result.path("errorMessage").asText()
                    .endsWith("the sidecar could not be read (IOException: Input/output error, 5 times in a row)"),
                    result.toString());
            assertEquals(FileSidecar.READ_TRIES, opened.get());
            assertEquals(0, app.sandbox().submissionCount());
            assertEquals(1, app.ledger().createdSince(0).size(), "the tries before left no rows");
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(app.failed().resolve("u7102.json")));
        }
    }

    @Test
    void aSidecarWhoseReadsKeepFailingRejectsItsImageOnlyOnceTheyHaveGoneOnForTheWindowWithoutHoldingAWorker()
            throws Exception {
        Map<String, AtomicInteger> opened = new ConcurrentHashMap<>();
        Map<String, Long> firstOpened = new ConcurrentHashMap<>();
        Map<String, Long> lastOpened = new ConcurrentHashMap<>();
        AtomicInteger failingReadsBeforeTheOther = new AtomicInteger(-1);
        AtomicLong sinceTheFailingRead = new AtomicLong(-1);
        byte[] otherImage = SampleImages.card("u7104", "png");
        // one worker: the pauses between the failing sidecar's reads must leave it to the other images
        try (BridgeApp app = BridgeApp.start(dir.resolve("data"),
                Map.of("ktp.source.file.broken-read-window", "15s", "ktp.concurrency", "1"))) {
            app.bean("fileSidecar", FileSidecar.class).opener(sidecar -> {
                String name = sidecar.getFileName().toString();
                long now = System.currentTimeMillis();
                int reads = opened.computeIfAbsent(name, n -> new AtomicInteger()).incrementAndGet();
                firstOpened.putIfAbsent(name, now);
                lastOpened.put(name, now);
                if (name.equals("u7104.json")) {
                    failingReadsBeforeTheOther.set(opened.get("u7103.json").get());
                    sinceTheFailingRead.set(now - lastOpened.get("u7103.json"));
                    return Files.newInputStream(sidecar, LinkOption.NOFOLLOW_LINKS);
                }
                if (reads == FileSidecar.READ_TRIES) {
                    // dropped at the failing one's 5th read, ahead of its 5 s pause: the test's own
                    // polling is not part of the time measured below
                    Files.writeString(app.inbox().resolve("u7104.json"), "{\"partnerUserId\":\"cust-7104\"}");
                    Results.drop(app.inbox(), "u7104.png", otherImage);
                }
                throw new IOException("Input/output error");
            });
            Files.createDirectories(app.inbox());
            Files.writeString(app.inbox().resolve("u7103.json"), "{\"partnerUserId\":\"cust-7103\"}");
            Results.drop(app.inbox(), "u7103.png", SampleImages.card("u7103", "png"));

            // a mount's failover longer than five reads 1 to 4 s apart does not reject the image
            await().atMost(Duration.ofSeconds(60)).until(() -> opened.containsKey("u7103.json")
                    && opened.get("u7103.json").get() == FileSidecar.READ_TRIES);
            // (the other image, dropped by then, may have its result already)
            assertFalse(Results.bySourceFile(app.results()).containsKey("u7103.png"),
                    "rejected before the window was over");

            await().atMost(Duration.ofSeconds(90)).until(() -> Results.count(app.results()) == 2
                    && Files.exists(app.failed().resolve("u7103.png")));
            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            JsonNode failing = results.get("u7103.png");
            assertEquals("INVALID_SIDECAR", failing.path("reasonCode").asText(), failing.toString());
            assertTrue(failing.path("errorMessage").asText().endsWith("the sidecar could not be read (IOException:"
                    + " Input/output error, at least 5 times in a row, over at least 15 s)"), failing.toString());
            assertTrue(opened.get("u7103.json").get() > FileSidecar.READ_TRIES, "reads " + opened);
            long span = lastOpened.get("u7103.json") - firstOpened.get("u7103.json");
            assertTrue(span >= 15_000, "rejected " + span + " ms after the first failed read");

            // the other image was taken at once during the failing one's 5 s pause: no worker waited it out
            JsonNode other = results.get("u7104.png");
            assertEquals("COMPLETED", other.path("status").asText(), results.toString());
            assertEquals("cust-7104", other.path("partnerUserId").asText());
            assertEquals(FileSidecar.READ_TRIES, failingReadsBeforeTheOther.get(),
                    "the other image waited for the failing sidecar's next read");
            // a worker holding the failing one's 5 s pause would read the other 5 s or more after it
            assertTrue(sinceTheFailingRead.get() < 4_000, "the other image's sidecar was read "
                    + sinceTheFailingRead.get() + " ms after the failing one's 5th read");
        }
    }

    private FileSidecar sidecars() {
        return new FileSidecar(new ObjectMapper(), dir.resolve("done"), dir.resolve("failed"));
    }

    private Exchange read(Path image) {
        return read(sidecars(), image);
    }

    private static Exchange read(FileSidecar sidecars, Path image) {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.getMessage().setHeader(Exchange.FILE_PATH, image.toString());
        sidecars.read(exchange);
        return exchange;
    }
}

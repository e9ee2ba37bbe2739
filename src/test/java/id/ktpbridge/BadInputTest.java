package id.ktpbridge;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every kind of bad input is quarantined with a REJECTED record and a reason; good inputs keep flowing. */
class BadInputTest {

    @TempDir
    Path dataDir;

    @Test
    void aBadFileQuarantinedAgainKeepsItsReasonInItsReport() throws Exception {
        JsonNode result;
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            // the failed folder is away (a file where it should be): the rejected file stays in the inbox,
            // not taken again while the bundle runs
            Files.deleteIfExists(app.failed());
            Files.writeString(app.failed(), "not a folder");
            Results.drop(app.inbox(), "u6251.png", "no image at all".getBytes(StandardCharsets.UTF_8));
            await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 1);
            result = Results.read(app.results()).get(0);
            assertEquals("REJECTED", result.path("status").asText(), result.toString());
            await().atMost(Duration.ofSeconds(20)).until(() -> app.ledger().openCounts().isEmpty());
        }
        Files.delete(dataDir.resolve("failed"));
        Files.createDirectories(dataDir.resolve("failed"));
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            // taken again at the next start: quarantined with its report, which says what its result says
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(app.failed().resolve("u6251.png")));
            JsonNode report = Results.parse(app.failed().resolve("u6251.png.error.json"));
            assertEquals(result.path("reasonCode").asText(), report.path("reasonCode").asText(), report.toString());
            String said = result.path("errorMessage").asText(result.path("message").asText());
            assertFalse(said.isEmpty(), result.toString());
            assertTrue(report.path("message").asText().startsWith(said), report + " against " + result);
            assertEquals(1, Results.count(app.results()), "no second result");
        }
    }

    @Test
    void aSecondBadFileUnderTheSameNameDoesNotReplaceTheFirstInTheFailedFolder() throws Exception {
        byte[] first = "first bad scan".getBytes(StandardCharsets.UTF_8);
        byte[] second = "second bad scan".getBytes(StandardCharsets.UTF_8);
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            Results.drop(app.inbox(), "u6201.png", first);
            // the first one's report is written before it is moved: the second comes once it is moved too
            await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(app.failed().resolve("u6201.png.error.json"))
                    && Files.exists(app.failed().resolve("u6201.png")));
            Results.drop(app.inbox(), "u6201.png", second);
            await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 2);
            // the result is written before the file is moved aside
            await().atMost(Duration.ofSeconds(10)).until(() -> Results.read(app.results()).stream()
                    .anyMatch(r -> Files.exists(app.failed().resolve(r.path("ledgerId").asText() + "-u6201.png"))));
            String secondLedger = Results.read(app.results()).stream()
                    .filter(r -> !r.path("ledgerId").asText().isEmpty())
                    .map(r -> r.path("ledgerId").asText())
                    .filter(id -> Files.exists(app.failed().resolve(id + "-u6201.png")))
                    .findFirst().orElseThrow();
            assertTrue(Arrays.equals(first, Files.readAllBytes(app.failed().resolve("u6201.png"))));
            assertTrue(Arrays.equals(second, Files.readAllBytes(app.failed().resolve(secondLedger + "-u6201.png"))));
            assertTrue(Files.readString(app.failed().resolve(secondLedger + "-u6201.png.error.json")).contains(secondLedger));
        }
    }

    @Test
    void filesWithLongNamesAreQuarantinedWithTheirReports() throws Exception {
        // 240 bytes: its report's name fits the 255 bytes a file name may have (251)
        String fits = "u6501-" + "x".repeat(230) + ".jpg";
        // 250 bytes: its report's name would not
        String tooLong = "u6502-" + "x".repeat(240) + ".jpg";
        Results.drop(dataDir.resolve("inbox"), fits, new byte[0]);
        Results.drop(dataDir.resolve("inbox"), tooLong, "not an image".getBytes(StandardCharsets.UTF_8));

        // without the fix both stay in the drop folder and the run ends with exit 1
        assertEquals(0, BridgeApp.runBatch(dataDir, Map.of()));

        Map<String, JsonNode> results = Results.bySourceFile(dataDir.resolve("results"));
        assertEquals(Set.of(fits, tooLong), results.keySet());
        Path failed = dataDir.resolve("failed");
        assertTrue(Files.exists(failed.resolve(fits)));
        assertEquals("EMPTY_FILE", Results.parse(failed.resolve(fits + ".error.json")).path("reasonCode").asText());
        // in as <ledgerId>-<as much of its name as fits, with room for a sidecar's .json>.jpg, beside
        // its report
        String placed = results.get(tooLong).path("ledgerId").asText() + "-"
                + tooLong.substring(0, 255 - ".error.json".length() - 37 - ".json".length()) + ".jpg";
        assertTrue(Files.exists(failed.resolve(placed)), placed);
        assertEquals("UNSUPPORTED_FORMAT",
                Results.parse(failed.resolve(placed + ".error.json")).path("reasonCode").asText());
        assertEquals(List.of(), List.of(dataDir.resolve("inbox").toFile().list()));
    }

    @Test
    void aTooLargeFileTheQuarantineCannotMoveIsRejectedOnceAndLeftAlone() throws Exception {
        // nothing can be written in the failed folder (even as root): the file stays in the drop folder
        // and is met again
        try (LogCapture log = new LogCapture();
             BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.source.max-size", "1000",
                     "ktp.source.failed-dir", "/proc/self"))) {
            Results.drop(app.inbox(), "u6301.png", SampleImages.card("u6301", "png"));
            await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 1);
            assertEquals("FILE_TOO_LARGE", Results.read(app.results()).get(0).path("reasonCode").asText());
            // later scans (one a second) leave the file alone: no other result, no other attempt
            await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6))
                    .until(() -> Results.count(app.results()) == 1);
            assertEquals(1, app.ledger().createdSince(0).size());
            assertTrue(Files.exists(app.inbox().resolve("u6301.png")));
            assertEquals(1, log.count("could not be moved to /proc/self"), log.text());
            // the refusal names the path it was refused, whose file name may be a NIK
            assertFalse(log.text().contains("u6301"), log.text());
        }
    }

    @Test
    void aSubmittedFileTheDoneFolderRefusesIsSaidOnceAndLeftAlone() throws Exception {
        try (LogCapture log = new LogCapture();
             BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.source.done-dir", "/proc/self"))) {
            Results.drop(app.inbox(), "u6311.png", SampleImages.card("u6311", "png"));
            await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 1);
            assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
            await().atMost(Duration.ofSeconds(5)).until(() -> log.text().contains("could not move or delete its file"));
            // later scans (one a second) do not read it again
            await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6))
                    .until(() -> Results.count(app.results()) == 1);
            assertTrue(Files.exists(app.inbox().resolve("u6311.png")));
            assertEquals(1, log.count("could not move or delete its file"), log.text());
            assertFalse(log.text().contains("already submitted"), log.text());
            assertFalse(log.text().contains("u6311"), log.text());
        }
    }

    @Test
    void anInputWhoseLocalCopyCannotBeWrittenWaitsInTheFolderWithoutAResult() throws Exception {
        // the data folder's spool is a plain file, so no copy can be made there, as on a full disk
        Files.createDirectories(dataDir);
        Files.writeString(dataDir.resolve("spool"), "in the way");
        // every copy in a spool file (the 16 MB in memory would hold this one)
        try (LogCapture log = new LogCapture();
             BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.source.spool-memory-bytes", "0"))) {
            Results.drop(app.inbox(), "u6321.png", SampleImages.card("u6321", "png"));
            // the bundle's own disk, not the input: no result and no ledger row
            await().atMost(Duration.ofSeconds(20)).until(() -> log.text().contains("local copy could not be written")
                    || Results.count(app.results()) > 0);
            assertEquals(0, Results.count(app.results()));
            assertTrue(Files.exists(app.inbox().resolve("u6321.png")));
            assertTrue(app.ledger().createdSince(0).isEmpty());
            // the disk mended: the same file is taken and submitted
            Files.delete(dataDir.resolve("spool"));
            await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 1);
            assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
            assertFalse(log.text().contains("u6321"), log.text());
        }
    }

    @Test
    void aFileDatedInTheFutureIsTakenAndDoesNotHoldUpTheOthers() throws Exception {
        // the production read lock: a file must be this old before it is taken
        try (LogCapture log = new LogCapture();
             BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.source.read-lock-min-age", "1000"))) {
            Path ahead = app.inbox().resolve("a-u6401.png");
            Files.write(ahead, SampleImages.card("u6401", "png"));
            // a card copied with its timestamps from a device whose clock runs 7 hours ahead
            long datedAt = System.currentTimeMillis();
            Files.setLastModifiedTime(ahead, FileTime.fromMillis(datedAt + 7 * 3_600_000L));
            Results.drop(app.inbox(), "u6402.png", SampleImages.card("u6402", "png"));
            await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 2);
            assertEquals(Set.of("a-u6401.png", "u6402.png"), Results.bySourceFile(app.results()).keySet());
            // the scan came some time after the dating, on a loaded machine many seconds: the logged lead is
            // 7 hours less that wait (plus a second for a file system that keeps whole seconds), never more
            long waitedSeconds = (System.currentTimeMillis() - datedAt) / 1000 + 2;
            Matcher dated = Pattern.compile("dated (\\d+) s in the future").matcher(log.text());
            assertTrue(dated.find(), log.text());
            long lead = Long.parseLong(dated.group(1));
            assertTrue(lead <= 25_200 && lead >= 25_200 - waitedSeconds, "logged lead " + lead + " s; " + log.text());
        }
    }

    @Test
    void aRemoteInputWhoseReadingBreaksOffHalfWayIsLeftForAnotherAttempt() throws Exception {
        byte[] png = SampleImages.card("u6101", "png");
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            // a stream that breaks off, as a connection reset from a remote source does
            java.io.InputStream failing = new java.io.InputStream() {
                private int pos;

                @Override
                public int read() throws java.io.IOException {
                    if (pos >= 100) {
                        throw new java.io.IOException("Connection reset");
                    }
                    return png[pos++] & 0xff;
                }
            };
            org.apache.camel.Exchange done = send(app, failing);
            assertTrue(done.getException() instanceof id.ktpbridge.ingest.InputDeferredException,
                    "left in its source: " + done.getException());
            assertTrue(app.ledger().createdSince(0).isEmpty(), "nothing recorded");
            assertEquals(0, app.sandbox().submissionCount());

            // taken again, whole this time
            assertNull(send(app, new java.io.ByteArrayInputStream(png)).getException());
            await().atMost(Duration.ofSeconds(10)).until(() -> Results.count(app.results()) == 1);
            assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
            assertEquals(1, app.sandbox().submissionCount());
        }
    }

    private static org.apache.camel.Exchange send(BridgeApp app, java.io.InputStream body) {
        return app.context().createProducerTemplate().send("direct:submit-ktp", e -> {
            e.getMessage().setBody(body);
            e.getMessage().setHeader("KtpSourceType", "s3");
            e.getMessage().setHeader("KtpSourceRef", "s3://bucket/inbox/u6101.png");
            e.getMessage().setHeader("KtpSourceFile", "u6101.png");
        });
    }

    @Test
    void eachBadInputIsRejectedWithItsReasonAndNothingIsSentForIt() throws Exception {
        byte[] oversized = new byte[40_000];
        byte[] pngMagic = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
        System.arraycopy(pngMagic, 0, oversized, 0, pngMagic.length);
        Map<String, String> expected = Map.of(
                "u3001-empty.png", "EMPTY_FILE",
                "u3002-text.jpg", "UNSUPPORTED_FORMAT",
                "u3003-huge.png", "FILE_TOO_LARGE",
                "bad user!.png", "INVALID_PARTNER_USER_ID",
                "u3005-sidecar.jpg", "INVALID_SIDECAR");

        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.source.max-size", "30000"))) {
            Files.createDirectories(app.inbox());
            // the broken sidecar is in place before its image arrives
            Files.writeString(app.inbox().resolve("u3005-sidecar.json"), "{ not json", StandardCharsets.UTF_8);
            Results.drop(app.inbox(), "u3001-empty.png", new byte[0]);
            Results.drop(app.inbox(), "u3002-text.jpg", "hello".getBytes(StandardCharsets.UTF_8));
            Results.drop(app.inbox(), "u3003-huge.png", oversized);
            Results.drop(app.inbox(), "bad user!.png", SampleImages.card("bad", "png"));
            Results.drop(app.inbox(), "u3005-sidecar.jpg", SampleImages.card("u3005", "jpg"));
            Results.drop(app.inbox(), "u3006-good.png", SampleImages.card("u3006", "png"));
            Results.drop(app.inbox(), "notes.txt", "not an image name".getBytes(StandardCharsets.UTF_8));

            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 6);
            Map<String, JsonNode> results = Results.bySourceFile(app.results());

            for (var e : expected.entrySet()) {
                String file = e.getKey();
                JsonNode r = results.get(file);
                assertEquals("REJECTED", r.path("status").asText(), file);
                assertEquals(e.getValue(), r.path("reasonCode").asText(), file);
                assertTrue(r.path("submissionId").isNull(), file);
                assertTrue(r.path("errorMessage").asText().length() > 10, file);
                await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(app.failed().resolve(file)));
                Path report = app.failed().resolve(file + ".error.json");
                await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(report));
                assertEquals(e.getValue(), Results.parse(report).path("reasonCode").asText(), file);
            }
            assertTrue(Files.exists(app.failed().resolve("u3005-sidecar.json")), "the sidecar follows its image");
            assertEquals("COMPLETED", results.get("u3006-good.png").path("status").asText());
            await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(app.done().resolve("u3006-good.png")));

            // nothing about the rejected inputs reached OneKYC: one submission, one token (the good file's)
            assertEquals(1, app.sandbox().submissionCount());
            assertEquals(1, app.sandbox().tokenIssuedCount());
            // files that are not images are left alone
            assertTrue(Files.exists(app.inbox().resolve("notes.txt")));

            long rejectedRows = app.ledger().createdSince(0).stream()
                    .map(LedgerRecord::state).filter(SubmissionState.REJECTED::equals).count();
            assertEquals(5, rejectedRows);
        }
    }

    @Test
    void sidecarAndPatternDecideThePartnerUser() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir,
                Map.of("ktp.source.user-id-pattern", "ktp_(?<user>[a-z0-9]+)_front"))) {
            Files.createDirectories(app.inbox());
            Files.writeString(app.inbox().resolve("anything.json"),
                    "{\"partnerUserId\":\"cust-77\",\"partnerUserIdType\":\"CLIENT_X_USER_ID\",\"metadata\":{\"k\":\"v\"}}");
            Results.drop(app.inbox(), "anything.png", SampleImages.card("a", "png"));
            Results.drop(app.inbox(), "ktp_abc123_front.jpg", SampleImages.card("b", "jpg"));
            Results.drop(app.inbox(), "no-match.jpg", SampleImages.card("c", "jpg"));

            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 3);
            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            assertEquals("cust-77", results.get("anything.png").path("partnerUserId").asText());
            assertEquals("CLIENT_X_USER_ID", results.get("anything.png").path("partnerUserIdType").asText());
            assertEquals("abc123", results.get("ktp_abc123_front.jpg").path("partnerUserId").asText());
            assertEquals("PARTNER_USER_ID", results.get("ktp_abc123_front.jpg").path("partnerUserIdType").asText());
            assertEquals("INVALID_PARTNER_USER_ID", results.get("no-match.jpg").path("reasonCode").asText());
            assertEquals(1, app.sandbox().tokenIssuedCount("cust-77"));
            assertEquals(1, app.sandbox().tokenIssuedCount("abc123"));
            assertFalse(Arrays.asList(app.inbox().toFile().list()).contains("anything.json"));
        }
    }
}

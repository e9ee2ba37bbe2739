package id.ktpbridge.reliability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile files among good ones: each is quarantined with its documented reason, nothing about it
 * reaches OneKYC, the good ones flow, and no log line carries a secret or personal data.
 */
class HostileInputTest {

    @TempDir
    Path dataDir;

    @TempDir
    Path elsewhere;

    @Test
    void hostileInputsAreQuarantinedAndTheRestFlows() throws Exception {
        byte[] png = SampleImages.card("x", "png");
        byte[] jpg = SampleImages.card("y", "jpg");
        Map<String, String> expected = new HashMap<>();
        expected.put("u7001-truncated.png", "CORRUPT_IMAGE");
        expected.put("u7002-truncated.jpg", "CORRUPT_IMAGE");
        expected.put("u7003 with space.png", "INVALID_PARTNER_USER_ID");
        expected.put("u7004-ünïcode.png", "INVALID_PARTNER_USER_ID");
        expected.put("u7005\nnewline.png", "INVALID_PARTNER_USER_ID");
        expected.put("u7006-link.png", "SYMBOLIC_LINK");
        expected.put("u7007-pathy.png", "INVALID_PARTNER_USER_ID");
        expected.put("u7008-crlf.jpg", "INVALID_PARTNER_USER_ID");
        expected.put("u7009-badjson.jpg", "INVALID_SIDECAR");
        expected.put("u7010-zero.png", "EMPTY_FILE");
        expected.put("u7011-fake.png", "UNSUPPORTED_FORMAT");
        expected.put("u7012-again.png", "DUPLICATE_CONTENT");
        // a sidecar that is a link to another file on the host (another user's sidecar, say)
        expected.put("u7013-linkedsidecar.png", "INVALID_SIDECAR");
        List<String> good = List.of("u7100.png", "u7101.jpg");

        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.source.read-lock-min-age", "100"))) {
            Path inbox = Files.createDirectories(app.inbox());
            Files.writeString(inbox.resolve("u7007-pathy.json"), "{\"partnerUserId\":\"../../etc/passwd\"}");
            Files.writeString(inbox.resolve("u7008-crlf.json"), "{\"partnerUserId\":\"evil\\r\\nX-Injected: 1\"}");
            Files.writeString(inbox.resolve("u7009-badjson.json"), "{\"partnerUserId\": ");
            Path target = Files.write(elsewhere.resolve("outside.png"), SampleImages.card("outside", "png"));
            Files.createSymbolicLink(inbox.resolve("u7006-link.png"), target);
            Path stolen = Files.writeString(elsewhere.resolve("stolen.json"), "{\"partnerUserId\":\"stolen-user\"}");
            Files.createSymbolicLink(inbox.resolve("u7013-linkedsidecar.json"), stolen);
            Results.drop(inbox, "u7013-linkedsidecar.png", SampleImages.card("l", "png"));
            Results.drop(inbox, "u7001-truncated.png", Arrays.copyOf(png, png.length - 20));
            Results.drop(inbox, "u7002-truncated.jpg", Arrays.copyOf(jpg, jpg.length / 2));
            Results.drop(inbox, "u7003 with space.png", SampleImages.card("s", "png"));
            Results.drop(inbox, "u7004-ünïcode.png", SampleImages.card("u", "png"));
            Results.drop(inbox, "u7005\nnewline.png", SampleImages.card("n", "png"));
            Results.drop(inbox, "u7007-pathy.png", SampleImages.card("p", "png"));
            Results.drop(inbox, "u7008-crlf.jpg", SampleImages.card("c", "jpg"));
            Results.drop(inbox, "u7009-badjson.jpg", SampleImages.card("b", "jpg"));
            Results.drop(inbox, "u7010-zero.png", new byte[0]);
            Results.drop(inbox, "u7011-fake.png", "GIF89a pretending".getBytes(StandardCharsets.UTF_8));
            Results.drop(inbox, "u7100.png", SampleImages.card("u7100", "png"));
            Results.drop(inbox, "u7101.jpg", SampleImages.card("u7101", "jpg"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 14);
            // the same bytes as an image already submitted, under another name
            Results.drop(inbox, "u7012-again.png", SampleImages.card("u7100", "png"));

            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 15);
            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            for (var e : expected.entrySet()) {
                JsonNode r = results.get(e.getKey());
                assertEquals("REJECTED", r.path("status").asText(), e.getKey());
                assertEquals(e.getValue(), r.path("reasonCode").asText(), e.getKey());
                Path failed = app.failed().resolve(e.getKey());
                await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(failed, java.nio.file.LinkOption.NOFOLLOW_LINKS));
            }
            for (String name : good) {
                assertEquals("COMPLETED", results.get(name).path("status").asText(), name);
            }
            // a broken sidecar names nobody: not the file name's user it may have meant to override either
            for (String name : List.of("u7009-badjson.jpg", "u7013-linkedsidecar.png")) {
                assertTrue(results.get(name).path("partnerUserId").isNull(), results.get(name).toString());
            }
            assertTrue(Files.exists(target), "the link's target is untouched");
            assertTrue(Files.exists(stolen), "the sidecar link's target is untouched");
            assertFalse(Results.read(app.results()).stream().anyMatch(r -> "stolen-user".equals(
                    r.path("partnerUserId").asText())), "nothing was submitted under the linked sidecar's user");
            assertEquals(2, app.sandbox().submissionCount(), "only the good images reached OneKYC");
            assertEquals(2, app.sandbox().tokenIssuedCount());

            String log = logs.text();
            // the capture saw the lines written about these very inputs, so what is absent below was left out
            for (JsonNode r : results.values()) {
                assertTrue(log.contains("Result ready: ledger " + r.path("ledgerId").asText() + " "),
                        "no log line for the result of " + r.path("sourceFile").asText());
            }
            assertFalse(log.contains("X-Injected"), "header injection text is not echoed");
            assertFalse(log.contains("eyJ") || log.contains("X-Amz-Signature") || log.contains("sandbox-pass-key"));
            // file names are partner user ids by default (possibly a NIK): not even a rejected one is logged
            for (String name : expected.keySet()) {
                String user = name.substring(0, name.indexOf('-') > 0 ? name.indexOf('-') : name.indexOf('.'));
                assertFalse(log.contains(name), "a rejected file's name in the log: " + name);
                assertFalse(log.contains(user + "-") || log.contains(user + "."), "a partner user id in the log: " + user);
            }
            for (String name : good) {
                JsonNode ktp = results.get(name).path("submissionDetails").path("ktpData");
                assertFalse(log.contains(ktp.path("nik").asText()), "NIK in the log");
                assertFalse(log.contains(ktp.path("name").asText()), "name in the log");
            }
        }
    }

    /**
     * A named pipe under an image's name: opening it for reading waits for a writer, which never
     * comes, so the one submission worker would wait with it for good, and nothing else would flow.
     */
    @Test
    void aNamedPipeIsRejectedAndTheRestFlows() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.concurrency", "1"))) {
            Path inbox = Files.createDirectories(app.inbox());
            Path pipe = inbox.resolve("u7020-pipe.png");
            Process mkfifo;
            try {
                mkfifo = new ProcessBuilder("mkfifo", pipe.toString()).start();
            } catch (java.io.IOException e) {
                mkfifo = null;
            }
            assumeTrue(mkfifo != null, "no mkfifo");
            assertEquals(0, mkfifo.waitFor());
            try {
                Results.drop(inbox, "u7021.png", SampleImages.card("u7021", "png"));

                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);
                Map<String, JsonNode> results = Results.bySourceFile(app.results());
                assertEquals("REJECTED", results.get("u7020-pipe.png").path("status").asText(), results.toString());
                assertEquals("NOT_REGULAR_FILE", results.get("u7020-pipe.png").path("reasonCode").asText());
                assertEquals("COMPLETED", results.get("u7021.png").path("status").asText(), results.toString());
                await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(app.failed().resolve("u7020-pipe.png"),
                        java.nio.file.LinkOption.NOFOLLOW_LINKS) && !Files.exists(pipe, java.nio.file.LinkOption.NOFOLLOW_LINKS));
                assertEquals(1, app.sandbox().submissionCount(), "nothing about the pipe reached OneKYC");
            } finally {
                if (Files.exists(pipe, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    // a worker left waiting in its open gets its end of file, so the bundle can stop
                    CompletableFuture.runAsync(() -> {
                        try (var out = Files.newOutputStream(pipe)) {
                            out.flush();
                        } catch (java.io.IOException ignored) {
                            // nobody was reading
                        }
                    });
                }
            }
        }
    }
}

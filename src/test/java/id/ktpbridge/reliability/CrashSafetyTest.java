package id.ktpbridge.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.sandbox.ApiCall;
import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.sandbox.SandboxSettings;
import id.ktpbridge.testkit.ApiCalls;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.BridgeProcess;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 at random moments of a batch, several times, then a final run to the end: every input
 * must have exactly one confirmed submission at the emulator and exactly one result record.
 * The emulator lives in the test JVM so it survives the application's deaths.
 */
class CrashSafetyTest {

    private static final int IMAGES = 24;
    private static final int KILLS = 5;

    @TempDir
    Path work;

    private static long inboxImages(Path inbox) throws java.io.IOException {
        try (var files = Files.list(inbox)) {
            return files.filter(p -> p.toString().endsWith(".png") || p.toString().endsWith(".jpg")).count();
        }
    }

    @Test
    void killedAtRandomMomentsNothingIsLostOrDuplicated() throws Exception {
        int callbackPort = BridgeApp.freePort();
        SandboxSettings settings = new SandboxSettings();
        settings.setProcessingDelayMillis(700);
        // slow enough calls that the batch outlives the first kills: they land mid-flight
        settings.setLatencyMillis(60);
        settings.setCallbackUrl("http://127.0.0.1:" + callbackPort + "/coe/submissions-callback");
        settings.setCallbackAuthorization("Bearer crash-test");
        GtfSandbox sandbox = new GtfSandbox(settings).start();
        try {
            Path data = work.resolve("data");
            List<String> names = new ArrayList<>();
            for (int i = 0; i < IMAGES; i++) {
                String name = String.format("u%05d%s.%s", 6000 + i, i % 7 == 3 ? "-notektp" : "",
                        i % 2 == 0 ? "png" : "jpg");
                names.add(name);
                Results.drop(data.resolve("inbox"), name, SampleImages.card(name, i % 2 == 0 ? "png" : "jpg"));
            }
            Map<String, String> env = BridgeProcess.againstSandbox(sandbox.baseUrl(), data, callbackPort, "crash-test");
            Map<String, String> fast = Map.of("ktp.source.read-lock-min-age", "100", "ktp.source.poll-delay", "200",
                    "ktp.concurrency", "4", "ktp.poll.interval", "300", "ktp.poll.first-delay", "500",
                    "ktp.poll.initial-backoff", "300", "ktp.poll.max-backoff", "1000", "camel.server.host", "127.0.0.1",
                    "ktp.results.retry.interval", "300");
            Path log = Files.createDirectories(Path.of(System.getProperty("ktp.test.output", "target/test-output")))
                    .resolve("crash-safety-app.log");
            Files.deleteIfExists(log);

            Random random = new Random(20261125L);
            boolean killedMidBatch = false;
            // where each run's calls begin in the sandbox's request log
            List<Integer> runsFrom = new ArrayList<>(List.of(0));
            for (int i = 0; i < KILLS; i++) {
                BridgeProcess app = BridgeProcess.start(work, env, fast, log);
                // the countdown starts once the application is up (each run adds its "started in" line to
                // the log), not with its JVM: a slow start-up would use up its wait and the kill land
                // before any work
                long upBy = System.currentTimeMillis() + 120_000;
                while (startedRuns(log) < i + 1) {
                    if (!app.isAlive() || System.currentTimeMillis() >= upBy) {
                        // not left running into the tests after this one
                        app.kill();
                        throw new AssertionError("run " + (i + 1) + " did not start (log: " + log + ")");
                    }
                    Thread.sleep(50);
                }
                // kill after a random number of further OneKYC calls, so the kill lands at a random step
                int callsBefore = sandbox.requestLog().size();
                int more = 3 + random.nextInt(20);
                long deadline = System.currentTimeMillis() + 20_000;
                while (sandbox.requestLog().size() < callsBefore + more && System.currentTimeMillis() < deadline) {
                    Thread.sleep(5);
                }
                Thread.sleep(random.nextInt(60));
                app.kill();
                runsFrom.add(settledLogSize(sandbox));
                long left = inboxImages(data.resolve("inbox"));
                killedMidBatch |= left > 0 && left < IMAGES;
            }
            assertTrue(killedMidBatch, "at least one kill interrupted the batch half-way");
            // the files as the last kill left them, before the final run opens (and recovers) the ledger
            keepForDiagnosis(data, log.resolveSibling("crash-safety-data-before-final"));
            env.put("KTP_EXIT_WHEN_DONE", "true");
            int exit = BridgeProcess.start(work, env, fast, log).awaitExit(180);
            // kept whatever the outcome: a failure is diagnosed from this ledger
            keepForDiagnosis(data, log.resolveSibling("crash-safety-data"));
            assertEquals(0, exit, "the final run ends with every input accounted for (log: " + log + ")");

            Map<String, JsonNode> results = Results.bySourceFile(data.resolve("results"));
            assertEquals(Set.copyOf(names), results.keySet(), "one result per input");
            assertEquals(IMAGES, Results.count(data.resolve("results")), "no extra result records");

            Set<String> resultSubmissions = results.values().stream().map(r -> r.path("submissionId").asText())
                    .collect(Collectors.toSet());
            Set<String> confirmedAtEmulator = sandbox.submissionIds().stream()
                    .filter(id -> !"INITIATED".equals(sandbox.submissionStatus(id))).collect(Collectors.toSet());
            assertEquals(confirmedAtEmulator, resultSubmissions,
                    "exactly the confirmed submissions have results: none confirmed twice for one input");
            // a submission is confirmed once at the sandbox however many confirms it gets: its log shows
            // them. A run that was answered for a submission does not confirm it again; a later run may
            // (answered 409) when the kill came before the answer was recorded
            List<ApiCall> calls = sandbox.requestLog();
            runsFrom.add(calls.size());
            for (int run = 0; run + 1 < runsFrom.size(); run++) {
                assertEquals(Set.of(), ApiCalls.confirmedAgainAfterAnAnswer(
                        calls.subList(runsFrom.get(run), runsFrom.get(run + 1))),
                        "confirmed again in run " + (run + 1) + " after a confirm was answered");
            }
            for (JsonNode r : results.values()) {
                String expected = r.path("sourceFile").asText().contains("notektp") ? "INVALID" : "VALID";
                assertEquals(expected, r.path("result").asText(), r.path("sourceFile").asText());
            }
        } finally {
            sandbox.stop();
        }
    }

    /**
     * The request log's length once the calls a killed run left in the sandbox are answered: a call is
     * logged as it is answered, and one sent just before the kill must not count as the next run's.
     */
    private static int settledLogSize(GtfSandbox sandbox) throws InterruptedException {
        int size = -1;
        while (sandbox.requestLog().size() != size) {
            size = sandbox.requestLog().size();
            Thread.sleep(500);
        }
        return size;
    }

    /** How many runs logged that they had started. */
    private static int startedRuns(Path log) throws java.io.IOException {
        String text = new String(Files.readAllBytes(log), java.nio.charset.StandardCharsets.ISO_8859_1);
        return text.split(java.util.regex.Pattern.quote(") started in "), -1).length - 1;
    }

    /** The data folder of the last run (ledger, folders, results) next to its log, for a failure to be read. */
    private static void keepForDiagnosis(Path data, Path copy) throws java.io.IOException {
        if (Files.exists(copy)) {
            try (var old = Files.walk(copy)) {
                old.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        try (var files = Files.walk(data)) {
            for (Path p : files.toList()) {
                Path target = copy.resolve(data.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}

package id.ktpbridge;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import id.ktpbridge.batch.BatchMonitor;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.RecordingHttpServer;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ktp.exit-when-done=true}: process what is there, print a summary, exit 0 only when all is accounted for. */
class BatchModeTest {

    @TempDir
    Path dataDir;

    @Test
    void exitsZeroWithASummaryWhenEveryInputHasAResult() throws Exception {
        Path inbox = dataDir.resolve("inbox");
        Results.drop(inbox, "u4001.png", SampleImages.card("u4001", "png"));
        Results.drop(inbox, "u4002-notektp.jpg", SampleImages.card("u4002", "jpg"));
        Results.drop(inbox, "u4003.jpg", "not an image".getBytes(StandardCharsets.UTF_8));

        String printed = captureStdout(() -> assertEquals(0, BridgeApp.runBatch(dataDir, Map.of())));

        assertEquals(3, Results.count(dataDir.resolve("results")));
        assertTrue(printed.contains("batch summary"), printed);
        // each input named by its result file, not by its source file (often a NIK)
        for (com.fasterxml.jackson.databind.JsonNode result : Results.read(dataDir.resolve("results"))) {
            String name = result.path("submissionId").isNull() ? "local-" + result.path("ledgerId").asText()
                    : result.path("submissionId").asText();
            assertTrue(printed.lines().anyMatch(l -> l.startsWith(name) && l.contains(result.path("status").asText())),
                    name + " in " + printed);
        }
        assertFalse(printed.contains("u4001") || printed.contains("u4002") || printed.contains("u4003"), printed);
        assertTrue(printed.contains("VALID") && printed.contains("NOT_EKTP") && printed.contains("REJECTED"), printed);
        assertTrue(printed.contains("Every input has a result record."), printed);
    }

    @Test
    void theSummaryNamesSourceFilesWhenAskedTo() throws Exception {
        Results.drop(dataDir.resolve("inbox"), "u4011.png", SampleImages.card("u4011", "png"));

        String printed = captureStdout(() -> assertEquals(0, BridgeApp.runBatch(dataDir,
                Map.of("ktp.batch.summary.file-names", "true"))));

        assertTrue(printed.lines().anyMatch(l -> l.startsWith("u4011.png") && l.contains("VALID")), printed);
    }

    @Test
    void aHiddenDropFolderIsReadButNotItsHiddenFilesOrSubFolders() throws Exception {
        Path inbox = dataDir.resolve(".inbox");
        Results.drop(inbox, "u4021.png", SampleImages.card("u4021", "png"));
        Results.drop(inbox, ".u4022.png", SampleImages.card("u4022", "png"));
        Results.drop(inbox.resolve("sub"), "u4023.png", SampleImages.card("u4023", "png"));

        // max-wait only bounds a run that would otherwise wait for the folder's file for good
        String printed = captureStdout(() -> assertEquals(0, BridgeApp.runBatch(dataDir,
                Map.of("ktp.source.dir", inbox.toString(), "ktp.batch.max-wait", "30000"))));

        assertEquals(List.of("u4021.png"), List.copyOf(Results.bySourceFile(dataDir.resolve("results")).keySet()),
                printed);
        assertTrue(Files.exists(dataDir.resolve("done/u4021.png")));
        assertTrue(Files.exists(inbox.resolve(".u4022.png")), "a hidden file is left alone");
        assertTrue(Files.exists(inbox.resolve("sub/u4023.png")), "a sub-folder is not read");
    }

    @Test
    void aNamedPipeInTheDropFolderIsRejectedBeforeTheRunEnds() throws Exception {
        Path inbox = Files.createDirectories(dataDir.resolve("inbox"));
        Results.drop(inbox, "u4041.png", SampleImages.card("u4041", "png"));
        Path pipe = inbox.resolve("u4042-pipe.png");
        Process mkfifo;
        try {
            mkfifo = new ProcessBuilder("mkfifo", pipe.toString()).start();
        } catch (java.io.IOException e) {
            mkfifo = null;
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(mkfifo != null, "no mkfifo");
        assertEquals(0, mkfifo.waitFor());
        // listed with length 0, it was held back as an empty file that may still be written, and not
        // counted as waiting: the run ended without it, leaving it with no result
        String printed = captureStdout(() -> assertEquals(0, BridgeApp.runBatch(dataDir,
                Map.of("ktp.source.empty-file-min-age", "5m", "ktp.batch.max-wait", "60000"))));
        Map<String, com.fasterxml.jackson.databind.JsonNode> results = Results.bySourceFile(dataDir.resolve("results"));
        assertEquals("NOT_REGULAR_FILE", results.getOrDefault("u4042-pipe.png",
                com.fasterxml.jackson.databind.node.MissingNode.getInstance()).path("reasonCode").asText(), printed);
        assertEquals("COMPLETED", results.get("u4041.png").path("status").asText(), printed);
        assertFalse(Files.exists(pipe, java.nio.file.LinkOption.NOFOLLOW_LINKS), "moved to the failed folder");
    }

    @Test
    void aFileWhoseNameTheJvmCannotDecodeIsSaidByARunningServiceToo() throws Exception {
        Path inbox = Files.createDirectories(dataDir.resolve("inbox"));
        Path card = Files.write(dataDir.resolve("card.jpg"), SampleImages.card("latin1", "jpg"));
        Process cp = new ProcessBuilder("sh", "-c", "cp \"$0\" \"$(printf 'kartu-\\351.jpg')\"", card.toString())
                .directory(inbox.toFile()).inheritIO().start();
        assertEquals(0, cp.waitFor());
        // a service with nothing else to do: no batch end and no progress line to count the folder
        try (LogCapture log = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> log.count("The drop folder " + inbox + " holds 1 file(s) whose name") == 1);
            assertFalse(log.text().contains("kartu"), log.text());
        }
    }

    @Test
    void aFileWhoseNameTheJvmCannotDecodeDoesNotHoldUpTheRun() throws Exception {
        Path inbox = dataDir.resolve("inbox");
        Results.drop(inbox, "u4031.png", SampleImages.card("u4031", "png"));
        Results.drop(inbox, "u4032.jpg", SampleImages.card("u4032", "jpg"));
        // a name in Latin-1 (the byte 0xE9), which Java cannot even write under a UTF-8 locale
        Path card = Files.write(dataDir.resolve("card.jpg"), SampleImages.card("latin1", "jpg"));
        Process cp = new ProcessBuilder("sh", "-c", "cp \"$0\" \"$(printf 'kartu-\\351.jpg')\"", card.toString())
                .directory(inbox.toFile()).inheritIO().start();
        assertEquals(0, cp.waitFor());

        try (LogCapture log = new LogCapture()) {
            // the run does not wait for that file until max-wait; it ends with exit 1, saying why
            String printed = captureStdout(() -> assertEquals(1, BridgeApp.runBatch(dataDir,
                    Map.of("ktp.batch.max-wait", "60000"))));
            assertEquals(0, log.count("ktp.batch.max-wait passed"), "not held until max-wait: " + log.text());
            assertTrue(printed.contains("1 file(s) stay in the source folder untaken: their name is not valid"),
                    printed);

            assertEquals(java.util.Set.of("u4031.png", "u4032.jpg"),
                    Results.bySourceFile(dataDir.resolve("results")).keySet(), printed);
            assertTrue(log.count("The drop folder " + inbox + " holds 1 file(s) whose name") >= 1, log.text());
            assertFalse(log.text().contains("kartu") || printed.contains("kartu"), log.text());
        }
        try (java.util.stream.Stream<Path> left = Files.list(inbox)) {
            assertEquals(1, left.count(), "the file is left in the folder, for an operator to rename");
        }
    }

    @Test
    void aNameWithABackslashOrASymbolicLinkToNothingDoesNotHoldUpTheRun() throws Exception {
        Path inbox = dataDir.resolve("inbox");
        Results.drop(inbox, "u4041.png", SampleImages.card("u4041", "png"));
        // a legal Linux name (an archive made on Windows, unpacked), which Camel's file consumer reads
        // as a folder and a file, so it never finds it
        Results.drop(inbox, "scans\\u4042.png", SampleImages.card("u4042", "png"));
        Files.createSymbolicLink(inbox.resolve("u4043.png"), dataDir.resolve("gone.png"));

        try (LogCapture log = new LogCapture()) {
            String printed = captureStdout(() -> assertEquals(1, BridgeApp.runBatch(dataDir,
                    Map.of("ktp.batch.max-wait", "60000"))));
            assertEquals(0, log.count("ktp.batch.max-wait passed"), "not held until max-wait: " + log.text());
            assertTrue(printed.contains("1 file(s) stay in the source folder untaken: their name has a backslash"),
                    printed);
            assertTrue(printed.contains("1 symbolic link(s) stay in the source folder untaken: their target is"
                    + " missing"), printed);
            assertTrue(printed.contains("not every file could be taken"), printed);
            assertEquals(java.util.Set.of("u4041.png"), Results.bySourceFile(dataDir.resolve("results")).keySet(),
                    printed);
            assertFalse(log.text().contains("u4042") || log.text().contains("u4043"), log.text());
            assertFalse(printed.contains("u4042") || printed.contains("u4043"), printed);
        }
        assertTrue(Files.exists(inbox.resolve("scans\\u4042.png")), "left for an operator to rename");
        assertTrue(Files.isSymbolicLink(inbox.resolve("u4043.png")));
    }

    @Test
    void aFileDatedInTheFutureThatTheBundleMayNotRedateDoesNotHoldUpTheRun() throws Exception {
        Path inbox = dataDir.resolve("inbox");
        Results.drop(inbox, "u4061.png", SampleImages.card("u4061", "png"));
        Path ahead = inbox.resolve("u4062.png");
        Results.drop(inbox, "u4062.png", SampleImages.card("u4062", "png"));
        Files.setLastModifiedTime(ahead, java.nio.file.attribute.FileTime.fromMillis(
                System.currentTimeMillis() + 7 * 3_600_000L));
        // another account's file, which only its owner may date anew; to root, an immutable one
        assumeTrue(chattr("+i", ahead), "chattr +i is not available here");
        try {
            assumeTrue(cannotRedate(ahead), "an immutable file's date can still be set here");
            try (LogCapture log = new LogCapture()) {
                String printed = captureStdout(() -> assertEquals(1, BridgeApp.runBatch(dataDir,
                        Map.of("ktp.batch.max-wait", "60000"))));
                assertEquals(0, log.count("ktp.batch.max-wait passed"), "not held until max-wait: " + log.text());
                assertTrue(printed.contains("1 file(s) stay in the source folder untaken until their date has passed"),
                        printed);
                assertTrue(printed.contains("not every file could be taken"), printed);
                assertEquals(java.util.Set.of("u4061.png"),
                        Results.bySourceFile(dataDir.resolve("results")).keySet(), printed);
            }
            assertTrue(Files.exists(ahead));
        } finally {
            chattr("-i", ahead);
        }
    }

    @Test
    void aFileThatIsListedButCannotBeLookedAtDoesNotEndTheRunAsASuccess() throws Exception {
        // a path longer than the kernel takes (PATH_MAX, 4096 bytes): the folder lists the file, and every look at
        // it fails (ENAMETOOLONG), as every look does in a folder without its x bit (chmod -R 600) or on a share
        // refusing to stat its entries (EACCES, ESTALE). Root, which runs the tests, is refused neither of those
        Path deep = dataDir;
        while (deep.toString().length() < 3850) {
            deep = deep.resolve("d".repeat(100));
        }
        String name = "u4071" + "x".repeat(241) + ".png";
        Path staging = Files.createDirectories(dataDir.resolve("staging"));
        Files.write(staging.resolve(name), SampleImages.card("u4071", "png"));
        Path inbox = Files.move(staging, Files.createDirectories(deep).resolve("inbox"));
        try {
            assertThrows(java.nio.file.FileSystemException.class, () -> Files.size(inbox.resolve(name)));
            try (LogCapture log = new LogCapture()) {
                // it ended at once with exit 0 and "Inputs: 0", as if the folder were empty
                String printed = captureStdout(() -> assertEquals(1, BridgeApp.runBatch(dataDir,
                        Map.of("ktp.source.dir", inbox.toString(), "ktp.batch.max-wait", "60000"))));
                assertEquals(0, log.count("ktp.batch.max-wait passed"), "not held until max-wait: " + log.text());
                assertTrue(printed.contains("1 file(s) stay in the source folder untaken: they are listed but cannot be"
                        + " looked at"), printed);
                assertTrue(printed.contains("not every file could be taken"), printed);
                assertEquals(1, log.count("The file drop: a file that is listed but cannot be looked at"
                        + " (FileSystemException: File name too long) is left in the drop folder"), log.text());
                assertFalse(log.text().contains("u4071") || printed.contains("u4071"), printed);
            }
        } finally {
            // the temporary folder's clean-up cannot reach the file either
            Files.move(inbox, dataDir.resolve("inbox"));
        }
        assertTrue(Files.exists(dataDir.resolve("inbox").resolve(name)), "left in the folder");
    }

    @Test
    void aFileDroppedOnceTheRunIsFoundDoneIsNotTakenBehindItsSummary() throws Exception {
        Path inbox = dataDir.resolve("inbox");
        Results.drop(inbox, "u4081.png", SampleImages.card("u4081", "png"));
        int[] exit = {-1};
        String printed;
        // a file dropped once the run is found done and taken by the file route before it stops is finished and
        // in the summary. The route stopped only with the run, after the summary: such a file was submitted and
        // moved to done, and the run said "Inputs: 1 ... Every input has a result record."
        try (DropWhenDone late = new DropWhenDone(inbox, "u4082.png")) {
            printed = captureStdout(() -> exit[0] = BridgeApp.runBatch(dataDir, Map.of("ktp.batch.max-wait", "60000")));
            assertTrue(late.taken, "the file route took the file dropped as it stopped");
        }
        assertEquals(0, exit[0], printed);
        assertTrue(printed.contains("Inputs: 2 "), printed);
        assertTrue(printed.contains("Every input has a result record."), printed);
        assertEquals(java.util.Set.of("u4081.png", "u4082.png"),
                Results.bySourceFile(dataDir.resolve("results")).keySet(), printed);
    }

    /**
     * Drops a file into the drop folder once the run is found done (the batch monitor says so, or
     * the application starts to shut down should it not), and holds the thread that logged it until
     * the file has left the folder.
     */
    private static final class DropWhenDone extends org.apache.logging.log4j.core.appender.AbstractAppender
            implements AutoCloseable {

        private final org.apache.logging.log4j.core.LoggerContext context =
                (org.apache.logging.log4j.core.LoggerContext) org.apache.logging.log4j.LogManager.getContext(false);
        private final Path inbox;
        private final String name;
        private final java.util.concurrent.atomic.AtomicBoolean dropped = new java.util.concurrent.atomic.AtomicBoolean();
        private volatile boolean taken;

        DropWhenDone(Path inbox, String name) {
            super("drop-when-done-" + System.nanoTime(), null, null, true,
                    org.apache.logging.log4j.core.config.Property.EMPTY_ARRAY);
            this.inbox = inbox;
            this.name = name;
            start();
            context.getConfiguration().getRootLogger().addAppender(this, null, null);
            context.updateLoggers();
        }

        @Override
        public void append(org.apache.logging.log4j.core.LogEvent event) {
            String line = event.getMessage().getFormattedMessage();
            boolean done = line.startsWith("Batch monitor: every input is done") || line.contains(") is shutting down");
            if (!done || !dropped.compareAndSet(false, true)) {
                return;
            }
            try {
                Results.drop(inbox, name, SampleImages.card("u4082", "png"));
                long until = System.currentTimeMillis() + 15_000;
                while (Files.exists(inbox.resolve(name)) && System.currentTimeMillis() < until) {
                    Thread.sleep(50);
                }
                taken = !Files.exists(inbox.resolve(name));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void close() {
            context.getConfiguration().getRootLogger().removeAppender(getName());
            context.updateLoggers();
            stop();
        }
    }

    private static boolean chattr(String change, Path file) throws Exception {
        try {
            Process p = new ProcessBuilder("chattr", change, file.toString()).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (java.io.IOException noChattr) {
            return false;
        }
    }

    private static boolean cannotRedate(Path file) {
        try {
            Files.setLastModifiedTime(file, Files.getLastModifiedTime(file));
            return false;
        } catch (java.io.IOException refused) {
            return true;
        }
    }

    @Test
    void exitsFourWhenSomeInputsGotNoVerdictFromOneKyc() throws Exception {
        Results.drop(dataDir.resolve("inbox"), "u4051.png", SampleImages.card("u4051", "png"));
        // the token endpoint fails every call, and such an outage is not waited out: every input has
        // its result, a FAILED one
        String printed = captureStdout(() -> assertEquals(4, BridgeApp.runBatch(dataDir,
                Map.of("gtf.sandbox.faults.failure-rate.token", "1", "gtf.retry.max-attempts", "1",
                        "ktp.submit.retry-window", "0"))));

        assertEquals(1, Results.count(dataDir.resolve("results")));
        assertTrue(printed.contains("GTF_USER_TOKEN_FAILED"), printed);
        assertTrue(printed.contains("Every input has a result record."), printed);
        assertTrue(printed.contains("1 input(s) got no verdict from OneKYC"), printed);
    }

    @Test
    void exitsNonZeroWhenResultsAreMissingAtTheDeadline() throws Exception {
        Results.drop(dataDir.resolve("inbox"), "u4101.png", SampleImages.card("u4101", "png"));

        // long enough for a loaded machine to confirm the submission, far from the minute OneKYC takes
        String printed;
        try (LogCapture log = new LogCapture()) {
            printed = captureStdout(() -> assertEquals(1, BridgeApp.runBatch(dataDir,
                    Map.of("gtf.sandbox.processing-delay", "60000", "ktp.batch.max-wait", "10000"))));
            assertEquals(1, log.count("ktp.batch.max-wait passed with 1 input(s) still open in the ledger and 0 file(s)"
                    + " in the drop folder"), log.text());
        }

        assertEquals(0, Results.count(dataDir.resolve("results")));
        assertTrue(printed.contains("Some inputs have no result record yet."), printed);
        assertTrue(printed.contains("CONFIRMED"), printed);
    }

    @Test
    void anInputLeftWhereNoSourceOfTheRunReadsIsEndedInsteadOfHoldingTheRunToItsMaxWait() throws Exception {
        // a service run with the SFTP source on, killed while an input waited out an outage, on this ledger;
        // batch mode runs the file drop only
        String stranded = java.util.UUID.randomUUID().toString();
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            app.ledger().insert(new id.ktpbridge.ledger.NewInput(stranded, "sftp", "sftp://sftp.example:22/inbox/u4061.png",
                    "u4061.png", "ab".repeat(32), 1L, "image/png", "P", "u4061", "T", "ps-4061", "sdk-4061", null),
                    id.ktpbridge.ledger.SubmissionState.RECEIVED);
        }
        Results.drop(dataDir.resolve("inbox"), "u4062.png", SampleImages.card("u4062", "png"));

        String printed;
        int[] exit = {-1};
        try (LogCapture log = new LogCapture()) {
            printed = captureStdout(() -> exit[0] = BridgeApp.runBatch(dataDir, Map.of("ktp.batch.max-wait", "60000")));
            assertEquals(0, log.count("ktp.batch.max-wait passed"), "not held to ktp.batch.max-wait: " + log.text());
        }
        assertEquals(BatchMonitor.EXIT_WITHOUT_VERDICT, exit[0], printed);
        assertTrue(printed.lines().anyMatch(l -> l.startsWith("local-" + stranded) && l.contains("SOURCE_GONE")),
                printed);
        assertTrue(printed.contains("Every input has a result record."), printed);
        assertEquals(2, Results.count(dataDir.resolve("results")));
    }

    @Test
    void waitsForDeliveriesAndExitsNonZeroWhileATargetStillRefuses() throws Exception {
        Results.drop(dataDir.resolve("inbox"), "u4201.png", SampleImages.card("u4201", "png"));
        try (RecordingHttpServer http = new RecordingHttpServer()) {
            http.answer(503);
            String printed = captureStdout(() -> assertEquals(1, BridgeApp.runBatch(dataDir, Map.of(
                    "ktp.results.targets", "file,http", "ktp.results.http.url", http.url("/ktp/results"),
                    "ktp.results.retry.initial-backoff", "200", "ktp.results.retry.interval", "300",
                    // the delivery wait, counted once only the delivery is left, ends the run; max-wait
                    // only bounds it should that not happen
                    "ktp.batch.delivery-wait", "2000", "ktp.batch.max-wait", "90000"))));

            assertEquals(1, Results.count(dataDir.resolve("results")), "the file target has it");
            assertTrue(http.received().size() >= 2, "the HTTP target was tried again while the batch waited");
            assertTrue(printed.contains("1 result deliveries still pending"), printed);
        }
    }

    @Test
    void deliveriesATargetStillDoesNotTakeWaitForTheNextRun() throws Exception {
        Results.drop(dataDir.resolve("inbox"), "u4301.png", SampleImages.card("u4301", "png"));
        try (RecordingHttpServer http = new RecordingHttpServer()) {
            // max-wait far beyond the delivery wait: it only bounds the run should the delivery wait not end it
            Map<String, String> props = Map.of("ktp.results.targets", "file,http",
                    "ktp.results.http.url", http.url("/ktp/results"), "ktp.results.retry.initial-backoff", "200",
                    "ktp.results.retry.interval", "300", "ktp.batch.delivery-wait", "1500",
                    "ktp.batch.max-wait", "90000");
            http.answer(503);
            String printed;
            try (LogCapture logs = new LogCapture()) {
                printed = captureStdout(() -> assertEquals(1, BridgeApp.runBatch(dataDir, props)));
                assertEquals(1, logs.count("Result deliveries still pending after ktp.batch.delivery-wait"),
                        "ended by the delivery wait, not ktp.batch.max-wait");
            }
            assertTrue(printed.contains("1 result deliveries still pending, queued for the next run"), printed);
            assertTrue(printed.contains("Every input has a result record, but not every target has it."), printed);
            assertEquals(0, http.accepted().size());

            // the next run, with the target back, delivers it and has nothing else to do
            http.answer(200);
            String next = captureStdout(() -> assertEquals(0, BridgeApp.runBatch(dataDir, props)));
            assertEquals(1, http.accepted().size(), next);
            assertTrue(http.accepted().get(0).body().contains("u4301"));
        }
    }

    @Test
    void aTargetWhoseAttemptsHangStillEndsTheRunAfterTheDeliveryWait() throws Exception {
        Results.drop(dataDir.resolve("inbox"), "u4311.png", SampleImages.card("u4311", "png"));
        try (RecordingHttpServer http = new RecordingHttpServer()) {
            // each attempt goes on until its 3 s deadline, the next one 300 ms later: nearly always one
            // in flight, which restarted the delivery wait at every check
            http.trickle(Duration.ofMillis(200));
            Map<String, String> props = new java.util.HashMap<>(Map.of("ktp.results.targets", "file,http",
                    "ktp.results.http.url", http.url("/ktp/results"), "ktp.results.http.deadline", "3s",
                    "ktp.results.http.connect-timeout", "500ms", "ktp.results.http.timeout", "2s",
                    "ktp.results.retry.initial-backoff", "200", "ktp.results.retry.interval", "300"));
            props.putAll(Map.of("ktp.results.retry.max-backoff", "300", "ktp.batch.delivery-wait", "1500",
                    "ktp.batch.max-wait", "30000"));
            try (LogCapture logs = new LogCapture()) {
                String printed = captureStdout(() -> assertEquals(1, BridgeApp.runBatch(dataDir, props)));
                assertEquals(1, logs.count("Result deliveries still pending after ktp.batch.delivery-wait"),
                        "ended by the delivery wait, not ktp.batch.max-wait: " + printed);
                assertEquals(0, logs.count("ktp.batch.max-wait passed"));
            }
        }
    }

    @Test
    void aDeliveryRefusedForGoodMakesTheRunFail() throws Exception {
        Results.drop(dataDir.resolve("inbox"), "u4401.png", SampleImages.card("u4401", "png"));
        try (RecordingHttpServer http = new RecordingHttpServer()) {
            http.answer(422);
            String printed = captureStdout(() -> assertEquals(1, BridgeApp.runBatch(dataDir, Map.of(
                    "ktp.results.targets", "file,http", "ktp.results.http.url", http.url("/ktp/results")))));
            assertTrue(printed.contains("1 result deliveries refused by their target"), printed);
            assertEquals(1, Results.count(dataDir.resolve("results")), "the file target has it");
        }
    }

    @Test
    void batchModeIsRefusedWithARemoteSource() {
        // a bucket or an SFTP folder is first looked at on its source's first poll: the batch could
        // end with nothing in the drop folder before that, with exit 0 and nothing done
        String messages = BridgeApp.startupError(dataDir, Map.of("ktp.exit-when-done", "true",
                "ktp.source.sftp.enabled", "true", "ktp.source.sftp.host", "127.0.0.1",
                "ktp.source.sftp.user", "partner", "ktp.source.sftp.password", "secret",
                "ktp.source.sftp.startup-check", "false"));
        assertTrue(messages.contains("batch mode) drains the file drop folder only"), messages);
    }

    @Test
    void batchModeIsRefusedWithTheFileDropOff() {
        String messages = BridgeApp.startupError(dataDir, Map.of("ktp.exit-when-done", "true",
                "ktp.source.file.enabled", "false"));
        assertTrue(messages.contains("which ktp.source.file.enabled=false turns off"), messages);
    }

    @Test
    void withTheFileDropOffAFileInTheFolderIsLeftAlone() throws Exception {
        Path inbox = Files.createDirectories(dataDir.resolve("inbox"));
        Results.drop(inbox, "u4402.png", SampleImages.card("u4402", "png"));
        try (id.ktpbridge.testkit.LogCapture log = new id.ktpbridge.testkit.LogCapture();
             BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.source.file.enabled", "false"))) {
            assertEquals(org.apache.camel.ServiceStatus.Stopped,
                    app.context().getRouteController().getRouteStatus("ingest-file"));
            // with no other source on either, the instance says it takes nothing
            assertTrue(log.text().contains("No source is on"), "warned");
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5))
                    .until(() -> Files.exists(inbox.resolve("u4402.png")));
            assertEquals(0, app.sandbox().submissionCount());
            assertTrue(app.ledger().createdSince(0).isEmpty());
        }
    }

    private interface Action {
        void run() throws Exception;
    }

    private static String captureStdout(Action action) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            action.run();
        } finally {
            System.setOut(original);
        }
        return buffer.toString(StandardCharsets.UTF_8);
    }
}

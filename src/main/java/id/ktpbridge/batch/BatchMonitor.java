package id.ktpbridge.batch;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.IntSupplier;
import java.util.function.LongToIntFunction;

import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.result.ResultStatus;
import org.apache.camel.CamelContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batch mode ({@code ktp.exit-when-done=true}): waits until the source folder is drained, nothing
 * is in flight and every submission has its result (or {@code ktp.batch.max-wait} passes), prints
 * a summary and ends the run: exit 0 only when every input of this run has a result record that
 * reached every target. Results a target still does not take {@code ktp.batch.delivery-wait}
 * after everything else is done stay queued for the next run (exit 1, naming them); results a
 * target refused for good also give exit 1, as do files the file route leaves untaken: a name the
 * JVM cannot decode or with a backslash, a symbolic link to no file, a file that can be listed but
 * not looked at, a file dated in the future that the bundle may not date now (taken only once that
 * date has passed). A run that is complete but in which some inputs got no verdict from OneKYC
 * (FAILED, TIMED_OUT) exits 4. Once the run is found done, the file drop stops taking files before
 * the summary is written: a file dropped later waits for the next run.
 */
public class BatchMonitor implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(BatchMonitor.class);
    /**
     * Exit code of a run in which every input has its result, some of them FAILED or TIMED_OUT. Not
     * 3: that is the JVM's own exit on running out of memory ({@code -XX:+ExitOnOutOfMemoryError},
     * which the launcher and the Kubernetes manifests set), a run that ended with inputs open.
     */
    public static final int EXIT_WITHOUT_VERDICT = 4;
    /** The file drop's route (routes/ingest-file.yaml), stopped once the run is found done. */
    static final String FILE_ROUTE = "ingest-file";

    private final CamelContext context;
    private final Ledger ledger;
    private final DropFolder dropFolder;
    private final Duration maxWait;
    private final Duration checkEvery;
    private final BiConsumer<Integer, String> finish;
    private final IntSupplier pendingDeliveries;
    private final LongToIntFunction refusedSince;
    private final Duration deliveryWait;
    private final long startedAt = System.currentTimeMillis();
    /** The wait's state, kept across the checks before and after the file route stops (one thread). */
    private int quietChecks;
    private long onlyDeliveriesSince = -1;
    private boolean away;

    /**
     * @param refusedSince deliveries refused for good since the given time (epoch millis)
     * @param deliveryWait how long pending deliveries alone keep the run open
     */
    private volatile boolean sourceFileNames;
    /** Open inputs at a place this configuration does not read, left to whoever reads it: not waited for. */
    private volatile IntSupplier notWaitedFor = () -> 0;

    public BatchMonitor(CamelContext context, Ledger ledger, IntSupplier pendingDeliveries,
                        LongToIntFunction refusedSince, Duration deliveryWait, DropFolder dropFolder,
                        Duration maxWait, Duration checkEvery, BiConsumer<Integer, String> finish) {
        this.context = context;
        this.pendingDeliveries = pendingDeliveries;
        this.refusedSince = refusedSince;
        this.deliveryWait = deliveryWait;
        this.ledger = ledger;
        this.dropFolder = dropFolder;
        this.maxWait = maxWait;
        this.checkEvery = checkEvery;
        this.finish = finish;
    }

    /** Whether the summary names each input by its source file ({@code ktp.batch.summary.file-names}), not its result. */
    public void sourceFileNames(boolean on) {
        this.sourceFileNames = on;
    }

    /**
     * Open inputs the run does not wait for: found at start at a place no source of this configuration
     * reads, and not this process's to end (see StrandedInputs). They keep the run from a success.
     */
    public void notWaitingFor(IntSupplier stranded) {
        this.notWaitedFor = stranded;
    }

    public void start() {
        Thread t = new Thread(this, "ktp-batch-monitor");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void run() {
        long deadline = startedAt + maxWait.toMillis();
        try {
            End end = waitForTheEnd(deadline, true);
            if (end != End.MAX_WAIT) {
                // the file route kept taking files while the summary was written: one dropped then was submitted
                // (its file moved to done) and the run still said every input had its result. Stopped first, a
                // file it took since the last check is finished before the summary; the others wait there
                stopTakingFiles();
                quietChecks = 0;
                // its own two checks at least, even when the first wait ended right at the deadline: the
                // run was found done, and must not then be reported as ended by ktp.batch.max-wait
                end = waitForTheEnd(Math.max(deadline, System.currentTimeMillis() + 3 * checkEvery.toMillis()), false);
            }
            if (end == End.DELIVERIES_PENDING) {
                LOG.warn("Result deliveries still pending after ktp.batch.delivery-wait; they stay queued for the"
                        + " next run");
            } else if (end == End.MAX_WAIT) {
                LOG.warn("ktp.batch.max-wait passed with {}; ending the run", openInputs());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        int code = 1;
        try {
            code = report(new PrintStream(text, true, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            // the run still ends: with exit 1 and what could be printed
            new PrintStream(text, true, StandardCharsets.UTF_8).printf("%nThe summary could not be read from the"
                    + " ledger (%s); see the results and ktp_submission.%n", e.getMessage());
        } finally {
            finish.accept(code, text.toString(StandardCharsets.UTF_8));
        }
    }

    /** How the wait for the end of the run ended. */
    private enum End {
        /** nothing in flight, open or waiting, every result delivered */
        DONE,
        /** only deliveries left, for ktp.batch.delivery-wait */
        DELIVERIES_PENDING,
        MAX_WAIT
    }

    /**
     * Checks every {@link #checkEvery} until the run is done (twice in a row), only deliveries have
     * been left for {@link #deliveryWait}, or {@code deadline} passes.
     *
     * @param folderToo whether files waiting in the drop folder keep the run open (not once its route is stopped)
     */
    private End waitForTheEnd(long deadline, boolean folderToo) throws InterruptedException {
        while (System.currentTimeMillis() < deadline) {
            Thread.sleep(checkEvery.toMillis());
            boolean done;
            boolean delivered;
            try {
                // cheapest first: while inputs are in flight the folder is not listed at all. A stored result
                // still due to a target (a retry, or one a killed run had taken) keeps the batch open too,
                // for at most ktp.batch.delivery-wait once nothing else is left
                // in flight, only the file route's exchanges count (an input taken before its ledger
                // row): every other route's work shows in the ledger. Counted too, the poll tick, the
                // retry schedule and a delivery attempt hanging until its deadline kept restarting the
                // delivery wait, and a run with a failing target ended at ktp.batch.max-wait instead
                done = context.getInflightRepository().size(FILE_ROUTE) == 0 && nothingOpenToWaitFor(!folderToo)
                        && !(folderToo && dropFolder.anyWaiting());
                delivered = done && pendingDeliveries.getAsInt() == 0;
                away = false;
            } catch (RuntimeException e) {
                // the ledger away for a moment (a failover) or the drop folder unlistable (a share's hiccup):
                // not quiet, and the wait goes on
                if (!away) {
                    LOG.warn("Batch monitor: {}; still waiting", e instanceof DropFolder.ListingFailed
                            ? e.getMessage() : "the ledger did not answer (" + e.getMessage() + ")");
                }
                away = true;
                quietChecks = 0;
                onlyDeliveriesSince = -1;
                continue;
            }
            quietChecks = delivered ? quietChecks + 1 : 0;
            if (quietChecks >= 2) {
                return End.DONE;
            }
            long now = System.currentTimeMillis();
            onlyDeliveriesSince = done && !delivered ? (onlyDeliveriesSince < 0 ? now : onlyDeliveriesSince) : -1;
            if (onlyDeliveriesSince >= 0 && now - onlyDeliveriesSince >= deliveryWait.toMillis()) {
                return End.DELIVERIES_PENDING;
            }
        }
        return End.MAX_WAIT;
    }

    /** Open inputs no worker has in hand while the file route is stopped: their files wait in the folder. */
    private static final java.util.Set<String> BEFORE_CONFIRM = java.util.Set.of(SubmissionState.RECEIVED.name(),
            SubmissionState.PRESIGNED.name(), SubmissionState.UPLOADED.name());

    /**
     * Whether every open input is one the run does not wait for (usually: none is open). Once the
     * file route is stopped (and nothing is in flight) an input not yet confirmed, one a passing
     * failure gave back to the folder in the moment before the stop, can only wait there: not
     * waited for (the summary counts it open, exit 1), where the run would wait for its max-wait.
     */
    private boolean nothingOpenToWaitFor(boolean fileRouteStopped) {
        Map<String, Integer> open = ledger.openCounts();
        if (fileRouteStopped) {
            return open.entrySet().stream().filter(e -> !BEFORE_CONFIRM.contains(e.getKey()))
                    .mapToLong(Map.Entry::getValue).sum() == 0;
        }
        return open.isEmpty() || open.values().stream().mapToLong(Integer::longValue).sum() <= notWaitedFor.getAsInt();
    }

    /**
     * Stops the file drop's route (the only source batch mode runs, see BundleConfiguration), waiting
     * for the files it has in hand as a graceful stop does (up to camel.main.shutdown-timeout).
     */
    private void stopTakingFiles() {
        if (context.getRoute(FILE_ROUTE) == null) {
            LOG.warn("Batch monitor: no route {} to stop; a file dropped from now on may be taken after the summary",
                    FILE_ROUTE);
            return;
        }
        LOG.info("Batch monitor: every input is done; the file drop stops taking files, and the summary follows");
        try {
            context.getRouteController().stopRoute(FILE_ROUTE);
        } catch (Exception e) {
            LOG.warn("Batch monitor: the route {} could not be stopped ({}); a file dropped from now on may be taken"
                    + " after the summary", FILE_ROUTE, e.getMessage());
        }
    }

    /**
     * Inputs still open in the ledger and files still in the drop folder, apart: one taken but not
     * yet confirmed (or waiting out an outage) is in both.
     */
    private String openInputs() {
        try {
            return ledger.openCounts().values().stream().mapToLong(Integer::longValue).sum()
                    + " input(s) still open in the ledger and " + dropFolder.waiting() + " file(s) in the drop folder";
        } catch (RuntimeException e) {
            return "inputs still open (how many could not be read)";
        }
    }

    /** Prints the summary; returns the exit code. */
    int report(PrintStream out) {
        Map<DropFolder.Kind, Long> folder;
        String unlisted = null;
        try {
            folder = dropFolder.census();
        } catch (DropFolder.ListingFailed e) {
            // not known: the run cannot say every input was taken
            unlisted = e.getMessage();
            folder = Map.of();
        }
        long waiting = folder.getOrDefault(DropFolder.Kind.WAITING, 0L);
        long unmoved = folder.getOrDefault(DropFolder.Kind.SETTLED, 0L);
        long unnamed = folder.getOrDefault(DropFolder.Kind.UNDECODABLE, 0L);
        long backslashed = folder.getOrDefault(DropFolder.Kind.BACKSLASH, 0L);
        long danglingLinks = folder.getOrDefault(DropFolder.Kind.DANGLING_LINK, 0L);
        long ahead = folder.getOrDefault(DropFolder.Kind.FUTURE_DATED, 0L);
        long unexaminable = folder.getOrDefault(DropFolder.Kind.UNEXAMINABLE, 0L);
        Map<String, Integer> open = ledger.openCounts();
        BatchSummary summary = new BatchSummary(out, sourceFileNames);
        // this run's inputs: those it took, and those of an earlier run it gave their result (resumed)
        ledger.forEachOfRun(startedAt, summary::add);
        summary.finish();
        Ledger.Progress counts = ledger.progressOfRun(startedAt);
        int pending = pendingDeliveries.getAsInt();
        int refused = refusedSince.applyAsInt(startedAt);
        // an input of an earlier run that ended without its result counts too: this run was to finish it
        long earlierWithoutResult = ledger.endedWithoutResult();
        // an input still open at the end (max-wait passed) has no result either, whichever run took it
        boolean recorded = unlisted == null && waiting == 0 && open.isEmpty() && counts.withoutResult() == 0 && earlierWithoutResult == 0;
        boolean complete = recorded && pending == 0 && refused == 0 && unmoved == 0 && unnamed == 0
                && backslashed == 0 && danglingLinks == 0 && ahead == 0 && unexaminable == 0;
        if (unlisted != null) {
            out.printf("Inputs may still wait in the source folder: %s%n", unlisted);
        }
        if (waiting > 0) {
            out.printf("%d input(s) still waiting in the source folder%n", waiting);
        }
        if (unmoved > 0) {
            out.printf("%d input(s) stay in the source folder with their result recorded: the move to the done or"
                    + " failed folder was refused (see the ERROR lines)%n", unmoved);
        }
        if (unnamed > 0) {
            out.printf("%d file(s) stay in the source folder untaken: their name is not valid in the JVM's character"
                    + " set for file names (see the WARN line; rename them)%n", unnamed);
        }
        if (backslashed > 0) {
            out.printf("%d file(s) stay in the source folder untaken: their name has a backslash, which the file"
                    + " consumer reads as a folder (rename them)%n", backslashed);
        }
        if (danglingLinks > 0) {
            out.printf("%d symbolic link(s) stay in the source folder untaken: their target is missing%n",
                    danglingLinks);
        }
        if (unexaminable > 0) {
            out.printf("%d file(s) stay in the source folder untaken: they are listed but cannot be looked at (a"
                    + " folder without its search permission, x; a share refusing to stat them: see the WARN line)%n",
                    unexaminable);
        }
        if (ahead > 0) {
            out.printf("%d file(s) stay in the source folder untaken until their date has passed: dated more than a"
                    + " minute in the future, and the bundle may not date them now (see the WARN line)%n", ahead);
        }
        if (!open.isEmpty()) {
            out.printf("Open submissions: %s%n", open);
            int stranded = notWaitedFor.getAsInt();
            if (stranded > 0) {
                out.printf("%d of them wait at a place no source of this run reads, left to the instance that reads it"
                        + " (see the WARN line and README, Inputs in flight when a source changes)%n", stranded);
            }
        }
        if (earlierWithoutResult > 0) {
            out.printf("%d input(s) ended without a stored result (see ktp_submission.result_status)%n",
                    earlierWithoutResult);
        }
        if (pending > 0) {
            out.printf("%d result deliveries still pending, queued for the next run (see ktp_delivery)%n", pending);
        }
        if (refused > 0) {
            out.printf("%d result deliveries refused by their target (see ktp_delivery.last_error)%n", refused);
        }
        out.println(complete ? "Every input has a result record." : !recorded ? "Some inputs have no result record yet."
                : pending > 0 || refused > 0 ? "Every input has a result record, but not every target has it."
                : unmoved > 0 ? "Every input has a result record, but not every input could be moved away."
                : "Every input taken has a result record, but not every file could be taken.");
        // FAILED and TIMED_OUT are the bundle's own verdicts: OneKYC's was never had (a refused pass-key,
        // an outage, no outcome by the deadline), so the run is not a success although it is complete;
        // nor is a COMPLETED that never got its result
        int withoutVerdict = summary.count(ResultStatus.FAILED.name()) + summary.count(ResultStatus.TIMED_OUT.name())
                + summary.completedWithoutResult();
        if (complete && withoutVerdict > 0) {
            out.printf("%d input(s) got no verdict from OneKYC (FAILED, TIMED_OUT, or COMPLETED without a result;"
                    + " see their reason codes)%n", withoutVerdict);
        }
        out.flush();
        return !complete ? 1 : withoutVerdict > 0 ? EXIT_WITHOUT_VERDICT : 0;
    }
}

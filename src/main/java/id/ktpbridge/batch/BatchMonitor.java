package id.ktpbridge.batch;

import java.io.IOException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.IntSupplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerRecord;
import org.apache.camel.CamelContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batch mode ({@code ktp.exit-when-done=true}): waits until the source folder is drained, nothing
 * is in flight and every submission has its result (or {@code ktp.batch.max-wait} passes), prints
 * a summary and ends the run: exit 0 only when every input of this run has a result record and
 * every result has reached its targets (or been refused by them for good).
 */
public class BatchMonitor implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(BatchMonitor.class);

    private final CamelContext context;
    private final Ledger ledger;
    private final Path sourceDir;
    private final Pattern include;
    private final Duration maxWait;
    private final Duration checkEvery;
    private final BiConsumer<Integer, String> finish;
    private final IntSupplier pendingDeliveries;
    private final long startedAt = System.currentTimeMillis();

    public BatchMonitor(CamelContext context, Ledger ledger, IntSupplier pendingDeliveries, Path sourceDir,
                        String includePattern, Duration maxWait, Duration checkEvery, BiConsumer<Integer, String> finish) {
        this.context = context;
        this.pendingDeliveries = pendingDeliveries;
        this.ledger = ledger;
        this.sourceDir = sourceDir;
        this.include = Pattern.compile(includePattern);
        this.maxWait = maxWait;
        this.checkEvery = checkEvery;
        this.finish = finish;
    }

    public void start() {
        Thread t = new Thread(this, "ktp-batch-monitor");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void run() {
        long deadline = startedAt + maxWait.toMillis();
        int quietChecks = 0;
        try {
            while (System.currentTimeMillis() < deadline) {
                Thread.sleep(checkEvery.toMillis());
                // cheapest first: while inputs are in flight the folder is not listed at all. A stored result
                // still due to a target (a retry, or one a killed run had taken) keeps the batch open too
                boolean idle = context.getInflightRepository().size() == 0 && ledger.openCounts().isEmpty()
                        && pendingDeliveries.getAsInt() == 0 && !anyFileWaiting();
                quietChecks = idle ? quietChecks + 1 : 0;
                if (quietChecks >= 2) {
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (RuntimeException e) {
            LOG.error("Batch monitor failed: {}", e.getMessage());
        }
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        int code = report(new PrintStream(text, true, StandardCharsets.UTF_8));
        finish.accept(code, text.toString(StandardCharsets.UTF_8));
    }

    /** Prints the summary; returns the exit code. */
    int report(PrintStream out) {
        List<LedgerRecord> rows = ledger.createdSince(startedAt);
        long waiting = waitingFiles();
        Map<String, Integer> open = ledger.openCounts();
        BatchSummary summary = BatchSummary.of(rows);
        summary.print(out);
        int pending = pendingDeliveries.getAsInt();
        boolean complete = waiting == 0 && pending == 0
                && rows.stream().allMatch(r -> r.state().isFinal() && r.resultStatus() != null);
        if (waiting > 0) {
            out.printf("%d input(s) still waiting in the source folder%n", waiting);
        }
        if (!open.isEmpty()) {
            out.printf("Open submissions: %s%n", open);
        }
        if (pending > 0) {
            out.printf("%d result deliveries still pending (see ktp_delivery)%n", pending);
        }
        out.println(complete ? "Every input has a result record." : "Some inputs have no result record yet.");
        out.flush();
        return complete ? 0 : 1;
    }

    private boolean anyFileWaiting() {
        if (!Files.isDirectory(sourceDir)) {
            return false;
        }
        try (Stream<Path> files = Files.list(sourceDir)) {
            return files.anyMatch(p -> include.matcher(p.getFileName().toString()).matches() && Files.isRegularFile(p));
        } catch (IOException e) {
            return false;
        }
    }

    private long waitingFiles() {
        if (!Files.isDirectory(sourceDir)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(sourceDir)) {
            return files.filter(Files::isRegularFile)
                    .filter(p -> include.matcher(p.getFileName().toString()).matches())
                    .count();
        } catch (IOException e) {
            return 0;
        }
    }
}

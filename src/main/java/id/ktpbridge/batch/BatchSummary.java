package id.ktpbridge.batch;

import java.io.PrintStream;
import java.util.Map;
import java.util.TreeMap;

import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.result.ResultDocument;

/**
 * The table printed at the end of a batch: one line per input, then totals per status. Rows are
 * printed as they are read, so a batch of any size is summarised without holding it in memory.
 * Each input is named by its result file's name unless source file names are asked for: those are
 * often a partner user id (a NIK), and the summary goes where the log goes.
 */
final class BatchSummary {

    /** Wide enough for the usual names and a submission id; a longer one pushes its line's other columns right. */
    private static final int NAME_WIDTH = 36;
    private static final String LINE = "%-" + NAME_WIDTH + "s  %-6s  %-10s  %-8s  %-28s  %s%n";

    private final PrintStream out;
    private final boolean sourceFileNames;
    private final Map<String, Integer> totals = new TreeMap<>();
    private int inputs;
    private int completedWithoutResult;

    BatchSummary(PrintStream out, boolean sourceFileNames) {
        this.out = out;
        this.sourceFileNames = sourceFileNames;
        out.println();
        out.println("KTP Scan Bridge - batch summary");
        out.printf(LINE, sourceFileNames ? "SOURCE FILE" : "RESULT (<name>.json)", "SOURCE", "STATUS", "RESULT",
                "REASON", "VIA");
    }

    void add(LedgerRecord r) {
        String name = sourceFileNames ? r.sourceFile() : ResultDocument.name(r);
        // OneKYC's words: no line breaks to forge lines with, no NIK-long digit runs
        out.printf(LINE, display(name), r.sourceType(), dash(r.resultStatus()),
                dash(id.ktpbridge.LogSafe.text(r.result(), 64)), dash(id.ktpbridge.LogSafe.text(r.reasonCode(), 64)),
                dash(r.receivedVia()));
        totals.merge(r.resultStatus() == null ? "NO_RESULT" : r.resultStatus(), 1, Integer::sum);
        if ("COMPLETED".equals(r.resultStatus()) && (r.result() == null || r.result().isBlank())) {
            completedWithoutResult++;
        }
        inputs++;
    }

    /** Inputs listed with this result status (FAILED, TIMED_OUT, ...). */
    int count(String status) {
        return totals.getOrDefault(status, 0);
    }

    /** Inputs OneKYC called COMPLETED without giving a result (published so at the poll deadline). */
    int completedWithoutResult() {
        return completedWithoutResult;
    }

    void finish() {
        out.printf("Inputs: %d   %s%n", inputs, totals);
    }

    private static String display(String name) {
        return name == null ? "-" : name.replaceAll("\\p{Cntrl}", "?");
    }

    private static String dash(String s) {
        return s == null || s.isEmpty() ? "-" : s;
    }
}

package id.ktpbridge.batch;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import id.ktpbridge.ledger.LedgerRecord;

/** The table printed at the end of a batch: one line per input, then totals per status. */
record BatchSummary(List<LedgerRecord> rows, Map<String, Integer> totals) {

    static BatchSummary of(List<LedgerRecord> rows) {
        Map<String, Integer> totals = new TreeMap<>();
        rows.forEach(r -> totals.merge(r.resultStatus() == null ? "NO_RESULT" : r.resultStatus(), 1, Integer::sum));
        return new BatchSummary(rows, totals);
    }

    void print(PrintStream out) {
        int nameWidth = Math.max(11, rows.stream().mapToInt(r -> display(r.sourceFile()).length()).max().orElse(0));
        String line = "%-" + nameWidth + "s  %-6s  %-10s  %-8s  %-28s  %s%n";
        out.println();
        out.println("KTP Scan Bridge - batch summary");
        out.printf(line, "SOURCE FILE", "SOURCE", "STATUS", "RESULT", "REASON", "VIA");
        for (LedgerRecord r : rows) {
            out.printf(line, display(r.sourceFile()), r.sourceType(), dash(r.resultStatus()), dash(r.result()),
                    dash(r.reasonCode()), dash(r.receivedVia()));
        }
        out.printf("Inputs: %d   %s%n", rows.size(), totals);
    }

    private static String display(String name) {
        return name == null ? "-" : name.replaceAll("\\p{Cntrl}", "?");
    }

    private static String dash(String s) {
        return s == null || s.isEmpty() ? "-" : s;
    }
}

package id.ktpbridge.submit;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.result.ResultPublisher;
import id.ktpbridge.result.ResultStatus;

/** A result publisher that stores and delivers nothing: it notes each local result asked of it, in the words {@code line} gives. */
final class NotedResults extends ResultPublisher {

    interface Line {
        String of(LedgerRecord r, ResultStatus status, String reason, String message);
    }

    final List<String> published = new CopyOnWriteArrayList<>();
    private final Line line;

    NotedResults(Ledger ledger, Line line) {
        super(ledger, new ObjectMapper(), null);
        this.line = line;
    }

    @Override
    public void publishLocal(LedgerRecord r, ResultStatus status, String reason, String message) {
        published.add(line.of(r, status, reason, message));
    }
}

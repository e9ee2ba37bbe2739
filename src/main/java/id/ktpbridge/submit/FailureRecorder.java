package id.ktpbridge.submit;

import id.ktpbridge.ingest.FailureReport;
import id.ktpbridge.ingest.InputRejectedException;
import id.ktpbridge.ingest.Settlement;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.result.ResultPublisher;
import id.ktpbridge.result.ResultStatus;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When a submission cannot go on, ends its ledger row as FAILED and publishes a FAILED result with
 * the step that failed as reason code, so every input still gets exactly one result record.
 * Rejected inputs were already recorded by {@link Intake}.
 */
public class FailureRecorder implements Processor {

    private static final Logger LOG = LoggerFactory.getLogger(FailureRecorder.class);

    private final Ledger ledger;
    private final ResultPublisher publisher;

    public FailureRecorder(Ledger ledger, ResultPublisher publisher) {
        this.ledger = ledger;
        this.publisher = publisher;
    }

    @Override
    public void process(Exchange exchange) {
        Exception failure = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        if (failure instanceof InputRejectedException) {
            return;
        }
        WorkItem work = exchange.getProperty(WorkItem.PROPERTY, WorkItem.class);
        if (work == null) {
            LOG.error("Input could not be taken in: {}", failure == null ? "unknown error" : failure.getMessage());
            return;
        }
        String reason = FailureReport.reasonCode(failure);
        String message = failure == null ? "unknown error" : failure.getMessage();
        // only a row still before its confirm can fail here; a confirmed one gets its outcome from OneKYC
        if (ledger.markEnded(work.ledgerId, SubmissionState.FAILED, reason, message)) {
            LOG.error("Submission failed: ledger {} reason {} ({})", work.ledgerId, reason, message);
            publisher.publishLocal(ledger.findById(work.ledgerId).orElseThrow(), ResultStatus.FAILED, reason, message,
                    null);
            Settlement.recorded(exchange);
        } else {
            LOG.warn("Step failed for ledger {} after it moved on ({}): its outcome comes from OneKYC", work.ledgerId,
                    message);
        }
    }

}

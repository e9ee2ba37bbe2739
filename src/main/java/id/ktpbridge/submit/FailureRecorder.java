package id.ktpbridge.submit;

import id.ktpbridge.ingest.FailureReport;
import id.ktpbridge.ingest.InputAlreadyEndedException;
import id.ktpbridge.ingest.InputDeferredException;
import id.ktpbridge.ingest.InputRejectedException;
import id.ktpbridge.ingest.Settlement;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerException;
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

    /** How long an input kept in its source after the ledger failed waits before it is taken again. */
    static final java.time.Duration KEPT_PAUSE = java.time.Duration.ofSeconds(5);

    private final Ledger ledger;
    private final ResultPublisher publisher;

    public FailureRecorder(Ledger ledger, ResultPublisher publisher) {
        this.ledger = ledger;
        this.publisher = publisher;
    }

    @Override
    public void process(Exchange exchange) {
        Exception failure = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        if (failure instanceof InputRejectedException || failure instanceof InputAlreadyEndedException) {
            return;
        }
        String message = FailureReport.safeMessage(failure);
        // the ledger id is known as soon as the intake wrote the row, before the work item exists
        WorkItem work = exchange.getProperty(WorkItem.PROPERTY, WorkItem.class);
        String ledgerId = work != null ? work.ledgerId : exchange.getProperty(WorkItem.LEDGER_ID, String.class);
        if (failure instanceof InputDeferredException) {
            // no result now: the input stays in its source and its row is resumed when it is taken again
            LOG.warn("Ledger {} left for another attempt: {}", ledgerId, message);
            return;
        }
        if (work != null && (work.confirmTaken
                || work.resumeFrom == SubmissionState.UPLOADED && ledgerFailed(failure))) {
            // OneKYC has the image (or may have: a row resumed uploaded was noted as confirm-sent with
            // its upload) and its outcome will come: ending the row FAILED would publish a second,
            // wrong result and drop its callback. Taken again after a pause, the input finds its row
            // confirmed (done), or still uploaded, and its confirm is sent again (answered 409)
            Settlement.keepInSource(exchange, KEPT_PAUSE);
            LOG.warn("Ledger {}: {} at OneKYC, but the ledger did not record it ({}); the input stays in its source"
                    + " and is taken again in {} s", ledgerId, work.confirmTaken ? "confirmed" : "perhaps confirmed",
                    message, KEPT_PAUSE.toSeconds());
            return;
        }
        if (work == null && ledgerId != null && ledgerFailed(failure) && uploadedOrUnknown(ledgerId)) {
            // failed before its work item, a row resumed uploaded: as above, its confirm may be in effect
            Settlement.keepInSource(exchange, KEPT_PAUSE);
            LOG.warn("Ledger {}: the ledger failed before an input resumed uploaded went on ({}); it stays in its"
                    + " source and is taken again in {} s", ledgerId, message, KEPT_PAUSE.toSeconds());
            return;
        }
        String reason = FailureReport.reasonCode(failure);
        if (work == null && ledgerId != null && ledger.findById(ledgerId).map(r -> r.state() == SubmissionState.REJECTED
                || r.state() == SubmissionState.FAILED && r.resultStatus() == null).orElse(false)) {
            // rejected, and the rejection's own writes failed (or an ended row met again, whose missing
            // result could not be stored either): it keeps its reason, and its result is stored when the
            // input is taken again (Intake.resumeOrSkip). It stays in its source whatever the ledger's
            // error: quarantined, it would never be met again and its row would have no result
            Settlement.keepInSource(exchange, KEPT_PAUSE);
            LOG.error("Outcome of ledger {} not fully recorded: {}; the input stays in its source and is taken again"
                    + " in {} s", ledgerId, message, KEPT_PAUSE.toSeconds());
            return;
        }
        // only a row still before its confirm can fail here; a confirmed one gets its outcome from OneKYC
        if (ledgerId != null && ledger.markEnded(ledgerId, SubmissionState.FAILED, reason, message)) {
            LOG.error("Submission failed: ledger {} reason {} ({})", ledgerId, reason, message);
            try {
                publisher.publishLocal(ledger.findById(ledgerId).orElseThrow(), ResultStatus.FAILED, reason, message);
            } catch (LedgerException e) {
                // ended FAILED without its result: as above, it gets it when the input is taken again
                Settlement.keepInSource(exchange, KEPT_PAUSE);
                LOG.error("Result of ledger {} not stored: {}; the input stays in its source and is taken again in {} s",
                        ledgerId, FailureReport.safeMessage(e), KEPT_PAUSE.toSeconds());
                return;
            }
            Settlement.recorded(exchange);
        } else if (work == null) {
            LOG.error("Input could not be taken in: {}", message);
        } else {
            LOG.warn("Step failed for ledger {} after it moved on ({}): its outcome comes from OneKYC", ledgerId,
                    message);
        }
    }

    /** The row is uploaded (a confirm may have been sent), or the ledger cannot say. */
    private boolean uploadedOrUnknown(String ledgerId) {
        try {
            return ledger.findById(ledgerId).map(r -> r.state() == SubmissionState.UPLOADED).orElse(false);
        } catch (LedgerException e) {
            return true;
        }
    }

    private static boolean ledgerFailed(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof LedgerException) {
                return true;
            }
        }
        return false;
    }
}

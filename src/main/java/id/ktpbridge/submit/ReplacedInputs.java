package id.ktpbridge.submit;

import java.time.Duration;
import java.util.List;

import id.ktpbridge.ledger.Leases;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.result.ResultPublisher;
import id.ktpbridge.result.ResultStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Inputs whose file (or object) was replaced by other bytes before their upload: their own bytes
 * are gone, so they end FAILED with {@code SOURCE_REPLACED}, have their one result and stay open no
 * longer (a batch run would wait for them, and their content claim would turn the same image away
 * under any other name). An input already uploaded but not confirmed (its confirm refused for now)
 * is handed to the poller instead: its bytes are at OneKYC's storage and the confirm needs none, so
 * the poller confirms it when it finds it still {@code INITIATED} (a confirm that did take is
 * answered 409), and collects its outcome. In a cluster such inputs of SFTP and S3 stay as they are.
 * <p>
 * The intake ends them when it takes the new bytes, where no other worker can have the old input in
 * hand. A cluster's SFTP and S3 claims name the file's version, so there another instance may still
 * be submitting the old bytes; {@link #sweep} ends those once nobody has touched them for longer than
 * a claim lives (an instance killed on them, or an input left waiting by an outage). A live
 * instance touches the rows of the inputs it has in hand as often as it renews their claims
 * ({@link InputsInHand#renew}), however long a step waits (a long Retry-After, say).
 */
public class ReplacedInputs {

    private static final Logger LOG = LoggerFactory.getLogger(ReplacedInputs.class);
    private static final String LEASE = "replaced-inputs-sweep";
    private static final String MESSAGE = "its file was replaced by other bytes before its upload";

    private final Ledger ledger;
    private final ResultPublisher publisher;
    private final Leases leases;
    private final Duration untouchedFor;
    /** {@code ktp.poll.reconfirm-after}: an uploaded input handed to the poller is looked at (and confirmed) then. */
    private final Duration reconfirmAfter;
    private final Duration pollDeadline;

    /**
     * @param untouchedFor how long a replaced input must have been left alone before a sweep ends it
     *     ({@code ktp.source.claim-ttl}: a live instance renews the claims of what it has in hand)
     * @param reconfirmAfter {@code ktp.poll.reconfirm-after}
     * @param pollDeadline {@code ktp.poll.deadline}
     */
    public ReplacedInputs(Ledger ledger, ResultPublisher publisher, Leases leases, Duration untouchedFor,
                          Duration reconfirmAfter, Duration pollDeadline) {
        this.ledger = ledger;
        this.publisher = publisher;
        this.leases = leases;
        this.untouchedFor = untouchedFor;
        this.reconfirmAfter = reconfirmAfter;
        this.pollDeadline = pollDeadline;
    }

    /**
     * Ends the inputs at {@code sourceRef} whose bytes were not {@code sha256}, and hands the poller
     * those of them already uploaded (the intake, at the new bytes).
     */
    void endAt(String sourceRef, String sha256) {
        for (LedgerRecord gone : ledger.findUnconfirmedAt(sourceRef)) {
            if (gone.sourceSha256() == null || sha256.equals(gone.sourceSha256())) {
                continue;
            }
            if (gone.state() != SubmissionState.UPLOADED) {
                end(gone);
            } else {
                long now = System.currentTimeMillis();
                // recorded as confirmed now: the poller's first look, reconfirm-after later, finds it INITIATED
                // and confirms it, as after a confirm whose answer was lost
                ledger.markConfirmed(gone.id(), now, now + reconfirmAfter.toMillis(), now + pollDeadline.toMillis());
                ledger.markReleased(gone.id());
                LOG.warn("Ledger {}: its file was replaced by other bytes after its upload; the poller confirms its"
                        + " submission {} and collects its outcome", gone.id(), gone.submissionId());
            }
        }
    }

    /**
     * Camel bean method: one pass, on one instance of a cluster at a time; also stores the results
     * of replaced inputs ended without one.
     */
    public void sweep() {
        if (!leases.tryHold(LEASE, Math.max(1_000, untouchedFor.toMillis() / 2))) {
            return;
        }
        long now = System.currentTimeMillis();
        long cutoff = now - untouchedFor.toMillis();
        for (LedgerRecord gone : ledger.findReplacedUntouchedSince(cutoff)) {
            // only while still untouched and before its upload: a worker may have got to it meanwhile
            if (ledger.endReplacedIfUntouched(gone.id(), cutoff, Intake.SOURCE_REPLACED, MESSAGE)) {
                published(gone.id());
            }
        }
        // ended, and the process stopped (or the ledger failed) before its result was stored: its
        // old bytes never come back to have it stored then. A minute's grace for the worker that ended
        // it; should both get there, the result is stored once
        for (LedgerRecord ended : ledger.findFailedWithoutResult(Intake.SOURCE_REPLACED, now - 60_000)) {
            published(ended.id());
        }
    }

    private void end(LedgerRecord gone) {
        if (ledger.markEnded(gone.id(), SubmissionState.FAILED, Intake.SOURCE_REPLACED, MESSAGE)) {
            published(gone.id());
        }
    }

    private void published(String id) {
        LOG.warn("Ledger {}: {}; ended FAILED", id, MESSAGE);
        publisher.publishLocal(ledger.findById(id).orElseThrow(), ResultStatus.FAILED, Intake.SOURCE_REPLACED, MESSAGE);
        ledger.markReleased(id);
    }
}

package id.ktpbridge.submit;

import id.ktpbridge.gtf.GtfApiException;

/**
 * Presign kept handing out a submission held by a ledger row that ended after its confirm, which
 * keeps it for good. Counted as a presign without a usable answer, a passing failure: the input
 * waits in its source within {@code ktp.submit.retry-window} and then ends
 * {@code GTF_PRESIGN_FAILED}, so it never waits for ever. Behind a holder still at work the input
 * waits without this bound: that one moves on or ends.
 */
class SubmissionHeldException extends GtfApiException {

    SubmissionHeldException(String submissionId, String holderId) {
        super("presign", "OneKYC keeps handing out submission " + submissionId + ", which ledger " + holderId
                + " holds", null);
    }
}

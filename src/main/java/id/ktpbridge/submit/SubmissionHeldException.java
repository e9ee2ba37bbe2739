package id.ktpbridge.submit;

import id.ktpbridge.gtf.GtfApiException;

/**
 * Presign kept handing out a submission another ledger row holds. Counted as a presign without a
 * usable answer, a passing failure: the input waits in its source within
 * {@code ktp.submit.retry-window} and then ends {@code GTF_PRESIGN_FAILED}, so it never waits for
 * ever behind a holder that will not let go (one that ended after its confirm keeps it).
 */
class SubmissionHeldException extends GtfApiException {

    SubmissionHeldException(String submissionId, String holderId) {
        super("presign", "OneKYC keeps handing out submission " + submissionId + ", which ledger " + holderId
                + " holds", null);
    }
}

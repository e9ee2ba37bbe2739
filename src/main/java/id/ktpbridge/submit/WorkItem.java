package id.ktpbridge.submit;

import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.gtf.CallContext;
import id.ktpbridge.gtf.Presigned;
import id.ktpbridge.ingest.SpoolCopy;
import id.ktpbridge.ledger.SubmissionState;

/** What the submit steps pass along for one input (an exchange property, never logged). */
public final class WorkItem {

    public static final String PROPERTY = "KtpWorkItem";
    /** Exchange property with the ledger id, set as soon as the input is taken in. */
    public static final String LEDGER_ID = "KtpLedgerId";

    final String ledgerId;
    /** The copy to upload: a spool file, or null when {@link #held} holds its bytes. */
    final Path image;
    /** The copy held in memory, or null (its bytes go when it is released, at the exchange's end). */
    final SpoolCopy held;
    final String contentType;
    /** Replaced by {@link CallContext#withFreshSessions()} for each presign after the first. */
    CallContext context;
    /**
     * Whether a presign may already have used {@link #context}'s session ids: after this process
     * presigned once, and for an input resumed after a restart.
     */
    boolean sessionsUsed;
    final JsonNode metadata;
    /** Where this input stands in the ledger: RECEIVED for a new one, later for one resumed after a restart. */
    final SubmissionState resumeFrom;
    /** The submission id already recorded for a resumed input, else null. */
    final String knownSubmissionId;
    Presigned presigned;
    /**
     * A confirm of this submission was sent before this take and its answer never came (the ledger's
     * note of it was found on a resumed input, see {@code Ledger.noteConfirmSent}): it may have been
     * applied, as an attempt of this take without an answer may. Dropped once OneKYC's own 404 or
     * 422 says the submission is not confirmed.
     */
    boolean confirmInDoubt;
    /** Whether the confirm step has looked for (and written) that note for a resumed input. */
    boolean confirmNoted;
    /**
     * OneKYC took this input's confirm (or it is taken as confirmed): from here on the input must
     * not end FAILED, whatever fails next (see {@link FailureRecorder}).
     */
    boolean confirmTaken;
    /** When the upload URL of {@link #presigned} expires (epoch ms). */
    long urlExpiresAt;

    WorkItem(String ledgerId, Path image, SpoolCopy held, String contentType, CallContext context, JsonNode metadata,
             SubmissionState resumeFrom, String knownSubmissionId, boolean resumed) {
        this.ledgerId = ledgerId;
        this.image = image;
        this.held = held;
        this.contentType = contentType;
        this.context = context;
        this.metadata = metadata;
        this.resumeFrom = resumeFrom;
        this.knownSubmissionId = knownSubmissionId;
        this.sessionsUsed = resumed;
    }

    public String ledgerId() {
        return ledgerId;
    }

    @Override
    public String toString() {
        return "WorkItem[ledger=" + ledgerId + "]";
    }
}

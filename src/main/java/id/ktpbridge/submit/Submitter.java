package id.ktpbridge.submit;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

import id.ktpbridge.collect.Collector;
import id.ktpbridge.gtf.CallContext;
import id.ktpbridge.gtf.GtfApiException;
import id.ktpbridge.gtf.GtfClient;
import id.ktpbridge.gtf.Presigned;
import id.ktpbridge.gtf.StorageUploadException;
import id.ktpbridge.ingest.InputDeferredException;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerException;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.SubmissionState;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The three OneKYC steps of a submission. The ledger is written before each next external step;
 * the recoverable answers of the API are handled here: storage 403 (URL expired, or a 400 about
 * the credentials in it) -> presign again, confirm 422 (upload missing) -> upload again (or, with no
 * valid URL left, presign again), confirm 404 {@code SUBMISSION_DOES_NOT_EXIST} (the submission
 * dropped before its confirm) -> presign again, OneKYC's confirm 409 -> already confirmed.
 */
public class Submitter {

    private static final Logger LOG = LoggerFactory.getLogger(Submitter.class);
    /** A stored upload URL this close to expiry is not worth trying: presign again instead. */
    private static final Duration URL_MARGIN = Duration.ofSeconds(30);
    /**
     * How long a presign is tried again in place while it returns a submission another input
     * holds; then the input waits in its source, a passing failure within the retry window.
     */
    static final Duration HELD_SUBMISSION_WAIT = Duration.ofSeconds(30);
    /** The states a submission reaches after its confirm (reference 10.1): one presigned so is not new. */
    private static final Set<String> PAST_INITIATED = Set.of("IN_PROGRESS", "PARTIALLY_COMPLETED", "COMPLETED",
            "ERROR");
    private volatile Duration heldSubmissionWait = HELD_SUBMISSION_WAIT;
    /** See {@link #retryWindow}. */
    public static final Duration DEFAULT_RETRY_WINDOW = Duration.ofMinutes(15);
    private volatile Duration retryWindow = DEFAULT_RETRY_WINDOW;
    private volatile boolean waitOutUsedUpQuota = true;
    /** The first pause of a worker before it gives a failing input back; later ones grow up to the most. */
    static final Duration FIRST_DEFERRAL_PAUSE = Duration.ofSeconds(5);
    static final Duration MAX_DEFERRAL_PAUSE = Duration.ofMinutes(1);

    private final GtfClient gtf;
    private final Ledger ledger;
    private final Collector collector;
    private final String primaryDocumentKey;
    private final Duration firstPollDelay;
    private final Duration pollDeadline;
    private final int maxPresigns;
    /** Slot sets already warned about, so a batch logs each once. */
    private final Set<String> reportedSlotSets = ConcurrentHashMap.newKeySet();

    public Submitter(GtfClient gtf, Ledger ledger, Collector collector, String primaryDocumentKey,
                     Duration firstPollDelay, Duration pollDeadline) {
        this.maxPresigns = Math.max(2, gtf.settings().retryMaxAttempts());
        this.gtf = gtf;
        this.ledger = ledger;
        this.collector = collector;
        this.primaryDocumentKey = primaryDocumentKey;
        this.firstPollDelay = firstPollDelay;
        this.pollDeadline = pollDeadline;
    }

    /** Shorter waits for tests. */
    void heldSubmissionWait(Duration wait) {
        this.heldSubmissionWait = wait;
    }

    /**
     * How long a step that fails for a passing reason (no answer, throttled, a server error, after
     * the call's own retries) leaves the input in its source for another attempt instead of
     * failing it, counted from the first such failure the ledger records for it
     * ({@code ktp.submit.retry-window}): an outage of OneKYC or its storage is waited out, as nothing
     * confirmed is at stake yet.
     */
    public void retryWindow(Duration window) {
        this.retryWindow = window;
    }

    /**
     * Whether a presign refused with {@code SUBMISSION_QUOTA_EXCEEDED} is waited out within the
     * retry window, as a passing failure ({@code gtf.retry.quota-exceeded}, which retries it in
     * place too), rather than failing the input. By default it is: the reference says to retry a
     * 429 with back-off and leaves open whether the quota frees up.
     */
    public void waitOutUsedUpQuota(boolean waitOut) {
        this.waitOutUsedUpQuota = waitOut;
    }

    public void presign(Exchange exchange) {
        WorkItem work = work(exchange);
        deferIfPassing(work, () -> presign(work));
    }

    public void upload(Exchange exchange) {
        WorkItem work = work(exchange);
        deferIfPassing(work, () -> upload(work));
    }

    public void confirm(Exchange exchange) {
        WorkItem work = work(exchange);
        try {
            // a confirm that got no answer is taken as confirmed (see below): what fails here for a
            // passing reason is one refused for now or never sent, or the upload again a 422 asked for
            deferIfPassing(work, () -> confirm(work));
        } catch (GtfApiException e) {
            if (!work.confirmInDoubt) {
                throw e;
            }
            // refused for now until the window ended, after a confirm an earlier process sent and got
            // no answer to (killed meanwhile): that one may have been applied, as in the case below
            LOG.warn("Confirm of submission {} was refused ({}) after a confirm sent before a restart got no answer:"
                    + " taken as confirmed; the poller confirms it again if it is still INITIATED",
                    work.presigned.submissionId(), e.getMessage());
            work.confirmTaken = true;
            recordConfirmed(work, work.presigned.submissionId());
        }
    }

    private void deferIfPassing(WorkItem work, Runnable step) {
        try {
            step.run();
        } catch (GtfApiException | StorageUploadException e) {
            // refused credentials too: nothing is confirmed yet, and an operator can put them right
            // within the window (the collection side waits for them until the poll deadline). And a
            // bare 4xx, without OneKYC's envelope: a gateway's or proxy's own page (a route missing
            // for a moment during a rollout) says nothing about the image; the collection side asks
            // again after one too (Collector.refusedForGood). And a URL storage refused as expired:
            // it comes here only after fresh presigns up to their limit (see uploadWithFreshUrls),
            // and expired URLs a server hands out now and then must not fail an image at once. Not
            // any other refusal (a bucket policy, a signature a proxy broke): it answers every fresh
            // URL the same, and each take would leave submissions and uploads on the user's quota
            boolean passing = e instanceof GtfApiException g
                    ? g.isTransient() || g.isQuotaExceeded() && waitOutUsedUpQuota || g.refusesCredentials()
                            || g.isBareRefusal()
                    : e instanceof StorageUploadException s && (s.isTransient() || s.isUrlExpired());
            long window = retryWindow.toMillis();
            if (!passing || window <= 0) {
                throw e;
            }
            long now = System.currentTimeMillis();
            // the window runs from the first of the input's passing failures since its bytes were
            // last stored, whichever process met it: how long an input waits for its next turn (many
            // inputs, an open circuit) does not start it anew
            long since;
            try {
                since = ledger.noteDeferral(work.ledgerId, now);
            } catch (LedgerException ledgerDown) {
                // nothing is known about the window: the input stays in its source, which is safe
                throw new InputDeferredException(e.getMessage() + "; tried again later (the ledger did not answer: "
                        + ledgerDown.getMessage() + ")");
            }
            long elapsed = now - since;
            if (elapsed >= window) {
                throw e;
            }
            // the worker waits before the input goes back, about as long again as the failures have
            // lasted (so the pauses roughly double): the outage is not asked again at once, and the
            // source does not take, spool and hash the image again in a tight loop
            long pause = Math.min(MAX_DEFERRAL_PAUSE.toMillis(), Math.max(FIRST_DEFERRAL_PAUSE.toMillis(), elapsed));
            // and no shorter than a Retry-After too long for the call to wait out in place (a token
            // fetch's over 30 s, say), up to the longest pause: taken again sooner, the input would ask
            // before the server's wait is over. Not longer: a worker held for a user's used-up quota
            // would hold up every other user's inputs. The window still ends it
            if (e instanceof GtfApiException g) {
                pause = Math.max(pause, Math.min(g.retryAfterMillis(), MAX_DEFERRAL_PAUSE.toMillis()));
            }
            pause(Math.min(pause, window - elapsed));
            throw new InputDeferredException(e.getMessage() + "; tried again later");
        }
    }

    private void presign(WorkItem work) {
        if (work.resumeFrom == SubmissionState.UPLOADED) {
            // the stored URL, while it lasts, lets a confirm answered 422 upload again
            var stored = ledger.storedUpload(work.ledgerId).filter(u -> u.expiresAt() > System.currentTimeMillis());
            work.presigned = new Presigned(work.knownSubmissionId, null, stored.isEmpty() ? Map.of()
                    : Map.of(primaryDocumentKey, new Presigned.DocumentSlot(stored.get().url(), null, 0)));
            work.urlExpiresAt = stored.map(Ledger.StoredUpload::expiresAt).orElse(0L);
            return;
        }
        if (work.resumeFrom == SubmissionState.PRESIGNED && work.presigned == null) {
            long usableUntil = System.currentTimeMillis() + URL_MARGIN.toMillis();
            var stored = ledger.storedUpload(work.ledgerId).filter(u -> u.expiresAt() > usableUntil);
            if (stored.isPresent()) {
                work.presigned = new Presigned(work.knownSubmissionId, null,
                        Map.of(primaryDocumentKey, new Presigned.DocumentSlot(stored.get().url(), null, 0)));
                work.urlExpiresAt = stored.get().expiresAt();
                return;
            }
        }
        presignAnew(work);
    }

    private void presignAnew(WorkItem work) {
        // a new submission gets its own session ids: the details lookup goes by the partner session
        CallContext earlier = work.context;
        String earlierSubmission = work.presigned != null ? work.presigned.submissionId() : work.knownSubmissionId;
        if (work.sessionsUsed) {
            work.context = work.context.withFreshSessions();
        }
        work.sessionsUsed = true;
        long giveUpAt = System.currentTimeMillis() + heldSubmissionWait.toMillis();
        for (long wait = 250; ; wait = Math.min(2 * wait, 5_000)) {
            // its upload slot is judged in the call, as the submission id is: a presign without one is
            // observed and counted by what it counts as, not as the 2xx it came in
            work.presigned = gtf.presign(work.context, presigned -> {
                if (!notThisInputs(presigned, earlierSubmission)) {
                    primarySlot(presigned);
                }
            });
            if (work.presigned.sessions() != null) {
                // presigned once more under new session ids (a lost answer): the ids this submission goes by
                work.context = work.presigned.sessions();
            }
            String submissionId = work.presigned.submissionId();
            if (notThisInputs(work.presigned, earlierSubmission)) {
                // no upload to it. Judged here, not in the call: a submission that exists, not an answer cut
                // off. Asked again at once with the same session ids it may well come again, and counted by
                // the circuit breaker, one user's such answers would pause every user's presigns. The input
                // waits instead
                throw new GtfApiException("presign", 200, null, GtfApiException.NOT_INITIATED);
            }
            work.urlExpiresAt = System.currentTimeMillis() + primarySlot(work.presigned).expiryInSeconds() * 1000;
            // the same submission handed out again is known by the session ids it was presigned with
            CallContext sessions = submissionId.equals(earlierSubmission) ? earlier : work.context;
            Ledger.SubmissionHold hold = ledger.holdSubmission(work.ledgerId, submissionId,
                    sessions.partnerSessionId(), sessions.sdkSessionId(), primarySlot(work.presigned).documentUrl(),
                    work.urlExpiresAt);
            if (hold.heldBy() == null) {
                // the session ids OneKYC knows it by: an earlier holder's when it was taken over from one
                work.context = work.context.withSessions(hold.partnerSessionId(), hold.sdkSessionId());
                LOG.debug("Presigned: ledger {} submission {}", work.ledgerId, submissionId);
                return;
            }
            LedgerRecord holder = hold.heldBy();
            // OneKYC handed out a submission another input is about to upload to and confirm: ask
            // again once that one is confirmed (a new presign then gets a new submission). Should
            // the other stay unfinished (its instance died, say), this input waits in its source
            // until it is free, for as long as that takes: the holder moves on or ends. One that
            // ended after its confirm keeps the submission (its result is known by it), and OneKYC
            // may hand it out for as long as it stays INITIATED: that wait counts in the retry window
            if (System.currentTimeMillis() + wait > giveUpAt) {
                if (holder.state().isFinal() && holder.submittedAt() != null) {
                    throw new SubmissionHeldException(submissionId, holder.id());
                }
                throw new InputDeferredException("OneKYC keeps handing out submission " + submissionId
                        + ", which ledger " + holder.id() + " holds; tried again later");
            }
            // jittered, so inputs waiting for the same submission do not all ask at the same moment
            long pause = wait / 2 + ThreadLocalRandom.current().nextLong(wait / 2 + 1);
            LOG.info("Presign for ledger {} returned submission {}, which ledger {} holds: presigning again in {} ms",
                    work.ledgerId, submissionId, holder.id(), pause);
            pause(pause);
        }
    }

    /**
     * A submission past {@code INITIATED} that is not this input's (its own, met again after a confirm
     * that took, is fine): uploading to it and reading its 409 as "confirmed" would report another
     * image's outcome.
     */
    private static boolean notThisInputs(Presigned presigned, String earlierSubmission) {
        String status = presigned.status();
        boolean pastInitiated = status != null && PAST_INITIATED.contains(status)
                // a word the reference does not name (CREATED, PENDING) is taken as a new submission
                // (refused, every presign again could leave one more behind), unless it comes without
                // upload slots, as one under way or finished does
                || status != null && !status.isBlank() && !"INITIATED".equals(status)
                        && presigned.documents().isEmpty();
        return pastInitiated && !presigned.submissionId().equals(earlierSubmission);
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(Math.max(0, millis));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InputDeferredException("interrupted while waiting to try again");
        }
    }

    private void upload(WorkItem work) {
        if (work.resumeFrom == SubmissionState.UPLOADED) {
            return;
        }
        uploadWithFreshUrls(work);
        recordUpload(work);
    }

    /**
     * Uploads the image; a refused or expired URL is worth a fresh presign, a bounded number of
     * times in a row (each may leave a submission behind). When the last had expired, the retry
     * window takes the input again later or ends it; any other refusal of the last fails it.
     */
    private void uploadWithFreshUrls(WorkItem work) {
        for (int presigns = 1; ; presigns++) {
            try {
                uploadImage(work);
                return;
            } catch (StorageUploadException e) {
                if (!e.isUrlRejected() || presigns >= maxPresigns) {
                    throw e;
                }
                LOG.info("Storage refused the presigned URL of ledger {} ({}); presigning again", work.ledgerId,
                        e.storageCode() != null ? e.storageCode() : e.getMessage());
                presignAnew(work);
            }
        }
    }

    /** Written once the bytes are stored, with the submission id and URL a restart resumes with. */
    private void recordUpload(WorkItem work) {
        Presigned.DocumentSlot slot = primarySlot(work.presigned);
        ledger.markUploaded(work.ledgerId, work.presigned.submissionId(), work.context.partnerSessionId(),
                work.context.sdkSessionId(), slot.documentUrl(), work.urlExpiresAt);
        // durable before the confirm: a restart must confirm this submission, not presign another
        ledger.flush();
    }

    /**
     * After a confirm answered 422 (the storage has no upload for it): uploads again to the known
     * URL. When there is none still valid (a resumed input's expired URL) or the storage refuses it,
     * presigns a new submission and uploads to that: the old one was never confirmed, so OneKYC
     * never processes it.
     *
     * @return the submission to confirm now
     */
    private String uploadAgain(WorkItem work) {
        if (!work.presigned.documents().isEmpty()
                && work.urlExpiresAt > System.currentTimeMillis() + URL_MARGIN.toMillis()) {
            try {
                uploadImage(work);
                return work.presigned.submissionId();
            } catch (StorageUploadException e) {
                if (!e.isUrlRejected()) {
                    throw e;
                }
                LOG.info("Storage refused the upload URL of ledger {} ({}); presigning again", work.ledgerId,
                        e.storageCode());
            }
        }
        return uploadToNewSubmission(work);
    }

    /** Presigns a new submission and uploads the image to it; the old one, never confirmed, is left. */
    private String uploadToNewSubmission(WorkItem work) {
        presignAnew(work);
        uploadWithFreshUrls(work);
        recordUpload(work);
        return work.presigned.submissionId();
    }

    private void confirm(WorkItem work) {
        if (work.resumeFrom == SubmissionState.UPLOADED && !work.confirmNoted) {
            // resumed uploaded: a note of a confirm sent says an earlier process sent one and got no
            // answer (it was killed); else the note is written now, durable before this one goes out
            // (run again after the flush failed, the step finds its own note: in doubt, the safe side)
            boolean inDoubt = ledger.noteConfirmSent(work.ledgerId);
            if (!inDoubt) {
                ledger.flush();
            }
            work.confirmInDoubt = inDoubt;
            work.confirmNoted = true;
        }
        String submissionId;
        try {
            submissionId = sendConfirm(work);
        } catch (GtfApiException | StorageUploadException | InputDeferredException e) {
            // not applied by the last word had (the cases that may have been are taken as confirmed
            // below): the note goes, so this input's later refusals fail it as usual. Not while an
            // earlier process's confirm is in doubt
            if (!work.confirmInDoubt) {
                forgetConfirmSent(work);
            }
            throw e;
        }
        work.confirmTaken = true;
        recordConfirmed(work, submissionId);
    }

    private void forgetConfirmSent(WorkItem work) {
        try {
            ledger.clearConfirmSent(work.ledgerId);
        } catch (LedgerException e) {
            // kept, a refusal after a restart is taken as confirmed and settled by the poller
            LOG.warn("Ledger {}: the note of its confirm could not be cleared ({})", work.ledgerId, e.getMessage());
        }
    }

    /** @return the submission confirmed (or taken as confirmed) */
    private String sendConfirm(WorkItem work) {
        String submissionId = work.presigned.submissionId();
        // 422: the storage has no upload for it (lost, or not visible yet): upload again, a bounded number of times
        for (int attempt = 1; ; attempt++) {
            try {
                gtf.confirm(work.context, submissionId, work.metadata);
                break;
            } catch (GtfApiException e) {
                if (e.isStateConflict()) {
                    // OneKYC's own 409 only: a bare one (a proxy's page) says nothing about the
                    // submission, and taken so the source would let go of an image never confirmed
                    LOG.info("Confirm of submission {} answered 409: it is already confirmed", submissionId);
                    break;
                }
                if (e.isTransient() && e.mayHaveBeenApplied("confirm")) {
                    // no answer may still mean applied (a lost reply looks the same): failing the input
                    // and submitting the image again could have it processed twice, so the poller settles it
                    LOG.warn("Confirm of submission {} ended without an answer ({}): taken as confirmed; the"
                            + " poller confirms it again if it is still INITIATED", submissionId, e.getMessage());
                    break;
                }
                if (e.isTransient()) {
                    // refused for now (throttled) or never sent (no token): not applied, so the input
                    // waits in its source, uploaded, and confirms when taken again (one whose earlier
                    // confirm is in doubt is taken as confirmed once the window is over, see above)
                    throw e;
                }
                boolean notApplied = e.isEnveloped() && (e.httpStatus() == 422 || e.httpStatus() == 404);
                // an attempt without an answer, of this take or one a killed process sent
                boolean unansweredBefore = e.afterUnansweredAttempt() || work.confirmInDoubt;
                if (unansweredBefore && !notApplied) {
                    // an earlier attempt may have been applied before its reply was lost: a later refusal
                    // (a token refused twice, say; a DUPLICATE_PARTNER_SESSION_ID, which says the attempt
                    // arrived) does not undo that, so the poller settles it too. Only
                    // OneKYC's own 404 or 422 says the submission was not confirmed; the same status
                    // without its envelope is a gateway's or proxy's page, which does not know
                    LOG.warn("Confirm of submission {} was refused ({}) after an attempt without an answer: taken"
                            + " as confirmed; the poller confirms it again if it is still INITIATED", submissionId,
                            e.getMessage());
                    break;
                }
                if (notApplied) {
                    work.confirmInDoubt = false;
                }
                if (notApplied && e.httpStatus() == 404 && e.isSubmissionNotFound() && !unansweredBefore
                        && attempt < maxPresigns) {
                    // OneKYC no longer has the submission, never confirmed (it expired with its URL while
                    // the input waited, or the server lost it): the image is still here, so it goes to a
                    // new one. Not after an attempt without an answer, which may have confirmed it: a
                    // second submission could have the image processed twice
                    LOG.info("Confirm of submission {} answered 404 (it does not exist): presigning again", submissionId);
                    submissionId = uploadToNewSubmission(work);
                    continue;
                }
                List<String> leftEmpty = e.httpStatus() == 422 ? slotsLeftEmpty(work.presigned) : List.of();
                if (!leftEmpty.isEmpty() && attempt >= 2) {
                    // refused again after the image was uploaded once more: what is missing is what this
                    // input does not have, so another round would only repeat the refusal
                    throw new GtfApiException("confirm", e.httpStatus(), e.code(), e.errorCause(),
                            List.of("DOCUMENT_SLOTS_LEFT_EMPTY " + leftEmpty));
                }
                if (e.httpStatus() != 422 || attempt >= maxPresigns) {
                    throw e;
                }
                LOG.info("Confirm of submission {} answered 422: uploading again", submissionId);
                submissionId = uploadAgain(work);
            }
        }
        return submissionId;
    }

    private void recordConfirmed(WorkItem work, String submissionId) {
        long now = System.currentTimeMillis();
        ledger.markConfirmed(work.ledgerId, now, now + firstPollDelay.toMillis(), now + pollDeadline.toMillis());
        // durable before the source lets go of the input: from here on only the ledger remembers it
        ledger.flush();
        LOG.info("Submitted: ledger {} submission {}", work.ledgerId, submissionId);
        // a callback may have arrived before the confirm was recorded: collect it now
        if (ledger.callbackNoted(work.ledgerId)) {
            ledger.findById(work.ledgerId).ifPresent(r -> collector.collect(r, Collector.VIA_CALLBACK));
        }
    }

    /** The slots of a presign other than the one the image goes to (none when it has only one). */
    private List<String> slotsLeftEmpty(Presigned presigned) {
        if (presigned.documents().size() <= 1) {
            return List.of();
        }
        return presigned.documents().keySet().stream().filter(k -> !k.equals(primaryDocumentKey)).toList();
    }

    private void uploadImage(WorkItem work) {
        if (work.held != null) {
            gtf.upload(primarySlot(work.presigned), work.held.held(), work.contentType, work.urlExpiresAt);
        } else {
            gtf.upload(primarySlot(work.presigned), work.image, work.contentType, work.urlExpiresAt);
        }
    }

    /** The primary document key gets the image (or the only document there is); other keys follow the server's rules. */
    private Presigned.DocumentSlot primarySlot(Presigned presigned) {
        Map<String, Presigned.DocumentSlot> documents = presigned.documents();
        if (documents.isEmpty()) {
            throw new GtfApiException("presign", 200, null, GtfApiException.NO_DOCUMENTS);
        }
        Presigned.DocumentSlot slot = documents.get(primaryDocumentKey);
        if (slot == null && documents.size() == 1) {
            slot = documents.values().iterator().next();
        }
        if (slot == null) {
            throw new GtfApiException("presign", 200, null,
                    "NO_DOCUMENT_SLOT_" + primaryDocumentKey + "_IN " + documents.keySet());
        }
        if (slot.documentUrl() == null || slot.documentUrl().isBlank()) {
            throw new GtfApiException("presign", 200, null, GtfApiException.NO_DOCUMENT_URL);
        }
        if (documents.size() > 1 && reportedSlotSets.add(documents.keySet().toString())) {
            // one image per input: if OneKYC needs the others before the confirm, the confirm says so (422)
            LOG.warn("Presign offers document slots {}; the image goes to {} only, the others stay empty",
                    documents.keySet(), primaryDocumentKey);
        }
        return slot;
    }

    private static WorkItem work(Exchange exchange) {
        return exchange.getProperty(WorkItem.PROPERTY, WorkItem.class);
    }
}

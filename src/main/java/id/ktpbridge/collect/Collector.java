package id.ktpbridge.collect;

import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.gtf.CallContext;
import id.ktpbridge.gtf.GtfApiException;
import id.ktpbridge.gtf.GtfClient;
import id.ktpbridge.gtf.TokenKey;
import id.ktpbridge.ingest.FailureReport;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerException;
import id.ktpbridge.ledger.LedgerRetries;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.result.ResultPublisher;
import id.ktpbridge.result.ResultStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches a finished submission's details and publishes its result. Poller and callback both come
 * here; the ledger claim lets exactly one of them through per submission.
 */
public class Collector {

    public static final String VIA_CALLBACK = "callback";
    public static final String VIA_POLL = "poll";
    /** See {@link #notFoundGrace}. */
    public static final Duration DEFAULT_NOT_FOUND_GRACE = Duration.ofMinutes(2);

    private static final Logger LOG = LoggerFactory.getLogger(Collector.class);
    /**
     * Details refused for good (an enveloped 4xx other than "does not exist") this many times in a
     * row end the submission FAILED; fewer are asked again: OneKYC has already named it final, and
     * a refusal the server would not repeat must not decide its outcome.
     */
    static final int DETAILS_REFUSALS_TO_END = 3;

    private final Ledger ledger;
    private final GtfClient gtf;
    private final ResultPublisher publisher;
    private final Duration retryDelay;
    private final int ledgerRetries;
    private final Duration ledgerRetryDelay;
    private volatile long notFoundGraceMillis = DEFAULT_NOT_FOUND_GRACE.toMillis();
    private volatile boolean verdictRequired = true;
    private volatile long maxRetryDelayMillis = Duration.ofSeconds(30).toMillis();
    /** Refusals in a row of each submission's details, by ledger id (this instance's count). */
    private final java.util.Map<String, Integer> detailsRefusals = id.ktpbridge.Lru.map(10_000);

    /**
     * @param retryDelay       the shortest wait before trying again an outcome whose details were not
     *                         available (see {@link #retryWait})
     * @param ledgerRetries    how often storing a result is tried again when the ledger's database
     *                         went away for a moment ({@code ktp.db.retry-attempts})
     * @param ledgerRetryDelay the first wait before that, doubling each time ({@code ktp.db.retry-delay})
     */
    public Collector(Ledger ledger, GtfClient gtf, ResultPublisher publisher, Duration retryDelay, int ledgerRetries,
                     Duration ledgerRetryDelay) {
        this.ledger = ledger;
        this.gtf = gtf;
        this.publisher = publisher;
        this.retryDelay = retryDelay;
        this.ledgerRetries = ledgerRetries;
        this.ledgerRetryDelay = ledgerRetryDelay;
    }

    /**
     * How long after its confirm a submission that status (or a new confirm) says does not exist is
     * asked about again instead of ended ({@code ktp.poll.not-found-grace}).
     */
    public void notFoundGrace(Duration grace) {
        this.notFoundGraceMillis = grace.toMillis();
    }

    /** The longest wait between two tries of an outcome ({@code ktp.poll.max-backoff}). */
    public void maxRetryDelay(Duration max) {
        this.maxRetryDelayMillis = Math.max(retryDelay.toMillis(), max.toMillis());
    }

    /**
     * Whether details that say COMPLETED without a {@code result} are asked again
     * ({@code gtf.details.require-result}, the default): the reference has {@code result} absent only
     * while in progress, so such a record is one not filled in yet. Until the poll deadline; then
     * the last one is published as it is, with its OCR data, rather than dropped for TIMED_OUT.
     */
    public void verdictRequired(boolean required) {
        this.verdictRequired = required;
    }

    /** @return true when this call delivered the result, false when it was not (or not yet) ours to deliver */
    public boolean collect(LedgerRecord r, String via) {
        return collect(r, via, null);
    }

    /**
     * @param record a final submission record a callback carried, taken as the result instead of
     *               asking for the details; null to ask
     */
    public boolean collect(LedgerRecord r, String via, JsonNode record) {
        long claim = claimed(r, token -> ledger.claim(r.id(), via, token));
        if (claim == 0) {
            LOG.debug("Submission {} is not open for collection (already collected or not confirmed)", r.submissionId());
            return false;
        }
        return collectClaimed(r, via, record, claim);
    }

    /** As {@link #collect}, for a row this caller has already claimed ({@code claim}: its token). */
    public boolean collectClaimed(LedgerRecord r, String via, JsonNode record, long claim) {
        if (record != null) {
            publishClaimed(r, via, () -> publisher.publishOutcome(r, record, via));
            return true;
        }
        JsonNode details;
        try {
            details = gtf.details(context(r), r.submissionId());
        } catch (GtfApiException e) {
            if (endsNow(r, e, "details", System.currentTimeMillis())) {
                int refusals = detailsRefused(r.id());
                boolean pastDeadline = r.pastDeadline(System.currentTimeMillis());
                // at the deadline the refusal decides: asked again it would only end TIMED_OUT
                if (refusals < DETAILS_REFUSALS_TO_END && !pastDeadline) {
                    // OneKYC has named the outcome final: one refusal of its record does not outrank it
                    return retryLater(r, via, "details refused (" + refusals + " of " + DETAILS_REFUSALS_TO_END
                            + " in a row end it): " + e.getMessage(), claim, null, e.retryAfterMillis());
                }
                forgetDetailsRefusals(r.id());
                if (!stillOurs(r, claim)) {
                    return false;
                }
                // asked again, it got the same answer (reference 2.4): end it now
                LOG.error("Details of submission {} refused: {}", r.submissionId(), e.getMessage());
                return endUnlessErrorCallback(r, via, claim, "details refused: " + e.getMessage(), ResultStatus.FAILED,
                        FailureReport.reasonCode(e), "refused for good: " + e.getMessage());
            }
            return retryLater(r, via, "details not available: " + e.getMessage(), claim, null, e.retryAfterMillis());
        }
        forgetDetailsRefusals(r.id());
        String named = details.path("submissionId").asText("");
        if (!named.isEmpty() && !named.equals(r.submissionId())) {
            // another submission's record (a server mixing records up): publishing it would hand one
            // person's OCR data to another's input. Asked again; at the deadline it ends TIMED_OUT
            return retryLater(r, via, "details named another submission", claim);
        }
        String status = details.path("status").asText("");
        if (!isFinal(status)) {
            return retryLater(r, via, "details say "
                    + (status.isEmpty() ? "nothing" : id.ktpbridge.LogSafe.text(status, 40)), claim);
        }
        if (verdictRequired && "COMPLETED".equals(status) && details.path("result").asText("").isBlank()) {
            return retryLater(r, via, "details say COMPLETED without a result", claim, details);
        }
        publishClaimed(r, via, () -> publisher.publishOutcome(r, details, via));
        return true;
    }

    /**
     * Ends a submission whose details could not be had (the claim {@code claim} held) on the
     * collector's own verdict, unless an ERROR callback announced it: that ERROR is the result then
     * (the callback is OneKYC's word; its details would add no OCR data to an ERROR). The verdict's
     * write holds "no ERROR callback" too, for one that comes meanwhile.
     */
    private boolean endUnlessErrorCallback(LedgerRecord r, String via, long claim, String why, ResultStatus status,
                                           String reasonCode, String message) {
        if (publishCallbackError(r, via, claim, why)) {
            return true;
        }
        boolean[] stored = {false};
        if (publishClaimed(r, via, () -> stored[0] = publisher.publishUnlessErrorCallback(r, status, reasonCode,
                message, claim)) && !stored[0]) {
            // refused by the guard (not a failing ledger, which leaves the claim to go stale and be
            // taken up again): an ERROR callback came after the look above, or the claim was taken over
            publishCallbackError(r, via, claim, why);
        }
        return true;
    }

    /** Publishes the ERROR an ERROR callback noted for the row announced; false when none came. */
    private boolean publishCallbackError(LedgerRecord r, String via, long claim, String why) {
        String[] reason = {null};
        LedgerRetries.run(() -> reason[0] = ledger.callbackError(r.id()).orElse(null), ledgerRetries,
                ledgerRetryDelay.toMillis(), (e, wait) -> LOG.warn("Submission {}: its callback not read yet ({});"
                        + " trying again in {} ms", r.submissionId(), e.getMessage(), wait));
        if (reason[0] == null) {
            return false;
        }
        LOG.warn("Submission {}: its details not available ({}); published as its ERROR callback stated it",
                r.submissionId(), why);
        publishClaimed(r, via, () -> publisher.publishCallbackError(r, reason[0],
                "details not available (" + why + "): the outcome as its callback stated it", claim));
        return true;
    }

    /** Counts one more refusal for good of a submission's details in a row; returns the count. */
    private int detailsRefused(String ledgerId) {
        synchronized (detailsRefusals) {
            return detailsRefusals.merge(ledgerId, 1, Integer::sum);
        }
    }

    private void forgetDetailsRefusals(String ledgerId) {
        synchronized (detailsRefusals) {
            detailsRefusals.remove(ledgerId);
        }
    }

    private boolean retryLater(LedgerRecord r, String via, String why, long claim) {
        return retryLater(r, via, why, claim, null, -1);
    }

    private boolean retryLater(LedgerRecord r, String via, String why, long claim, JsonNode finalAnswer) {
        return retryLater(r, via, why, claim, finalAnswer, -1);
    }

    /**
     * Gives the claim back for another try after {@code ktp.poll.initial-backoff}, until the
     * submission's poll deadline: then it ends as TIMED_OUT, so no outcome is retried for ever.
     */
    /** @param askedToWait a Retry-After the last answer gave, not waited out (ms), or -1 */
    private boolean retryLater(LedgerRecord r, String via, String why, long claim, JsonNode finalAnswer,
                               long askedToWait) {
        long now = System.currentTimeMillis();
        if (r.pastDeadline(now)) {
            if (!stillOurs(r, claim)) {
                return false;
            }
            if (finalAnswer != null) {
                LOG.warn("Submission {} passed its poll deadline ({}): published as it is", r.submissionId(), why);
                publishClaimed(r, via, () -> publisher.publishOutcome(r, finalAnswer, via));
                return true;
            }
            LOG.warn("Submission {} passed its poll deadline ({})", r.submissionId(), why);
            return endUnlessErrorCallback(r, via, claim, why, ResultStatus.TIMED_OUT, "POLL_DEADLINE_EXCEEDED",
                    "no final outcome before ktp.poll.deadline (" + why + ")");
        }
        LOG.info("Submission {}: {}; trying again later", r.submissionId(), why);
        long wait = Math.max(askedToWait, retryWait(now - announcedAt(r)));
        ledger.releaseClaim(r.id(), r.notAfterDeadline(now + wait), claim);
        return false;
    }

    /**
     * The wait before the next try of an outcome whose details were not available or not final: a
     * quarter of the time since the outcome was announced, from {@code ktp.poll.initial-backoff} up to
     * {@code ktp.poll.max-backoff}. Details that lag a moment behind a final status are asked again
     * soon; ones that stay unavailable are not asked every few seconds until the deadline.
     */
    long retryWait(long sinceAnnounced) {
        return Math.min(maxRetryDelayMillis, Math.max(retryDelay.toMillis(), sinceAnnounced / 4));
    }

    /** When the outcome was announced: its callback, or else the confirm (a status said final since). */
    private static long announcedAt(LedgerRecord r) {
        Long at = r.callbackAt() != null ? r.callbackAt() : r.submittedAt();
        return at != null ? at : System.currentTimeMillis();
    }

    /**
     * Whether this collector's claim still holds the outcome before it ends the submission on its
     * own verdict (a refusal, the deadline): a details call can outlast {@code ktp.poll.stale-claim-after},
     * and the collector that took the released claim over may hold OneKYC's outcome by now.
     */
    private boolean stillOurs(LedgerRecord r, long claim) {
        if (ledger.holdsClaim(r.id(), claim)) {
            return true;
        }
        LOG.info("Submission {}: its collection was taken over meanwhile; the new collector decides", r.submissionId());
        return false;
    }

    /**
     * Whether OneKYC refused a call about a confirmed submission for good: a 4xx from that endpoint
     * itself, in OneKYC's envelope, other than 401/403. Those two (after the token refresh and, for
     * details, the partner token) point at credentials, which an operator can put right before the
     * deadline; a failing token endpoint says nothing about the submission either; nor does a bare
     * 4xx from a gateway or proxy in between. All are retried until the deadline.
     */
    public static boolean refusedForGood(GtfApiException e, String endpoint) {
        return !e.isTransient() && endpoint.equals(e.endpoint()) && e.isEnveloped() && !e.refusesCredentials();
    }

    /**
     * Whether a refusal of a call about this confirmed submission ends it now: one refused for good
     * (see {@link #refusedForGood}), except that "does not exist" is not taken at its word at once.
     * OneKYC accepted the confirm, and a lookup that lags behind its store would answer so for a
     * while. From status (or a new confirm) it ends the submission once the confirm is
     * {@code ktp.poll.not-found-grace} old; from details never, as a callback or a status has just
     * named the submission final: details are asked again until the poll deadline.
     */
    public boolean endsNow(LedgerRecord r, GtfApiException e, String endpoint, long now) {
        if (!refusedForGood(e, endpoint)) {
            return false;
        }
        if (!e.isSubmissionNotFound()) {
            return true;
        }
        return !"details".equals(endpoint)
                && (r.submittedAt() == null || now - r.submittedAt() >= notFoundGraceMillis);
    }

    /**
     * The poller's status call (or its new confirm) was refused for good, see {@link #refusedForGood}:
     * e.g. 404 SUBMISSION_DOES_NOT_EXIST. Ends the submission with a FAILED result naming the call,
     * unless a callback has named it final since the poller read the row.
     */
    public boolean endRefused(LedgerRecord r, GtfApiException e) {
        long claim = claimed(r, token -> ledger.claimWithoutCallback(r.id(), VIA_POLL, token));
        if (claim == 0) {
            return collectAnnouncedMeanwhile(r);
        }
        return endOnOwnVerdict(r, claim, ResultStatus.FAILED, FailureReport.reasonCode(e),
                "refused for good: " + e.getMessage());
    }

    /**
     * Publishes the poller's own verdict on a row it holds the claim of, unless a callback has been
     * noted for it since the claim (the details call on the way here can take long, and a callback
     * then finds the row claimed): then the claim is given back and the details decide. The
     * verdict's write holds that condition too, for a callback noted after the look.
     */
    private boolean endOnOwnVerdict(LedgerRecord r, long claim, ResultStatus status, String reasonCode,
                                    String message) {
        if (callbackNoted(r)) {
            return giveWayToCallback(r, claim);
        }
        boolean[] stored = {false};
        publishClaimed(r, VIA_POLL, () -> stored[0] = publisher.publishVerdict(r, status, reasonCode, message, claim));
        if (stored[0]) {
            return true;
        }
        // not stored: a callback came after the look above, or the claim was taken over
        return callbackNoted(r) && giveWayToCallback(r, claim);
    }

    /**
     * A claim on the row, tried again while the ledger fails for a passing reason, under one token:
     * a try after a reply lost on its way back (the write done) finds the claim its own, where a new
     * token would find the row taken and leave it for {@code ktp.poll.stale-claim-after}.
     *
     * @return the claim's token, 0 when the row was not open to it
     */
    private long claimed(LedgerRecord r, java.util.function.LongUnaryOperator claimWith) {
        long token = Ledger.newClaimToken();
        long[] claim = {0};
        LedgerRetries.run(() -> claim[0] = claimWith.applyAsLong(token), ledgerRetries, ledgerRetryDelay.toMillis(),
                (e, wait) -> LOG.warn("Submission {}: its claim not written yet ({}); trying again in {} ms",
                        r.submissionId(), e.getMessage(), wait));
        return claim[0];
    }

    private boolean callbackNoted(LedgerRecord r) {
        boolean[] noted = {false};
        LedgerRetries.run(() -> noted[0] = ledger.callbackNoted(r.id()), ledgerRetries, ledgerRetryDelay.toMillis(),
                (e, wait) -> LOG.warn("Submission {}: its callback note not read yet ({}); trying again in {} ms",
                        r.submissionId(), e.getMessage(), wait));
        return noted[0];
    }

    private boolean giveWayToCallback(LedgerRecord r, long claim) {
        ledger.releaseClaim(r.id(), System.currentTimeMillis(), claim);
        return collectAnnouncedMeanwhile(r);
    }

    /**
     * The poller's status call was refused for good (see {@link #refusedForGood}; "does not exist"
     * only past the grace). Status is a progress check: before the refusal ends the submission,
     * details are asked. Final details are published; details refused for good too end it
     * {@code FAILED} on the status's refusal; otherwise (details unavailable, not final yet) the
     * refusal is not taken at its word and the submission is polled again after {@code retryWait},
     * or ends TIMED_OUT once its deadline has come.
     * Nothing, unless a callback has named it final since the poller read the row.
     *
     * @return true when this call ended the submission
     */
    public boolean statusRefused(LedgerRecord r, GtfApiException e, long retryWait) {
        long claim = claimed(r, token -> ledger.claimWithoutCallback(r.id(), VIA_POLL, token));
        if (claim == 0) {
            return collectAnnouncedMeanwhile(r);
        }
        DetailsLook look = lookAtDetails(r, claim);
        if (look == DetailsLook.PUBLISHED) {
            return true;
        }
        if (look == DetailsLook.REFUSED) {
            LOG.error("Status of submission {} refused, and its details too: {}", r.submissionId(), e.getMessage());
            return endOnOwnVerdict(r, claim, ResultStatus.FAILED, FailureReport.reasonCode(e),
                    "refused for good: " + e.getMessage());
        }
        if (r.pastDeadline(System.currentTimeMillis())) {
            return endOnOwnVerdict(r, claim, ResultStatus.TIMED_OUT, "POLL_DEADLINE_EXCEEDED",
                    "no final status before ktp.poll.deadline (status refused: " + e.getMessage() + ")");
        }
        LOG.warn("Status of submission {} refused ({}), but its details do not end it: asked again later",
                r.submissionId(), e.getMessage());
        // counted as a poll: the back-off grows, and with status polling off the row is not due again at once
        ledger.releaseClaimAfterPoll(r.id(), r.notAfterDeadline(System.currentTimeMillis() + retryWait), claim);
        return false;
    }

    /**
     * The deadline passed without a final status: details are asked once (a status endpoint that
     * stayed down or lagging must not outrank an outcome OneKYC has), and published when final;
     * else TIMED_OUT is delivered once. Nothing, unless a callback has named it final since the
     * poller read the row.
     */
    public boolean timeOut(LedgerRecord r, String lastKnownStatus) {
        long claim = claimed(r, token -> ledger.claimWithoutCallback(r.id(), VIA_POLL, token));
        if (claim == 0) {
            return collectAnnouncedMeanwhile(r);
        }
        if (lookAtDetails(r, claim) == DetailsLook.PUBLISHED) {
            return true;
        }
        return endOnOwnVerdict(r, claim, ResultStatus.TIMED_OUT, "POLL_DEADLINE_EXCEEDED",
                "no final status before ktp.poll.deadline (last status " + lastKnownStatus + ")");
    }

    private enum DetailsLook { PUBLISHED, REFUSED, OPEN }

    /**
     * One details call for a submission the poller holds the claim of ({@code claim}), on its own
     * verdict's way: final details of this submission are published (at the deadline a COMPLETED
     * without a result too, as {@link #retryLater} does), else whether they were refused for good.
     */
    private DetailsLook lookAtDetails(LedgerRecord r, long claim) {
        JsonNode details;
        try {
            details = gtf.details(context(r), r.submissionId());
        } catch (GtfApiException d) {
            return refusedForGood(d, "details") ? DetailsLook.REFUSED : DetailsLook.OPEN;
        }
        String named = details.path("submissionId").asText("");
        if (!named.isEmpty() && !named.equals(r.submissionId()) || !isFinal(details.path("status").asText(""))) {
            return DetailsLook.OPEN;
        }
        boolean pastDeadline = r.pastDeadline(System.currentTimeMillis());
        if (verdictRequired && "COMPLETED".equals(details.path("status").asText(""))
                && details.path("result").asText("").isBlank() && !pastDeadline) {
            return DetailsLook.OPEN;
        }
        if (!stillOurs(r, claim)) {
            return DetailsLook.PUBLISHED; // the collector that took it over publishes
        }
        LOG.info("Submission {}: its details are final although status did not say so", r.submissionId());
        publishClaimed(r, VIA_POLL, () -> publisher.publishOutcome(r, details, VIA_POLL));
        return DetailsLook.PUBLISHED;
    }

    /**
     * The poller's copy of the row was read before a callback named the submission final (its
     * details not to be had then, the claim given back): as for a row the tick finds so, details
     * decide, not the refusal or the deadline the poller met, which a status lagging behind the
     * callback gives (a "does not exist" must never end a submission a callback named final).
     */
    private boolean collectAnnouncedMeanwhile(LedgerRecord stale) {
        LedgerRecord r = ledger.findById(stale.id()).orElse(null);
        if (r == null || r.callbackAt() == null || r.state() != SubmissionState.CONFIRMED) {
            return false;
        }
        LOG.info("Submission {}: a callback named it final meanwhile; its details decide", r.submissionId());
        return collect(r, VIA_CALLBACK);
    }

    /** @return whether {@code publish} ran to its end (it may have stored nothing, see its guards) */
    private boolean publishClaimed(LedgerRecord r, String via, Runnable publish) {
        // storing the result is one transaction, so trying it again cannot store it twice
        try {
            LedgerRetries.run(publish, ledgerRetries, ledgerRetryDelay.toMillis(), (e, wait) -> LOG.warn(
                    "Result of submission {} not stored yet ({}); trying again in {} ms", r.submissionId(),
                    e.getMessage(), wait));
            return true;
        } catch (LedgerException e) {
            if (e.isRefusedValue()) {
                // the same outcome would fail the same way at every later try: end it with one that fits
                storeInstead(r, via, e);
            } else {
                // the server's state, not the outcome (away, read-only after a failover, a right taken
                // away): OneKYC's outcome is kept for a later try, not replaced by a local failure
                givenUp(r, e);
            }
        } catch (RuntimeException e) {
            givenUp(r, e);
        }
        return false;
    }

    /**
     * The outcome could not be stored for a reason that does not go away (a value the ledger
     * refuses): a FAILED result saying so ends the submission, instead of a claim that goes stale
     * and fails the same way every few minutes.
     */
    private void storeInstead(LedgerRecord r, String via, LedgerException e) {
        LOG.error("Outcome of submission {} could not be stored: {}", r.submissionId(), e.getMessage());
        try {
            publisher.publishLocal(r, ResultStatus.FAILED, "RESULT_NOT_STORED",
                    "OneKYC's outcome could not be stored in the ledger: " + e.getMessage());
        } catch (RuntimeException again) {
            givenUp(r, again);
        }
    }

    private static void givenUp(LedgerRecord r, RuntimeException e) {
        // the claim goes stale and is released by the poller, so the result is delivered later
        LOG.error("Result of submission {} could not be delivered: {}", r.submissionId(), e.getMessage());
    }

    public static boolean isFinal(String status) {
        return "COMPLETED".equals(status) || "ERROR".equals(status);
    }

    static CallContext context(LedgerRecord r) {
        return new CallContext(new TokenKey(r.onboardingPartner(), r.partnerUserId(), r.partnerUserIdType()),
                r.partnerSessionId(), r.sdkSessionId());
    }
}

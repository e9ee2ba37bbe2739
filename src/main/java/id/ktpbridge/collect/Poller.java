package id.ktpbridge.collect;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.gtf.GtfApiException;
import id.ktpbridge.gtf.GtfClient;
import id.ktpbridge.gtf.GtfHttp;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.Leases;
import id.ktpbridge.ops.BridgeMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One poll tick: picks the confirmed submissions whose next poll is due (a bounded batch), asks
 * their status, collects the finished ones and reschedules the rest with growing back-off (one
 * still INITIATED is confirmed again first).
 */
public class Poller {

    private static final Logger LOG = LoggerFactory.getLogger(Poller.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Ledger ledger;
    private final GtfClient gtf;
    private final Collector collector;
    private final int batchSize;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final Duration staleClaimAfter;
    private final Duration reconfirmAfter;
    private final Leases tickLease;
    private final long tickLeaseMillis;
    private volatile BridgeMetrics metrics;
    private volatile boolean statusPolling = true;

    /**
     * @param reconfirmAfter how long after the confirm a submission still INITIATED is confirmed
     *                       again ({@code ktp.poll.reconfirm-after})
     * @param tickLease the {@code poll-tick} lease, or null in cluster mode, where the clustered
     *                  Quartz job store already fires each tick on one instance only
     *                  (see {@link ClusteredQuartz})
     */
    public Poller(Ledger ledger, GtfClient gtf, Collector collector, int batchSize, Duration initialBackoff,
                  Duration maxBackoff, Duration staleClaimAfter, Duration reconfirmAfter, Leases tickLease,
                  long tickLeaseMillis) {
        this.reconfirmAfter = reconfirmAfter;
        this.tickLease = tickLease;
        this.tickLeaseMillis = tickLeaseMillis;
        this.ledger = ledger;
        this.gtf = gtf;
        this.collector = collector;
        this.batchSize = batchSize;
        this.initialBackoff = initialBackoff;
        this.maxBackoff = maxBackoff;
        this.staleClaimAfter = staleClaimAfter;
    }

    public void metrics(BridgeMetrics metrics) {
        this.metrics = metrics;
    }

    /**
     * {@code ktp.poll.enabled}. Off, a tick takes up again the collections a callback started and
     * could not finish (details not available yet, a crash, a full queue), which nothing else would,
     * and asks the status of a submission still without a callback twice: once
     * {@code ktp.poll.reconfirm-after} after its confirm (a confirm taken as confirmed without an
     * answer that did not take is confirmed again then, as no callback would ever come for it), and
     * at its deadline. A first look not had for now (status not answered, or its new confirm not) is
     * tried again before the deadline, backing off (see {@link #lookAgainWait}).
     */
    public void statusPolling(boolean on) {
        this.statusPolling = on;
    }

    /**
     * Camel bean method: the due batch (the route splits it over the poll workers).
     * <p>
     * Who runs a tick: in cluster mode the Quartz trigger lives in PostgreSQL and Quartz hands each
     * fire to one instance, so every tick that reaches this method is the cluster's only one.
     * Otherwise Quartz keeps its trigger in memory and the {@code poll-tick} lease decides: a lone
     * instance always holds it; it only matters when two instances were pointed at one PostgreSQL
     * ledger without the cluster switch, and then keeps them from polling twice per tick.
     */
    public List<LedgerRecord> dueBatch() {
        if (tickLease != null && !tickLease.tryHold("poll-tick", tickLeaseMillis)) {
            return List.of();
        }
        BridgeMetrics m = metrics;
        if (m != null) {
            m.pollTicked();
        }
        long now = System.currentTimeMillis();
        int released = ledger.releaseStaleClaims(now - staleClaimAfter.toMillis());
        if (released > 0) {
            LOG.warn("{} abandoned collection claim(s) released for another try", released);
        }
        return ledger.dueForPoll(now, batchSize, !statusPolling, reconfirmAfter.toMillis());
    }

    /**
     * What {@link #confirmAgain} came to: the submission ended (refused for good), or whether OneKYC
     * answered the confirm (taken, or its 409 saying it already was) and how long it asked to be left
     * alone (a {@code Retry-After}, -1 for no such wish).
     */
    private record Reconfirm(boolean ended, boolean answered, long askedToWait) {
        static final Reconfirm ENDED = new Reconfirm(true, true, -1);
        static final Reconfirm CONFIRMED = new Reconfirm(false, true, -1);

        static Reconfirm notAnswered(long askedToWait) {
            return new Reconfirm(false, false, askedToWait);
        }
    }

    /** Camel bean method: polls one submission. */
    public void pollOne(LedgerRecord r) {
        if (r.callbackAt() != null) {
            // a callback named it final (its details were not to be had then): details again, not
            // status, which may be the endpoint that is down or lagging; the deadline ends it
            collector.collect(r, Collector.VIA_CALLBACK);
            return;
        }
        // with status polling off, one no callback named final by its deadline: one last look, as
        // a poll at the deadline, so its callback lost on the way does not leave it open for ever
        long now = System.currentTimeMillis();
        String status;
        long askedToWait = -1;
        boolean answered = true;
        try {
            // OneKYC's word, for log lines and a TIMED_OUT result's message too: an enum, or any text
            status = id.ktpbridge.LogSafe.text(gtf.status(Collector.context(r), r.submissionId()).path("status")
                    .asText(""), 40);
        } catch (GtfApiException e) {
            // a Retry-After longer than the call waits in place: the next poll comes no sooner
            askedToWait = e.retryAfterMillis();
            if (collector.endsNow(r, e, "status", now)) {
                // e.g. 404 SUBMISSION_DOES_NOT_EXIST past the grace: ends it, unless details say otherwise
                collector.statusRefused(r, e, Math.max(e.retryAfterMillis(), backoff(r.pollAttempts() + 1)));
                return;
            }
            LOG.warn("Status of submission {} not available: {}", r.submissionId(), e.getMessage());
            status = "UNKNOWN";
            answered = false;
        }
        if (Collector.isFinal(status)) {
            collector.collect(r, Collector.VIA_POLL);
        } else if (r.pastDeadline(now)) {
            LOG.warn("Submission {} passed its poll deadline in status {}", r.submissionId(), status);
            collector.timeOut(r, status);
        } else {
            boolean confirmLost = "INITIATED".equals(status) && r.submittedAt() != null
                    && now - r.submittedAt() >= reconfirmAfter.toMillis();
            if (confirmLost) {
                Reconfirm again = confirmAgain(r);
                if (again.ended()) {
                    return;
                }
                answered &= again.answered();
                askedToWait = Math.max(askedToWait, again.askedToWait());
            }
            if (!statusPolling && !answered) {
                // status polling off: this was the one look before the deadline, and no callback comes
                // for a confirm that did not take; not had for now, the row stays due for it (its poll
                // count unchanged), backing off
                long wait = Math.max(askedToWait, lookAgainWait(now - firstLookDue(r)));
                ledger.reschedulePoll(r.id(), r.pollAttempts(), r.notAfterDeadline(now + wait));
                return;
            }
            int attempts = r.pollAttempts() + 1;
            // after a new confirm the grace starts again: the next look comes no sooner
            long wait = Math.max(askedToWait,
                    confirmLost ? Math.max(backoff(attempts), reconfirmAfter.toMillis()) : backoff(attempts));
            // the last look comes at the deadline, not up to a back-off later
            ledger.reschedulePoll(r.id(), attempts, r.notAfterDeadline(now + wait));
        }
    }

    /**
     * INITIATED means waiting for upload and confirm (reference 10.1). Still INITIATED
     * {@code ktp.poll.reconfirm-after} after the bundle's confirm (a state that lags behind a confirm
     * settles sooner), so that confirm did not take: it ended without an answer and was taken as
     * confirmed (see the submit step). The upload is at the storage; the confirm needs no image. A
     * confirm that did take after all is answered with OneKYC's 409 ({@code SUBMISSION_STATE_CONFLICT}),
     * which settles it too; a 409 without OneKYC's envelope does not.
     *
     * @return what it came to: not answered when it failed for now
     */
    private Reconfirm confirmAgain(LedgerRecord r) {
        try {
            // in the poll tick, which waits for every call of its batch: no long Retry-After in place
            gtf.confirm(Collector.context(r), r.submissionId(), metadata(r.confirmMetadata()),
                    GtfHttp.POLL_CALL_MAX_RETRY_AFTER.toMillis());
            LOG.warn("Submission {} was still INITIATED after its confirm: confirmed again", r.submissionId());
        } catch (GtfApiException e) {
            if (e.isStateConflict()) {
                // OneKYC's own 409 only: a bare one (a proxy's page) is asked again at the next poll below
                LOG.info("Submission {} INITIATED, but a new confirm answered 409: confirmed", r.submissionId());
            } else if (e.earlierAttemptArrived()) {
                // its retry repeated the session id of an attempt whose answer was lost: that one was taken
                LOG.info("Submission {} INITIATED; a new confirm's retry was refused as a repeat of an attempt whose"
                        + " answer was lost: confirmed", r.submissionId());
            } else if (collector.endsNow(r, e, "confirm", System.currentTimeMillis())) {
                LOG.error("Submission {} INITIATED and its confirm refused: {}", r.submissionId(), e.getMessage());
                collector.endRefused(r, e);
                return Reconfirm.ENDED;
            } else {
                LOG.warn("Submission {} INITIATED; confirming again failed ({}): next poll", r.submissionId(),
                        e.getMessage());
                return Reconfirm.notAnswered(e.retryAfterMillis());
            }
        }
        return Reconfirm.CONFIRMED;
    }

    private static JsonNode metadata(String raw) {
        if (raw == null || raw.isBlank()) {
            return null;
        }
        try {
            return JSON.readTree(raw);
        } catch (IOException e) {
            return null; // stored by the intake from parsed JSON: not expected
        }
    }

    /**
     * With status polling off, the wait before the look at {@code ktp.poll.reconfirm-after} is tried
     * again: as long as it has been due already, within the back-off bounds. The row keeps no count
     * of these tries (a poll count of 0 is what keeps it due), so the time lost stands for one: the
     * waits double as {@link #backoff}'s do.
     */
    long lookAgainWait(long dueFor) {
        return Math.min(maxBackoff.toMillis(), Math.max(initialBackoff.toMillis(), dueFor));
    }

    private long firstLookDue(LedgerRecord r) {
        return r.submittedAt() == null ? System.currentTimeMillis() : r.submittedAt() + reconfirmAfter.toMillis();
    }

    long backoff(int attempts) {
        long grown = initialBackoff.toMillis() * (1L << Math.min(attempts - 1, 20));
        return Math.min(maxBackoff.toMillis(), grown);
    }
}

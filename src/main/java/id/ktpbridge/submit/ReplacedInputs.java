package id.ktpbridge.submit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import id.ktpbridge.ingest.DropFolderStore;
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
 * <p>
 * The sweep also ends inputs whose file or object is gone before their upload: a file drop input
 * whose file left the drop folder, and an SFTP or S3 input left alone as long whose file or object
 * its server or bucket says is not there any more, at a place this configuration reads (deleted or
 * moved away by hand while an outage kept it waiting). Only its source hands an input back, so
 * such an input would stay open for good.
 */
public class ReplacedInputs {

    private static final Logger LOG = LoggerFactory.getLogger(ReplacedInputs.class);
    private static final String LEASE = "replaced-inputs-sweep";
    private static final String MESSAGE = "its file was replaced by other bytes before its upload";
    private static final String GONE = "its file left the drop folder before its upload";
    private static final String UNREAD = "it waited for its upload at a place this configuration's sources no longer"
            + " read: ";
    /** Left alone this long, a file drop input whose file is gone is ended (its worker is long past it). */
    private static final long GONE_AFTER_MILLIS = 60_000;
    /** SFTP or S3 inputs asked about per source and sweep, at most: each is a call to the server. */
    static final int REMOTE_PAGE = 100;

    private final Ledger ledger;
    private final ResultPublisher publisher;
    private final Leases leases;
    private final InputsInHand inHand;
    /** {@code ktp.source.dir}, and the file system it holds its files on; null with the file drop off. */
    private final DropFolderStore dropFolder;
    /** Set where this process's ledger is its alone: the places its sources read, and its start. */
    private volatile SourcePlaces places;
    private volatile long startedAt;
    private final Duration untouchedFor;
    /** {@code ktp.poll.reconfirm-after}: an uploaded input handed to the poller is looked at (and confirmed) then. */
    private final Duration reconfirmAfter;
    private final Duration pollDeadline;
    /** The places this configuration's sources read, and the checks of its SFTP and S3 sources (see {@link #remote}). */
    private volatile SourcePlaces remotePlaces;
    private volatile List<GoneCheck> remoteChecks = List.of();
    /** Per source type, the last input the previous sweep asked about: the next one goes on after it. */
    private final Map<String, LedgerRecord> remoteAfter = new ConcurrentHashMap<>();
    /** Per source, the input its last look broke off at (see {@link #endGone(GoneCheck, long)}). */
    private final Map<String, String> brokeOffAt = new ConcurrentHashMap<>();

    /**
     * @param dropFolder {@code ktp.source.dir}: a file drop input is only taken for gone from there;
     *     null with the file drop off
     * @param untouchedFor how long a replaced input must have been left alone before a sweep ends it
     *     ({@code ktp.source.claim-ttl}: a live instance renews the claims of what it has in hand)
     * @param reconfirmAfter {@code ktp.poll.reconfirm-after}
     * @param pollDeadline {@code ktp.poll.deadline}
     */
    public ReplacedInputs(Ledger ledger, ResultPublisher publisher, Leases leases, InputsInHand inHand,
                          DropFolderStore dropFolder, Duration untouchedFor, Duration reconfirmAfter,
                          Duration pollDeadline) {
        this.dropFolder = dropFolder;
        this.ledger = ledger;
        this.publisher = publisher;
        this.leases = leases;
        this.inHand = inHand;
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
                end(gone, Intake.SOURCE_REPLACED, MESSAGE);
            } else {
                handToPoller(gone, "replaced by other bytes");
            }
        }
    }

    /**
     * Where this process's ledger is its alone (no cluster, no other process on it), an input an
     * earlier process left unconfirmed at a place {@code places} does not read is ended as one whose
     * file is gone: nobody would ever take it again (see {@link StrandedInputs}).
     *
     * @param startedAt this process's start: inputs taken since are this configuration's own
     */
    public void endStranded(SourcePlaces places, long startedAt) {
        this.startedAt = startedAt;
        this.places = places;
    }

    /**
     * Has the sweep ask the SFTP and S3 sources (those on, one check each) whether the files and
     * objects of inputs left alone for {@code ktp.source.claim-ttl} are still there, for the inputs at
     * a place {@code read} says is read: those definitely gone are ended as {@link #endIfGone} ends a
     * file drop input.
     */
    public void remote(SourcePlaces read, List<GoneCheck> checks) {
        this.remotePlaces = read;
        this.remoteChecks = List.copyOf(checks);
    }

    /**
     * Ends a file drop input not confirmed yet whose file is no longer in the drop folder (moved,
     * renamed or deleted while it waited for another attempt), or an input an earlier process left
     * at a place no source of this configuration reads (see {@link #endStranded}), unless a worker
     * has it in hand: FAILED {@code SOURCE_GONE}, or handed to the poller when already uploaded.
     * Otherwise it would stay open for good (a batch run waits for it) and its content claim would
     * turn the same image away under any other name.
     *
     * @return what was found and done
     */
    Gone endIfGone(LedgerRecord row) {
        String unread = unread(row);
        if (unread == null && (!"file".equals(row.sourceType()) || row.sourceRef() == null
                || !row.sourceRef().startsWith("file:")
                || !gone(Path.of(row.sourceRef().substring(5)).toAbsolutePath().normalize()))) {
            return Gone.NOT_GONE;
        }
        if (!inHand.takeToEnd(row.id())) {
            return Gone.IN_HAND;
        }
        try {
            if (row.state() == SubmissionState.UPLOADED) {
                handToPoller(row, unread != null ? "left where no source reads it (" + unread + ")"
                        : "gone from the drop folder");
            } else {
                end(row, Intake.SOURCE_GONE, unread != null ? UNREAD + unread : GONE);
            }
            return Gone.ENDED;
        } finally {
            inHand.letGo(row.id());
        }
    }

    /** Why no source takes the row's input again, when this process may end it for that; else null. */
    private String unread(LedgerRecord row) {
        SourcePlaces read = places;
        return read == null || row.createdAt() >= startedAt ? null : read.unread(row);
    }

    /**
     * The file is not there, in a drop folder that is: the drop folder of this configuration, on the
     * file system it was seen holding files on. A share not mounted (yet, or for a moment) leaves its
     * mount point empty, on the file system below it: all its files would look gone.
     */
    private boolean gone(Path file) {
        return dropFolder != null && file.startsWith(dropFolder.folder()) && Files.isDirectory(file.getParent())
                && Files.notExists(file) && dropFolder.holdsItsFiles();
    }

    /** What {@link #endIfGone} found. */
    enum Gone {
        /** Its file is there (or not a file drop input): nothing done. */
        NOT_GONE,
        /** Its file is gone, but a worker has it in hand (it may submit its spooled copy): nothing done. */
        IN_HAND,
        /** Its file is gone: ended, or handed to the poller. */
        ENDED
    }

    /**
     * An input uploaded but not confirmed whose file is gone: its bytes are at OneKYC's storage and
     * the confirm needs none. Recorded as confirmed now: the poller's first look, reconfirm-after
     * later, finds it INITIATED and confirms it, as after a confirm whose answer was lost.
     */
    private void handToPoller(LedgerRecord row, String what) {
        long now = System.currentTimeMillis();
        ledger.markConfirmed(row.id(), now, now + reconfirmAfter.toMillis(), now + pollDeadline.toMillis());
        ledger.markReleased(row.id());
        LOG.warn("Ledger {}: its file was {} after its upload; the poller confirms its submission {} and collects"
                + " its outcome", row.id(), what, row.submissionId());
    }

    /**
     * Camel bean method: one pass, on one instance of a cluster at a time; also stores the results
     * of replaced inputs ended without one, and ends the inputs whose file or object is gone.
     */
    public void sweep() {
        if (!leases.tryHold(LEASE, Math.max(1_000, untouchedFor.toMillis() / 2))) {
            return;
        }
        long now = System.currentTimeMillis();
        long cutoff = now - untouchedFor.toMillis();
        for (LedgerRecord gone : ledger.findReplacedUntouchedSince(cutoff)) {
            if (!inHand.takeToEnd(gone.id())) {
                continue; // a worker has it in hand (a long Retry-After wait, say)
            }
            try {
                // only while still untouched and before its upload: a worker may have got to it meanwhile
                if (ledger.endReplacedIfUntouched(gone.id(), cutoff, Intake.SOURCE_REPLACED, MESSAGE)) {
                    published(gone.id(), Intake.SOURCE_REPLACED, MESSAGE);
                }
            } finally {
                inHand.letGo(gone.id());
            }
        }
        // ended, and the process stopped (or the ledger failed) before its result was stored: its
        // old bytes never come back to have it stored then. A minute's grace for the worker that ended
        // it; should both get there, the result is stored once
        for (LedgerRecord ended : ledger.findFailedWithoutResult(Intake.SOURCE_REPLACED, now - 60_000)) {
            published(ended.id(), Intake.SOURCE_REPLACED, MESSAGE);
        }
        for (LedgerRecord ended : ledger.findFailedWithoutResult(Intake.SOURCE_GONE, now - 60_000)) {
            // its own message: a file gone, a place no longer read, or what an operator wrote (README)
            published(ended.id(), Intake.SOURCE_GONE, ended.errorMessage() != null ? ended.errorMessage() : GONE);
        }
        for (LedgerRecord row : ledger.findUnconfirmedFilesUntouchedSince(now - GONE_AFTER_MILLIS)) {
            endIfGone(row);
        }
        for (GoneCheck check : remoteChecks) {
            endGone(check, cutoff);
        }
    }

    /**
     * Up to {@value #REMOTE_PAGE} inputs of {@code check}'s source not confirmed yet and untouched
     * since {@code cutoff} (a live instance touches those it has in hand within a claim's time): each
     * at a place this configuration reads whose file or object the source says is gone is ended.
     */
    private void endGone(GoneCheck check, long cutoff) {
        LedgerRecord after = remoteAfter.get(check.sourceType());
        List<LedgerRecord> page = ledger.findUnconfirmedUntouchedSince(check.sourceType(), cutoff,
                after == null ? Long.MIN_VALUE : after.createdAt(), after == null ? "" : after.id(), REMOTE_PAGE);
        SourcePlaces read = remotePlaces;
        // one at a place no source reads is StrandedInputs' (this instance may not be the one that reads it)
        List<LedgerRecord> asked = page.stream().filter(r -> r.sourceRef() != null && read.unread(r) == null).toList();
        GoneCheck.Answer answer = asked.isEmpty() ? new GoneCheck.Answer(Set.of(), Set.of())
                : check.look(asked.stream().map(LedgerRecord::sourceRef).distinct().toList());
        // the next sweep goes on after the last row of the page asked about and answered for (a look
        // that broke off has the rest asked again); after a page that was not full, from the first
        LedgerRecord last = after;
        LedgerRecord unanswered = null;
        for (LedgerRecord row : page) {
            if (row.sourceRef() != null && read.unread(row) == null && !answer.answered().contains(row.sourceRef())) {
                unanswered = row;
                break;
            }
            last = row;
        }
        if (unanswered != null && unanswered.id().equals(brokeOffAt.get(check.sourceType()))) {
            // the look broke off at it twice running (a folder on a mount that hangs, say): the next
            // pass goes on past it, or it would hold back every input after it for good
            last = unanswered;
            brokeOffAt.remove(check.sourceType());
        } else if (unanswered != null) {
            brokeOffAt.put(check.sourceType(), unanswered.id());
        } else {
            brokeOffAt.remove(check.sourceType());
        }
        if (unanswered == null && page.size() < REMOTE_PAGE) {
            remoteAfter.remove(check.sourceType());
        } else if (last != null) {
            remoteAfter.put(check.sourceType(), last);
        }
        for (LedgerRecord row : asked) {
            if (answer.gone().contains(row.sourceRef())) {
                endGone(row, check, true);
            }
        }
    }

    /**
     * For the intake, which met the same bytes again under another name: ends an SFTP or S3 input
     * not confirmed yet whose file or object its source says is gone, at a place this configuration
     * reads, as the sweep would later (that image is likely the same file put back under a new name,
     * which would otherwise be turned away as a duplicate of it until then).
     */
    Gone endIfRemoteGone(LedgerRecord row) {
        SourcePlaces read = remotePlaces;
        if (read == null || row.sourceRef() == null || read.unread(row) != null) {
            return Gone.NOT_GONE;
        }
        for (GoneCheck check : remoteChecks) {
            if (check.sourceType().equals(row.sourceType())) {
                // its answer is a moment old: not asked again once in hand
                return check.look(List.of(row.sourceRef())).gone().contains(row.sourceRef())
                        ? endGone(row, check, false) : Gone.NOT_GONE;
            }
        }
        return Gone.NOT_GONE;
    }

    /**
     * As {@link #endIfGone}, for an input whose file or object {@code check}'s source said is gone:
     * with {@code askAgain}, asked again once the input is in hand, as the answer may be old by then
     * (a file put back the way some tools replace one, deleting it first).
     */
    private Gone endGone(LedgerRecord found, GoneCheck check, boolean askAgain) {
        if (!inHand.takeToEnd(found.id())) {
            return Gone.IN_HAND; // a worker has it in hand: it may still submit its copy
        }
        try {
            // as it is now, in hand: a worker may have moved it on since it was found
            LedgerRecord row = ledger.findById(found.id()).orElse(null);
            if (row == null || row.state() != SubmissionState.RECEIVED && row.state() != SubmissionState.PRESIGNED
                    && row.state() != SubmissionState.UPLOADED
                    || askAgain && !check.look(List.of(row.sourceRef())).gone().contains(row.sourceRef())) {
                return Gone.NOT_GONE;
            }
            if (row.state() == SubmissionState.UPLOADED) {
                handToPoller(row, "gone from " + check.place());
            } else {
                end(row, Intake.SOURCE_GONE, check.goneMessage());
            }
            return Gone.ENDED;
        } finally {
            inHand.letGo(found.id());
        }
    }

    private void end(LedgerRecord gone, String reasonCode, String message) {
        if (ledger.markEnded(gone.id(), SubmissionState.FAILED, reasonCode, message)) {
            published(gone.id(), reasonCode, message);
        }
    }

    private void published(String id, String reasonCode, String message) {
        LOG.warn("Ledger {}: {}; ended FAILED", id, message);
        publisher.publishLocal(ledger.findById(id).orElseThrow(), ResultStatus.FAILED, reasonCode, message);
        ledger.markReleased(id);
    }
}

package id.ktpbridge.submit;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.gtf.CallContext;
import id.ktpbridge.gtf.TokenKey;
import id.ktpbridge.ingest.ImageInspector;
import id.ktpbridge.ingest.ImageInspector.Inspection;
import id.ktpbridge.ingest.DropFolderClock;
import id.ktpbridge.ingest.FailureReport;
import id.ktpbridge.ingest.FileSidecar;
import id.ktpbridge.ingest.InputAlreadyEndedException;
import id.ktpbridge.ingest.InputDeferredException;
import id.ktpbridge.ingest.InputHeaders;
import id.ktpbridge.ingest.InputRejectedException;
import id.ktpbridge.ingest.PassingFailures;
import id.ktpbridge.ingest.PartnerUserResolver;
import id.ktpbridge.ingest.PartnerUserResolver.PartnerUser;
import id.ktpbridge.ingest.RejectReason;
import id.ktpbridge.ingest.RemoteStream;
import id.ktpbridge.ingest.Settlement;
import id.ktpbridge.ingest.SourceStamp;
import id.ktpbridge.ingest.SpoolCopy;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.NewInput;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.result.ResultPublisher;
import id.ktpbridge.result.ResultStatus;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.component.file.GenericFile;
import org.apache.camel.support.SynchronizationAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First step of {@code submit-ktp}: reads the neutral message, checks the image and the partner
 * user, and writes the ledger row. A bad input gets a REJECTED row and result here, and the
 * exchange fails with {@link InputRejectedException} so its source can quarantine it.
 */
public class Intake implements Processor {

    private static final Logger LOG = LoggerFactory.getLogger(Intake.class);

    private final Ledger ledger;
    private final ImageInspector inspector;
    private final PartnerUserResolver users;
    private final ResultPublisher publisher;
    private final ObjectMapper json;
    private final String onboardingPartner;
    private final Path spoolDir;
    /** Reason code of an input whose file was replaced by other bytes before its upload. */
    public static final String SOURCE_REPLACED = "SOURCE_REPLACED";
    /** Reason code of a file drop input whose file left the drop folder before its upload. */
    public static final String SOURCE_GONE = "SOURCE_GONE";
    /** Exchange property: the inspection of this input, kept for a retried intake. */
    private static final String INSPECTION = "KtpInspection";
    /** How long a worker waits before it gives back an input whose local copy could not be written. */
    static final java.time.Duration SPOOL_FAILURE_PAUSE = java.time.Duration.ofSeconds(5);
    /** Reads of one remote input that may break off in a row before it is rejected as unreadable. */
    static final int BROKEN_OFF_READS = 5;
    /** See {@link #brokenReadWindow}. */
    public static final java.time.Duration DEFAULT_BROKEN_READ_WINDOW = java.time.Duration.ofMinutes(1);
    private final boolean dedupeByContent;
    /** Remote inputs whose last reads broke off part-way (see {@link RemoteStream}). */
    private volatile PassingFailures brokenOffReads;
    private volatile java.time.Duration brokenReadWindow;
    /** Local files whose last reads failed for a passing reason (see {@link #localReadFailed}). */
    private volatile PassingFailures failedLocalReads;
    private volatile java.time.Duration localReadWindow;
    private volatile Opener opener = file -> Files.newInputStream(file, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    /** Copies held in memory instead of spool files (see {@link #spoolMemory}). */
    private volatile SpoolCopy.Budget spoolMemory = new SpoolCopy.Budget(DEFAULT_SPOOL_MEMORY);
    /** See {@link #spoolMemory}. */
    public static final long DEFAULT_SPOOL_MEMORY = 16L << 20;
    private volatile boolean clustered;
    private volatile ReplacedInputs replacedInputs;
    private volatile InputsInHand inputsInHand;
    private volatile java.time.Duration reconfirmAfter = java.time.Duration.ofSeconds(30);
    private volatile java.time.Duration pollDeadline = java.time.Duration.ofMinutes(30);
    private volatile DropFolderClock dropFolderClock;
    /**
     * How long a drop-folder file found changing when its worker came to it is left out of the
     * listing: its new version waits for the read lock's minimum age anyway.
     */
    static final java.time.Duration CHANGING_PAUSE = FileSidecar.READ_RETRY_PAUSE;

    public Intake(Ledger ledger, ImageInspector inspector, PartnerUserResolver users, ResultPublisher publisher,
                  ObjectMapper json, String onboardingPartner, Path spoolDir, boolean dedupeByContent) {
        this.dedupeByContent = dedupeByContent;
        this.ledger = ledger;
        this.inspector = inspector;
        this.users = users;
        this.publisher = publisher;
        this.json = json;
        this.onboardingPartner = onboardingPartner;
        this.spoolDir = spoolDir;
        this.brokenReadWindow = DEFAULT_BROKEN_READ_WINDOW;
        this.brokenOffReads = new PassingFailures(BROKEN_OFF_READS, DEFAULT_BROKEN_READ_WINDOW, java.time.Clock.systemUTC());
        localReadWindow(DEFAULT_BROKEN_READ_WINDOW);
    }

    /**
     * A remote input whose reads break off is rejected ({@code UNREADABLE_SOURCE}) only once
     * {@value #BROKEN_OFF_READS} reads in a row broke off and at least this long has passed since
     * the first of them: an S3 object is listed again every few seconds, so the reads alone would
     * be used up by some seconds of connection resets ({@code ktp.source.s3.broken-read-window}).
     */
    public void brokenReadWindow(java.time.Duration window) {
        this.brokenReadWindow = window;
        this.brokenOffReads = new PassingFailures(BROKEN_OFF_READS, window, java.time.Clock.systemUTC());
    }

    /**
     * A local file whose reads fail for a passing reason is rejected ({@code UNREADABLE_SOURCE}) only
     * once {@link FileSidecar#READ_TRIES} reads in a row failed and at least this long has passed
     * since the first of them: the pauses between the reads alone come to some seconds, which a
     * network mount's failover can outlast ({@code ktp.source.file.broken-read-window}).
     */
    public void localReadWindow(java.time.Duration window) {
        this.localReadWindow = window;
        this.failedLocalReads = new PassingFailures(FileSidecar.READ_TRIES, window, java.time.Clock.systemUTC());
    }

    /** Opens a local input for reading: the file system, or in a test a disk that fails. */
    interface Opener {
        InputStream open(Path file) throws IOException;
    }

    /** Reads local inputs through {@code opener} from now on. */
    void opener(Opener opener) {
        this.opener = opener;
    }

    /** Cluster mode: other instances take the same sources (see {@link #endReplaced}). */
    public void clustered(boolean on) {
        this.clustered = on;
    }

    /** Cluster mode: the holds on the inputs in hand, which another instance must not submit too. */
    public void inputsInHand(InputsInHand inHand) {
        this.inputsInHand = inHand;
    }

    /**
     * {@code ktp.poll.reconfirm-after} and {@code ktp.poll.deadline}, for an uploaded input whose
     * source can no longer be read (see {@link #unreadInFlight}): the poller confirms it.
     */
    public void pollTimes(java.time.Duration reconfirmAfter, java.time.Duration pollDeadline) {
        this.reconfirmAfter = reconfirmAfter;
        this.pollDeadline = pollDeadline;
    }

    /**
     * {@code ktp.source.spool-memory-bytes}: the copies of inputs in hand are held in memory up to
     * this many bytes together; an input whose size does not fit gets a spool file (0: every one).
     */
    public void spoolMemory(long bytes) {
        this.spoolMemory = new SpoolCopy.Budget(bytes);
    }

    /** Bytes of input copies held in memory now. */
    public long spoolMemoryUsed() {
        return spoolMemory.used();
    }

    /**
     * The drop folder's clock and {@code ktp.source.read-lock-min-age}: a worker asks again whether
     * a dropped file has stopped changing, as the scan that claimed it did (see {@link #stillAsListed}).
     */
    public void dropFolderClock(DropFolderClock clock) {
        this.dropFolderClock = clock;
    }

    /** Where inputs whose file was replaced before their upload are ended. */
    public void replacedInputs(ReplacedInputs replaced) {
        this.replacedInputs = replaced;
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        var msg = exchange.getMessage();
        String sourceType = required(msg.getHeader(InputHeaders.SOURCE_TYPE, String.class), InputHeaders.SOURCE_TYPE);
        String sourceFile = required(msg.getHeader(InputHeaders.SOURCE_FILE, String.class), InputHeaders.SOURCE_FILE);
        String sourceRef = msg.getHeader(InputHeaders.SOURCE_REF, sourceFile, String.class);
        // run again after a ledger write failed for a moment: the same ledger id and the inspection
        // already made (a stream cannot be read twice; its spool copy stays until the input is done)
        String ledgerId = exchange.getProperty(WorkItem.LEDGER_ID, String.class);
        boolean again = ledgerId != null;
        if (ledgerId == null) {
            ledgerId = UUID.randomUUID().toString();
            exchange.setProperty(WorkItem.LEDGER_ID, ledgerId);
        }
        String notNow = msg.getHeader(InputHeaders.NOT_NOW, String.class);
        if (notNow != null) {
            Long pause = msg.getHeader(InputHeaders.NOT_NOW_PAUSE, Long.class);
            throw new InputDeferredException(notNow, pause == null ? null : java.time.Duration.ofMillis(pause));
        }
        Inspection image = exchange.getProperty(INSPECTION, Inspection.class);
        if (image == null) {
            String unreadable = msg.getHeader(InputHeaders.UNREADABLE, String.class);
            String link = msg.getHeader(InputHeaders.SYMBOLIC_LINK, String.class);
            try {
                image = link != null ? new Inspection(null, 0, null, null, RejectReason.SYMBOLIC_LINK, link)
                        : unreadable != null
                        ? new Inspection(null, 0, null, null, RejectReason.UNREADABLE_SOURCE, unreadable)
                        : inspect(exchange, ledgerId);
                brokenOffReads.passed(sourceRef);
                failedLocalReads.passed(localVersion(msg, sourceRef));
            } catch (ImageInspector.SpoolFailure e) {
                // the bundle's own disk (full, say), not the input: nothing is recorded, and the input
                // stays in its source for a later attempt. The worker waits first, so a full disk does
                // not have every image taken, copied and given back in a tight loop
                pause(SPOOL_FAILURE_PAUSE);
                throw new InputDeferredException("its local copy could not be written ("
                        + FailureReport.safeMessage(e.getCause()) + ")");
            } catch (RemoteStream.BrokenOff e) {
                // the store's connection, not the input: nothing is recorded, and it is taken again;
                // an object that breaks off every time (short, or failing its checksum) is rejected
                String why = "reading it from its source broke off (" + FailureReport.safeMessage(e.getCause()) + ")";
                if (brokenOffReads.failed(sourceRef) > 0) {
                    throw new InputDeferredException(why);
                }
                image = new Inspection(null, 0, null, null, RejectReason.UNREADABLE_SOURCE,
                        why + " at least " + BROKEN_OFF_READS + " times in a row, over at least "
                                + brokenReadWindow.toSeconds() + " s");
            } catch (java.nio.file.NoSuchFileException e) {
                if (clustered && localFile(msg.getBody()) != null) {
                    // in a cluster a drop-folder file gone is one another instance took, most likely: the
                    // listing that showed it was stale (a network folder's cached attributes). Nothing is
                    // recorded: a second result would follow the first (an input gone for good before
                    // its row was written has none)
                    throw new InputDeferredException("its file is gone, another instance may have taken it: taken again only"
                            + " if it comes back");
                }
                image = new Inspection(null, 0, null, null, RejectReason.UNREADABLE_SOURCE,
                        "reading failed: " + e.getClass().getSimpleName());
            } catch (IOException e) {
                // recorded and quarantined like any other bad input, so it has a result (the message of
                // the exception may hold the path, whose name may be a partner user id: left out, or cut
                // by FailureReport.safeMessage); a local file's passing error first leaves it for another try
                image = new Inspection(null, 0, null, null, RejectReason.UNREADABLE_SOURCE,
                        localFile(msg.getBody()) != null && passing(e) ? localReadFailed(localVersion(msg, sourceRef), e)
                                : "reading failed: " + e.getClass().getSimpleName());
            }
            exchange.setProperty(INSPECTION, image);
        }
        RejectReason reason = null;
        String detail = null;
        PartnerUser user = null;
        JsonNode metadata = null;
        try {
            user = users.resolve(sourceFile, msg.getHeader(InputHeaders.PARTNER_USER_ID, String.class),
                    msg.getHeader(InputHeaders.PARTNER_USER_ID_TYPE, String.class));
            metadata = metadata(msg.getHeader(InputHeaders.METADATA, String.class));
        } catch (InputRejectedException e) {
            reason = e.reason();
            detail = e.detail();
        }
        // the most specific cause wins: a broken sidecar, then the image itself, then the user id
        String sidecarError = msg.getHeader(InputHeaders.SIDECAR_ERROR, String.class);
        if (sidecarError != null) {
            reason = RejectReason.INVALID_SIDECAR;
            detail = sidecarError;
            // what a broken sidecar set, or the file name it may have meant to override, names nobody
            // the bundle can vouch for: the rejection is recorded without a partner user
            user = null;
        } else if (!image.accepted()) {
            reason = image.rejection();
            detail = image.detail();
        }

        if (again) {
            LedgerRecord own = ledger.findById(ledgerId).orElse(null);
            if (own != null && own.submittedAt() != null && !own.state().isFinal()) {
                // handed to the poller before the step failed (see unreadInFlight): nothing more to do
                resumeOrSkip(exchange, own, image, reason, detail);
                return;
            }
            if (own != null && own.state() == SubmissionState.REJECTED
                    && (own.reasonCode() != null || reason != null)) {
                // rejected before the step failed: the same rejection again (its result is stored once);
                // the reason is the recorded one, or this run's when the failure came before it was written
                throw own.reasonCode() != null
                        ? reject(exchange, ledgerId, sourceType, RejectReason.valueOf(own.reasonCode()),
                                own.errorMessage())
                        : reject(exchange, ledgerId, sourceType, reason, detail);
            }
        }
        LedgerRecord earlier = image.sha256() != null ? ledger.findUnreleased(sourceRef, image.sha256()).orElse(null)
                // rejected before its bytes were read: known by its reference and size
                : reason != null ? ledger.findUnreleasedUnread(sourceRef, image.size()).orElse(null) : null;
        if (earlier != null) {
            resumeOrSkip(exchange, earlier, image, reason, detail);
            return;
        }
        if (image.sha256() == null && reason != null) {
            LedgerRecord read = readAt(sourceRef, listedSize(msg, image));
            if (read != null && (read.state() == SubmissionState.RECEIVED || read.state() == SubmissionState.PRESIGNED
                    || read.state() == SubmissionState.UPLOADED)) {
                unreadInFlight(exchange, read, image, reason, detail);
                return;
            }
            if (read != null) {
                // submitted or ended, and its source could not move it yet: it keeps its outcome, and its
                // source only moves it (to done, or to failed when it ended so)
                resumeOrSkip(exchange, read, image, reason, detail);
                return;
            }
        }
        if (image.sha256() != null) {
            endReplaced(sourceType, sourceRef, image.sha256());
        }

        NewInput input = new NewInput(ledgerId, sourceType, sourceRef, sourceFile, image.sha256(), image.size(),
                image.contentType(), onboardingPartner, user == null ? null : user.id(),
                user == null ? null : user.type(), UUID.randomUUID().toString(), UUID.randomUUID().toString(),
                metadata == null ? null : metadata.toString());
        if (reason != null) {
            insert(input, SubmissionState.REJECTED, again);
            throw reject(exchange, ledgerId, sourceType, reason, detail);
        }
        // the row first, then the claim on its content: a claim always names a written row
        insert(input, SubmissionState.RECEIVED, again);
        claimContent(exchange, ledgerId, sourceType, image.sha256());
        if (inputsInHand != null) {
            inputsInHand.take(exchange, ledgerId);
        }
        exchange.setProperty(WorkItem.PROPERTY, new WorkItem(ledgerId, image.file(), image.copy(), image.contentType(),
                new CallContext(new TokenKey(onboardingPartner, user.id(), user.type()), input.partnerSessionId(),
                        input.sdkSessionId()), metadata, SubmissionState.RECEIVED, null, false));
    }

    /**
     * One submission per image content: an input whose bytes another row already holds (submitted
     * or on its way) is rejected as a duplicate. The claim is taken with {@code ktp.source.dedupe=none}
     * too, only not enforced, so switching to {@code content} later knows what was submitted.
     */
    private void claimContent(Exchange exchange, String ledgerId, String sourceType, String sha256) {
        LedgerRecord holder = ledger.claimContent(sha256, ledgerId).orElse(null);
        if (holder != null && replacedInputs != null && !holder.state().isFinal() && holder.submittedAt() == null) {
            // the holder's file may have been moved or renamed away while it waited (this may be that
            // file under its new name)
            ReplacedInputs.Gone found = replacedInputs.endIfGone(holder);
            if (found == ReplacedInputs.Gone.NOT_GONE && dedupeByContent && ("sftp".equals(holder.sourceType())
                    || "s3".equals(holder.sourceType()))) {
                // one look at its server or bucket, rather than turn this one away as its duplicate
                found = replacedInputs.endIfRemoteGone(holder);
            }
            switch (found) {
                // ended, or handed to the poller when already uploaded (it then holds on)
                case ENDED -> holder = ledger.claimContent(sha256, ledgerId).orElse(null);
                // a worker may still submit it from its copy, or give it back: known once it is done
                // (left with a pause meanwhile: a slow upload may hold it for minutes)
                case IN_HAND -> {
                    String why = "the same bytes are on their way from a file that left its folder (ledger "
                            + holder.id() + "); taken again later";
                    throw inputsInHand != null ? inputsInHand.heldElsewhere(holder.id(), why)
                            : new InputDeferredException(why, InputsInHand.HELD_PAUSE);
                }
                case NOT_GONE -> { }
            }
        }
        if (holder != null && dedupeByContent) {
            throw reject(exchange, ledgerId, sourceType, RejectReason.DUPLICATE_CONTENT, "same bytes as ledger "
                    + holder.id() + (holder.submissionId() == null ? "" : " (submission " + holder.submissionId() + ")"));
        }
    }

    /** Records the rejection of a written row and publishes its result; the exception returned fails the exchange. */
    private InputRejectedException reject(Exchange exchange, String ledgerId, String sourceType, RejectReason reason,
                                          String detail) {
        ledger.markEnded(ledgerId, SubmissionState.REJECTED, reason.name(), detail);
        LOG.warn("Input rejected: ledger {} source {} reason {} ({})", ledgerId, sourceType, reason, detail);
        publisher.publishLocal(ledger.findById(ledgerId).orElseThrow(), ResultStatus.REJECTED, reason.name(),
                reason.description() + ": " + detail);
        Settlement.recorded(exchange);
        return new InputRejectedException(reason, detail);
    }

    /** A first run inserts at once; a run again may find the row it wrote before the failure. */
    private void insert(NewInput input, SubmissionState state, boolean again) {
        if (again) {
            ledger.insertIfAbsent(input, state);
        } else {
            ledger.insert(input, state);
        }
    }

    /**
     * The same input (same source reference, same bytes) is back before its source let go of it:
     * the process stopped before its source could move it, or could not move it. Continue where
     * the ledger says it stopped, do nothing if it was already confirmed (its outcome is collected
     * as usual), or quarantine it again if it already has its REJECTED or FAILED result.
     */
    private void resumeOrSkip(Exchange exchange, LedgerRecord earlier, Inspection image, RejectReason reason,
                              String detail) {
        exchange.setProperty(WorkItem.LEDGER_ID, earlier.id());
        switch (earlier.state()) {
            case REJECTED, FAILED -> {
                if (earlier.resultStatus() == null) {
                    // ended, but its result was never stored (a stop or a lasting ledger error between the
                    // two writes): it gets it now, from what was recorded, or this run's own finding
                    endedWithoutResult(exchange, earlier, reason, detail);
                }
                LOG.info("Ledger {} already ended as {} ({}): quarantined again, no second result", earlier.id(),
                        earlier.state(), earlier.reasonCode());
                Settlement.recorded(exchange);
                throw new InputAlreadyEndedException(earlier.id(), earlier.reasonCode(), earlier.state().name(),
                        resultMessage(earlier));
            }
            case RECEIVED, PRESIGNED, UPLOADED -> {
                if (inputsInHand != null) {
                    // before anything is written for it: another instance may be submitting it
                    inputsInHand.take(exchange, earlier.id());
                    // and read again now that it is in hand: the worker that had it may have moved it on
                    // (confirmed, ended, presigned anew) and let go between the look above and the take
                    LedgerRecord current = ledger.findById(earlier.id()).orElse(earlier);
                    if (current.state() != earlier.state()) {
                        resumeOrSkip(exchange, current, image, reason, detail);
                        return;
                    }
                    earlier = current;
                }
                if (earlier.state() == SubmissionState.RECEIVED) {
                    // stopped between writing the row and claiming its content
                    claimContent(exchange, earlier.id(), earlier.sourceType(), earlier.sourceSha256());
                }
                LOG.info("Resuming ledger {} from state {}", earlier.id(), earlier.state());
                exchange.setProperty(WorkItem.PROPERTY, new WorkItem(earlier.id(), image.file(), image.copy(), image.contentType(),
                        new CallContext(new TokenKey(earlier.onboardingPartner(), earlier.partnerUserId(),
                                earlier.partnerUserIdType()), earlier.partnerSessionId(), earlier.sdkSessionId()),
                        metadata(earlier.confirmMetadata()), earlier.state(), earlier.submissionId(), true));
            }
            default -> LOG.info("Input already submitted as ledger {} (submission {}, {}): nothing to submit",
                    earlier.id(), earlier.submissionId(), earlier.state());
        }
    }

    /**
     * The newest input at {@code sourceRef} whose bytes were read, not let go by its source, whose
     * size is {@code size}, when known: the file met again whose bytes cannot be read now, on its
     * way to OneKYC, or submitted or ended and not moved yet (its move failed). Another size
     * is another version of the file (the input at the reference was replaced), which is left to
     * what ends replaced inputs.
     */
    private LedgerRecord readAt(String sourceRef, Long size) {
        return ledger.findUnreleasedReadAt(sourceRef).stream()
                .filter(r -> size == null || size.equals(r.sourceSize()))
                .max(java.util.Comparator.comparingLong(LedgerRecord::createdAt)).orElse(null);
    }

    /** The input's size as read or listed; null when neither says. */
    private static Long listedSize(org.apache.camel.Message msg, Inspection image) {
        return image.size() > 0 ? Long.valueOf(image.size()) : msg.getHeader(Exchange.FILE_LENGTH, Long.class);
    }

    /**
     * An input on its way (row {@code row}) is met again and now rejected before its bytes are read:
     * a smaller {@code ktp.source.max-size} after a restart, reads that fail now. It is that row's
     * outcome, not a second input's: a row of its own would give the file two results (the first
     * row ended later as gone, or confirmed). Before its upload it ends with this rejection; uploaded
     * (the bytes at OneKYC's storage, its confirm refused for now or in doubt), it is handed to the
     * poller, which confirms it without the image or collects its outcome, and its source lets go of
     * it as submitted, as for an uploaded input whose file was replaced or left (see ReplacedInputs).
     */
    private void unreadInFlight(Exchange exchange, LedgerRecord row, Inspection image, RejectReason reason,
                                String detail) {
        exchange.setProperty(WorkItem.LEDGER_ID, row.id());
        if (inputsInHand != null) {
            // another worker may be submitting it from its copy
            inputsInHand.take(exchange, row.id());
        }
        LedgerRecord current = ledger.findById(row.id()).orElse(row);
        switch (current.state()) {
            case RECEIVED, PRESIGNED -> throw reject(exchange, current.id(), current.sourceType(), reason, detail);
            case UPLOADED -> {
                long now = System.currentTimeMillis();
                ledger.markConfirmed(current.id(), now, now + reconfirmAfter.toMillis(), now + pollDeadline.toMillis());
                ledger.flush();
                LOG.warn("Ledger {} is uploaded but its source cannot be read now ({}): the poller confirms its"
                        + " submission {} and collects its outcome", current.id(), reason, current.submissionId());
            }
            // moved on meanwhile (confirmed, ended)
            default -> resumeOrSkip(exchange, current, image, reason, detail);
        }
    }

    /**
     * Other bytes at the reference of an input that waits for another attempt (an outage) or was
     * stopped on before its upload (see {@link ReplacedInputs}). Only where no other worker can have
     * that input in hand: one instance takes a reference once at a time (Camel's in-progress set by
     * path; the S3 source lists again only when the last listing is done), and a cluster's file drop
     * claims by path. A cluster's SFTP and S3 claims name the file's version: those are left to the
     * sweep.
     */
    private void endReplaced(String sourceType, String sourceRef, String sha256) {
        if (replacedInputs != null && (!clustered || "file".equals(sourceType))) {
            replacedInputs.endAt(sourceRef, sha256);
        }
    }

    /** Publishes the result of a row that ended REJECTED or FAILED without one (stored once at most). */
    private void endedWithoutResult(Exchange exchange, LedgerRecord earlier, RejectReason reason, String detail) {
        if (earlier.state() == SubmissionState.REJECTED) {
            RejectReason recorded = earlier.reasonCode() != null ? RejectReason.valueOf(earlier.reasonCode()) : reason;
            throw reject(exchange, earlier.id(), earlier.sourceType(),
                    recorded != null ? recorded : RejectReason.UNREADABLE_SOURCE,
                    earlier.reasonCode() != null ? earlier.errorMessage()
                            : recorded != null ? detail : "the reason was not recorded");
        }
        String code = earlier.reasonCode() != null ? earlier.reasonCode() : "INTERNAL_ERROR";
        String message = earlier.errorMessage() != null ? earlier.errorMessage() : "the failure was not recorded";
        publisher.publishLocal(earlier, ResultStatus.FAILED, code, message);
    }

    /** What an ended input's result says went wrong: a rejection's worded as {@link #reject} worded it. */
    private static String resultMessage(LedgerRecord earlier) {
        String recorded = earlier.errorMessage();
        if (recorded == null || earlier.state() != SubmissionState.REJECTED || earlier.reasonCode() == null) {
            return recorded;
        }
        try {
            return RejectReason.valueOf(earlier.reasonCode()).description() + ": " + recorded;
        } catch (IllegalArgumentException notOurs) {
            return recorded;
        }
    }

    private static final java.util.regex.Pattern SPOOL_COPY =
            java.util.regex.Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.img");

    /**
     * Deletes the spool copies a process that was killed left behind (KTP images: each is deleted
     * when its input's exchange ends, and every take gets a name of its own, so nothing else ever
     * would). Only for the one process that uses this spool folder, before its routes run: no
     * exchange has a copy yet. Only this bundle's own names ({@code <ledger id>.img}) are touched.
     *
     * @return how many were deleted
     */
    public int removeLeftoverSpoolCopies() throws IOException {
        if (!Files.isDirectory(spoolDir)) {
            return 0;
        }
        int removed = 0;
        try (var copies = Files.newDirectoryStream(spoolDir,
                p -> SPOOL_COPY.matcher(p.getFileName().toString()).matches() && Files.isRegularFile(p))) {
            for (Path copy : copies) {
                if (Files.deleteIfExists(copy)) {
                    removed++;
                }
            }
        }
        return removed;
    }

    /**
     * Every input is copied while it is inspected, in memory or to a spool file of its own
     * ({@link SpoolCopy}), and that copy is what gets uploaded: a file replaced in the drop folder
     * meanwhile cannot send other bytes than the ones hashed and recorded.
     */
    private Inspection inspect(Exchange exchange, String ledgerId) throws IOException {
        Object body = exchange.getMessage().getBody();
        Path local = localFile(body);
        InputStream in;
        long expectedSize = -1;
        if (local != null) {
            BasicFileAttributes attributes = Files.readAttributes(local, BasicFileAttributes.class,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS);
            if (attributes.isSymbolicLink()) {
                // a link can point anywhere on the host: never follow it
                return new Inspection(local, 0, null, null, RejectReason.SYMBOLIC_LINK, "symbolic link");
            }
            if (!attributes.isRegularFile()) {
                // a named pipe's open waits for a writer, for ever if none comes, and the worker with it
                return new Inspection(local, 0, null, null, RejectReason.NOT_REGULAR_FILE,
                        attributes.isOther() ? "a named pipe, socket or device" : "a folder");
            }
            boolean dropped = "file".equals(exchange.getMessage().getHeader(InputHeaders.SOURCE_TYPE, String.class));
            if (dropped) {
                stillAsListed(exchange.getMessage(), attributes);
            }
            expectedSize = attributes.size();
            Inspection tooLarge = inspector.checkSize(local, attributes.size());
            if (tooLarge != null) {
                return tooLarge;
            }
            if (dropped) {
                // from the attributes just checked: a change since that look shows at the end of the read
                SourceStamp.take(exchange, local, attributes);
            }
            // a link swapped in after the check above is not followed either (the open fails)
            in = opener.open(local);
        } else {
            // a remote file over the limit by its listing is not read: SFTP does not download it
            // (routes/ingest-sftp.yaml), S3 states its object's size (S3Source.describe)
            Long listed = exchange.getMessage().getHeader(Exchange.FILE_LENGTH, Long.class);
            Inspection tooLarge = listed == null ? null : inspector.checkSize(null, listed);
            if (tooLarge != null) {
                return tooLarge;
            }
            expectedSize = listed == null ? -1 : listed;
            InputStream remote = exchange.getMessage().getBody(InputStream.class);
            in = remote == null ? null : new RemoteStream(remote);
        }
        if (in == null) {
            return new Inspection(null, 0, null, null, RejectReason.UNREADABLE_SOURCE, "the message has no readable body");
        }
        SpoolCopy copy;
        try {
            copy = SpoolCopy.open(spoolMemory, spoolDir.resolve(ledgerId + ".img"), expectedSize);
        } catch (ImageInspector.SpoolFailure e) {
            // the bundle's own disk: the input is given back without a result, whatever its close says
            try {
                in.close();
            } catch (IOException | RuntimeException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                try {
                    copy.release();
                } catch (IOException e) {
                    LOG.warn("Could not delete spool file of ledger {}: {}", ledgerId, e.getMessage());
                }
            }
        });
        try (in) {
            Inspection inspection = inspector.inspectStream(in, copy);
            SourceStamp.read(exchange, inspection.sha256());
            if (SourceStamp.changedWhileRead(exchange)) {
                // written to while it was read (a copy over it that began just then): the bytes read may
                // be part of one version and part of another, whatever they were found to be (a part is
                // CORRUPT_IMAGE or EMPTY_FILE, and the whole file would get a second result)
                throw new InputDeferredException("its file changed while it was read: it may still be being"
                        + " written; taken again once it has stopped changing", CHANGING_PAUSE);
            }
            return inspection;
        }
    }

    /**
     * A dropped file is claimed by the scan once it has stopped changing, but read only when a worker
     * comes to it, which can be minutes later while OneKYC is slow: a file copied over in place
     * meanwhile (an SMB copy, {@code cp} onto the same name) would be read part-way and get a result
     * of its own besides the whole file's. Unless it is still as the scan claimed it (its size and
     * time, {@code CamelFileLength} / {@code CamelFileLastModified}) and the read lock's minimum age
     * by the folder's clock, it is given back with nothing recorded, as a file still being written:
     * left in the folder and taken again once it has stopped changing (the listing holds it back
     * until then).
     */
    private void stillAsListed(org.apache.camel.Message msg, BasicFileAttributes attributes) {
        Long listedSize = msg.getHeader(Exchange.FILE_LENGTH, Long.class);
        Long listedModified = msg.getHeader(Exchange.FILE_LAST_MODIFIED, Long.class);
        long modified = attributes.lastModifiedTime().toMillis();
        if (listedSize != null && listedSize != attributes.size()
                || listedModified != null && listedModified != modified) {
            throw new InputDeferredException("its file changed after it was listed: it may still be being written;"
                    + " taken again once it has stopped changing", CHANGING_PAUSE);
        }
        DropFolderClock clock = dropFolderClock;
        if (clock != null && !clock.oldEnough(modified)) {
            throw new InputDeferredException("its file changed less than ktp.source.read-lock-min-age ago: it may"
                    + " still be being written; taken again once it has stopped changing", CHANGING_PAUSE);
        }
    }

    /**
     * A local file the bundle may not read (permission denied) or that is gone is rejected at once.
     * Any other read error (a network mount's I/O error or stale handle) is taken for a passing one,
     * as for its sidecar ({@link FileSidecar}): the file stays in the drop folder with nothing
     * recorded and is taken again, until {@link FileSidecar#READ_TRIES} reads in a row failed over
     * at least {@link #localReadWindow}.
     */
    private static boolean passing(IOException e) {
        return !(e instanceof java.nio.file.AccessDeniedException) && !(e instanceof java.nio.file.NoSuchFileException);
    }

    /**
     * A local file's failed reads are counted by its path with its size and time as listed: a file
     * another instance then took, or that was removed, leaves its count behind, and a new file of
     * that name (a scanner reusing names) starts its own instead of finishing that one's.
     */
    private static String localVersion(org.apache.camel.Message msg, String sourceRef) {
        return sourceRef + "#" + msg.getHeader(Exchange.FILE_LENGTH, Long.class) + "@"
                + msg.getHeader(Exchange.FILE_LAST_MODIFIED, Long.class);
    }

    /**
     * Defers the input after a passing read error of its local file, or, once that came
     * {@link FileSidecar#READ_TRIES} times in a row over the window, returns why it is rejected.
     */
    private String localReadFailed(String sourceRef, IOException e) {
        String why = "reading failed (" + FailureReport.safeMessage(e);
        int inARow = failedLocalReads.failed(sourceRef);
        if (inARow == 0) {
            return why + (localReadWindow.toMillis() > 0 ? ", at least " + FileSidecar.READ_TRIES
                    + " times in a row, over at least " + localReadWindow.toSeconds() + " s)"
                    : ", " + FileSidecar.READ_TRIES + " times in a row)");
        }
        // the drop folder's listing leaves the file out for the pause (PausedFiles), so neither the
        // next scan, which comes at once while files are found, nor a worker waiting it out is spent on it
        throw new InputDeferredException(why + ")", FileSidecar.READ_RETRY_PAUSE.multipliedBy(inARow));
    }

    private static void pause(java.time.Duration pause) {
        try {
            Thread.sleep(pause.toMillis());
        } catch (InterruptedException e) {
            // stopping: the input goes back at once
            Thread.currentThread().interrupt();
        }
    }

    private static Path localFile(Object body) {
        if (body instanceof GenericFile<?> gf && gf.getFile() instanceof File f) {
            return f.toPath();
        }
        if (body instanceof File f) {
            return f.toPath();
        }
        if (body instanceof Path p) {
            return p;
        }
        return null;
    }

    private JsonNode metadata(String raw) {
        if (raw == null || raw.isBlank()) {
            return null;
        }
        try {
            JsonNode node = json.readTree(raw);
            if (node != null && node.isObject()) {
                return node;
            }
        } catch (IOException e) {
            // reported below
        }
        throw new InputRejectedException(RejectReason.INVALID_SIDECAR, "metadata is not a JSON object");
    }

    private static String required(String value, String header) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("The source did not set the " + header + " header");
        }
        return value;
    }
}

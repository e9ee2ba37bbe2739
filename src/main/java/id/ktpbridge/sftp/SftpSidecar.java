package id.ktpbridge.sftp;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.SftpATTRS;
import com.jcraft.jsch.SftpException;
import id.ktpbridge.Lru;
import id.ktpbridge.ingest.FailureReport;
import id.ktpbridge.ingest.FileSidecar;
import id.ktpbridge.ingest.SettledInPlace;
import id.ktpbridge.ingest.InputHeaders;
import id.ktpbridge.ingest.PassingFailures;
import id.ktpbridge.ingest.PausedFiles;
import id.ktpbridge.ingest.PlacedName;
import id.ktpbridge.ingest.PartnerUserResolver;
import id.ktpbridge.ingest.Settlement;
import id.ktpbridge.ingest.SourceMoveRefusals;
import id.ktpbridge.ingest.SourceRelease;
import id.ktpbridge.ingest.SourceReplacedException;
import id.ktpbridge.submit.Intake;
import id.ktpbridge.submit.WorkItem;
import org.apache.camel.Exchange;
import org.apache.camel.component.file.GenericFile;
import org.apache.camel.support.SynchronizationAdapter;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bundle's own SFTP session: the quarantine of failed images ({@link #quarantine}) and the
 * optional {@code <base>.json} next to an image on the SFTP server, read with the same rules
 * as a dropped file's sidecar ({@link FileSidecar#apply}). It is looked up by name for each image
 * (one {@code lstat}, plus one read when it exists; a link is never followed, its image rejected)
 * over a single SFTP session of its own, and it follows its image: to the done folder (or deleted)
 * after a submission, to the failed folder otherwise (one that stays behind is not applied to a
 * later image of its name, see {@link #leftBehind}). An image is never submitted without its sidecar being known: if the server cannot
 * say whether one exists, or cannot hand it over, the image waits for a later poll (see {@link
 * #sidecarFailed}) rather than go under a partner user the sidecar may override.
 * <p>
 * An input given back to the server for a later attempt (deferred, see {@link Settlement}) is left
 * out of the listings for the pause its deferral names, or {@link #DEFERRAL_PAUSE} (see {@link
 * #paused}): the consumers list again at once while listings find files, and it would be taken,
 * downloaded and given back in a tight loop for as long as its cause lasts (its ledger row in
 * another instance's hand, say).
 */
public class SftpSidecar extends ServiceSupport {

    private static final Logger LOG = LoggerFactory.getLogger(SftpSidecar.class);
    /** Looks at one image's sidecar that may fail in a row before the image is rejected: as in the drop folder. */
    static final int SIDECAR_TRIES = FileSidecar.READ_TRIES;
    /** The wait before an image whose sidecar failed goes back, times the failures in a row. */
    static final java.time.Duration SIDECAR_RETRY_PAUSE = FileSidecar.READ_RETRY_PAUSE;
    /** The longest wait of an image whose look-ups cannot reach the server (doubled from {@link #SIDECAR_RETRY_PAUSE}). */
    static final java.time.Duration MAX_UNREACHABLE_PAUSE = java.time.Duration.ofMinutes(1);
    /** How long a deferred input that names no pause of its own is left out of the listings: as a failed download. */
    static final java.time.Duration DEFERRAL_PAUSE = java.time.Duration.ofMillis(UnreadableFiles.FAILED_PAUSE_MILLIS);
    /**
     * How long a file found changed after its listing is left out of the listings (by the version
     * listed): its new version waits for the read lock's minimum age anyway.
     */
    static final java.time.Duration CHANGING_PAUSE = SIDECAR_RETRY_PAUSE;
    /** How long one call on the sidecar session may take before the session is closed under it (see {@link #limited}). */
    static final java.time.Duration CALL_LIMIT = java.time.Duration.ofSeconds(30);
    /** Closes the sessions of calls that take too long (one daemon thread for all). */
    private static final java.util.concurrent.ScheduledThreadPoolExecutor WATCHDOG = watchdog();
    /** Sidecars remembered as left behind by their image: far more than a server refusing moves would leave. */
    static final int MAX_LEFT_BEHIND = 10_000;
    /** Exchange property: whether {@link #replaced} found the remote file replaced. */
    private static final String REPLACED = "KtpSftpFileReplaced";
    /** Exchange property: the {@link Stamp} of the input's file. */
    private static final String STAMP = "KtpSftpFileStamp";
    /** Exchange properties: whether the image goes in beside a file of its name in the done / failed folder. */
    private static final String DONE_ASIDE = "KtpSftpDoneAside";
    private static final String FAILED_ASIDE = "KtpSftpFailedAside";
    /** Exchange property: the path of the image's sidecar from the source folder, when it has one. */
    private static final String SIDECAR = "KtpSftpSidecar";

    private final FileSidecar rules;
    private final SftpSettings settings;
    private final FailureReport reports;
    private final SettledInPlace settled;
    /** Images whose sidecar look-ups the server failed in a row, by the sidecar's path (see {@link #readWindow}). */
    private volatile PassingFailures sidecarFailures = new PassingFailures(SIDECAR_TRIES,
            Intake.DEFAULT_BROKEN_READ_WINDOW, java.time.Clock.systemUTC());
    private volatile java.time.Duration readWindow = Intake.DEFAULT_BROKEN_READ_WINDOW;
    /** Images whose look-ups could not reach the server in a row, by the image's path: only for their pauses. */
    private final PassingFailures unreachable = new PassingFailures(Integer.MAX_VALUE);
    /** Inputs given back for a later attempt, left out of the listings meanwhile (see {@link #paused}). */
    private final PausedFiles paused = PausedFiles.byVersion();
    /**
     * Quarantines cut off by a lost connection, by ledger id: tried again by later polls, and after
     * {@link SourceMoveRefusals#MAX_CUT_OFF_MOVES} in a row left in place as a refused one is.
     */
    private final PassingFailures cutOffQuarantines = new PassingFailures(SourceMoveRefusals.MAX_CUT_OFF_MOVES + 1);
    /**
     * Sidecars that stayed in the source folder when their image left, by path (see {@link
     * #leftBehind}). In memory, and bounded: after a restart, or past the bound, such a sidecar is
     * applied to the next image of its name, as before.
     */
    private final java.util.Map<String, LeftBehind> leftBehind = Lru.map(MAX_LEFT_BEHIND);
    private ChannelSftp channel;
    /** The session of {@link #channel} (or of the one being opened), for the watchdog of {@link #limited}. */
    private final java.util.concurrent.atomic.AtomicReference<com.jcraft.jsch.Session> session =
            new java.util.concurrent.atomic.AtomicReference<>();
    /** How long one call on the session may take: as the gone check's ({@link SftpGoneCheck}). */
    private volatile java.time.Duration callLimit = CALL_LIMIT;

    /**
     * @param settings null when the SFTP source is disabled: then {@link #read} does nothing
     * @param settled  where a failed image the server refused to move is remembered, so it is not taken again
     */
    public SftpSidecar(FileSidecar rules, SftpSettings settings, FailureReport reports, SettledInPlace settled) {
        this.rules = rules;
        this.settings = settings;
        this.reports = reports;
        this.settled = settled;
    }

    /**
     * Camel bean method, run for a failed exchange before the consumer lets go of the file: moves
     * the image to the failed folder with a {@code <name>.error.json} next to it, unless
     * {@link Settlement} says it stays on the server for the next attempt (the bundle was stopping
     * before its outcome was recorded). A name already in the failed folder is kept: the newcomer
     * goes in under {@code <ledger id>-<name>}. If the server refuses, the image stays in place. A
     * move the server made before the connection went (only its reply lost) is found made, the
     * image gone from the inbox and in the failed folder, and the input let go of as moved.
     */
    public void quarantine(Exchange exchange) {
        String path = exchange.getMessage().getHeader(Exchange.FILE_PATH, String.class);
        String relative = exchange.getMessage().getHeader(Exchange.FILE_NAME, String.class);
        if (settings == null || path == null || relative == null) {
            return;
        }
        String ledgerId = exchange.getProperty(WorkItem.LEDGER_ID, String.class);
        if (replaced(exchange)) {
            // the file there now was never downloaded: it is not this input's to quarantine
            SourceRelease.replacedWhileProcessed(exchange, "on the SFTP server");
            return;
        }
        if (Settlement.staysInSource(exchange)) {
            // before the consumer lets go of its claim: the next listing, at once while listings find
            // files, does not take it before then
            java.time.Duration pause = Settlement.pause(exchange);
            if (pause == null) {
                pause = DEFERRAL_PAUSE;
            }
            paused.pause(exchange, pause);
            LOG.warn("Ledger {}: no outcome recorded yet; the SFTP file stays on the server and is"
                    + " taken again in {} s", ledgerId == null ? "-" : ledgerId, Math.max(1, pause.toSeconds()));
            return;
        }
        String dir = settings.remoteDir(settings.failedDir());
        byte[] report = reports.report(exchange).getBytes(StandardCharsets.UTF_8);
        String target = SftpSettings.normalize(dir + "/" + placed(exchange, FAILED_ASIDE, settings.failedDir(), relative));
        Long listed = exchange.getMessage().getHeader(Exchange.FILE_LAST_MODIFIED, Long.class);
        try {
            Missing missing = call(c -> {
                if (SftpConnector.lstat(c, path) == null) {
                    // moved by a try whose reply was lost, or not there at all (removed, or its folder a
                    // mount that is away): no failed folder is made for it, which would put an inbox on the
                    // server's own disk in the mount's place, where a cut-off delete would then be taken as made
                    return moved(c, path, target) ? Missing.MOVED
                            : deleted(c, path, listed) ? Missing.REMOVED : Missing.FOLDER_AWAY;
                }
                int slash = target.lastIndexOf('/');
                if (slash > 0) {
                    SftpStartupCheck.mkdirs(c, target.substring(0, slash), SftpSettings.FAILED_DIR, settings, false);
                }
                c.put(new ByteArrayInputStream(report), SftpConnector.literal(target + ".error.json"));
                try {
                    c.rename(SftpConnector.literal(path), SftpConnector.literal(target));
                } catch (SftpException e) {
                    // moved meanwhile by a try whose reply was lost (some servers answer a missing
                    // path with a generic failure): the file is there already
                    if (e.id != ChannelSftp.SSH_FX_NO_SUCH_FILE && e.id != ChannelSftp.SSH_FX_FAILURE
                            || !moved(c, path, target)) {
                        throw e;
                    }
                }
                return Missing.MOVED;
            });
            if (missing == Missing.REMOVED) {
                LOG.warn("Ledger {}: the failed input's file was removed from its folder on {} before its move;"
                        + " let go of", ledgerId, settings.server());
            } else if (missing == Missing.FOLDER_AWAY) {
                // not remembered as refused: back with its folder, the file is taken again, found ended, and moved
                LOG.warn("Ledger {}: the failed input's folder on {} is not there now (a mount that is away?); a later"
                        + " poll moves its file", ledgerId, settings.server());
                return;
            }
            SourceRelease.letGo(exchange);
            if (ledgerId != null) {
                cutOffQuarantines.passed(ledgerId);
            }
        } catch (Exception e) {
            if (ledgerId != null && SourceMoveRefusals.connectionLost(e) && !(e instanceof NoAnswer)
                    && movedAfterAll(path, target)) {
                // the second try cut off too, the first made all the same: a later poll would never see
                // the file, and the input is let go of as moved, so the same file dropped again is new
                LOG.warn("Ledger {}: the connection to {} went while the failed input was moved to {} ({}), but the"
                        + " move was made", ledgerId, settings.server(), dir, SftpConnector.safe(e));
                SourceRelease.letGo(exchange);
                cutOffQuarantines.passed(ledgerId);
                return;
            }
            if (ledgerId != null && SourceMoveRefusals.connectionLost(e) && cutOffQuarantines.failed(ledgerId) > 0) {
                // not a refusal: the server's connection went (a restart, a network blip). Camel gives the
                // claim back, so the next listing takes the file again, finds its input ended, and
                // quarantines it then, with the result already recorded (no second one)
                LOG.warn("Ledger {}: the connection to {} went while the failed input was moved to {} ({}); a later"
                        + " poll moves it", ledgerId, settings.server(), dir, SftpConnector.safe(e));
                return;
            }
            settled.remember(exchange);
            LOG.error("Ledger {}: the failed input could not be moved to {} on {}: {}; it stays in place and is not"
                    + " taken again while the bundle runs", ledgerId, dir, settings.server(), SftpConnector.safe(e));
        }
    }

    /** What a failed input's move found at its file's place. */
    private enum Missing { MOVED, REMOVED, FOLDER_AWAY }

    /**
     * Whether the listed {@code file} was given back a moment ago with a pause that has not passed
     * (see {@link #quarantine}): by its path, size and time, so a file replaced meanwhile is taken.
     * Asked by the listing filter ({@link SftpFutureDated}).
     */
    boolean paused(GenericFile<?> file) {
        return paused.holds(file);
    }

    /**
     * A sidecar whose look-ups the server keeps failing rejects its image only once they have
     * failed {@link #SIDECAR_TRIES} times in a row over at least this long
     * ({@code ktp.source.sftp.broken-read-window}): as the file drop's sidecars.
     */
    public void readWindow(java.time.Duration window) {
        this.readWindow = window;
        this.sidecarFailures = new PassingFailures(SIDECAR_TRIES, window, java.time.Clock.systemUTC());
    }

    /**
     * Camel bean method, the consumer's {@code move} expression: the image's path in the done folder
     * (from the source folder), beside a file of the same name already there as
     * {@code <ledger id>-<name>}: Camel's move would delete that file first.
     */
    public String doneTarget(Exchange exchange) {
        String relative = exchange.getMessage().getHeader(Exchange.FILE_NAME, String.class);
        return settings.doneDir() + "/" + placed(exchange, DONE_ASIDE, settings.doneDir(), relative);
    }

    /**
     * For {@link SourceMoveRefusals}: whether the consumer's move of a submitted image to the done
     * folder (or its delete), cut off by a lost connection, was made all the same, its reply lost:
     * the file is gone from the source folder and (when moved) is in the done folder under the name
     * {@link #doneTarget} gave it, or (when deleted) its folder is there (see {@link #deleted}).
     * Asked over this session, within its time limit; false when the server cannot say.
     */
    public boolean moveMade(Exchange exchange) {
        String path = exchange.getMessage().getHeader(Exchange.FILE_PATH, String.class);
        String relative = exchange.getMessage().getHeader(Exchange.FILE_NAME, String.class);
        if (settings == null || path == null || relative == null) {
            return false;
        }
        // decided by doneTarget already (shared with the exchange's copies since stamp): no call to the server
        String target = settings.deleteAfterSuccess() ? null : SftpSettings.normalize(settings.remoteDir(
                settings.doneDir()) + "/" + placed(exchange, DONE_ASIDE, settings.doneDir(), relative));
        Long listed = exchange.getMessage().getHeader(Exchange.FILE_LAST_MODIFIED, Long.class);
        try {
            return call(c -> target == null ? deleted(c, path, listed) : moved(c, path, target));
        } catch (SftpException | IOException | RuntimeException e) {
            LOG.debug("Could not ask the SFTP server whether a move was made: {}", SftpConnector.safe(e));
            return false;
        }
    }

    /** {@link #moved}, asked on a session of its own after a call cut off; false when the server cannot say. */
    private boolean movedAfterAll(String path, String target) {
        try {
            return call(c -> moved(c, path, target));
        } catch (SftpException | IOException | RuntimeException e) {
            LOG.debug("Could not ask the SFTP server whether a move was made: {}", SftpConnector.safe(e));
            return false;
        }
    }

    /**
     * Whether {@code path} was moved to {@code target}, a name free there when it was chosen (see
     * {@link #placed}): the file is gone from the one and something is at the other.
     */
    private static boolean moved(ChannelSftp c, String path, String target) throws SftpException {
        return SftpConnector.lstat(c, path) == null && SftpConnector.lstat(c, target) != null;
    }

    /**
     * Whether {@code path} was deleted: it is not there, while its folder is there and lists an
     * entry, or lists none but was changed no earlier than the file ({@code listedMillis}, as the
     * listing dated it; a delete changes its folder). A server answers "no such file" for each file
     * of a folder that is not there, and a mount on it that is away may leave an empty folder in its
     * place, older than the files on the mount: then the file may be back with the mount, and a later
     * poll deletes it.
     */
    private static boolean deleted(ChannelSftp c, String path, Long listedMillis) throws SftpException {
        if (SftpConnector.lstat(c, path) != null) {
            return false;
        }
        String folder = SftpConnector.folderOf(path);
        SftpATTRS there = SftpConnector.stat(c, folder);
        return there != null && there.isDir() && (SftpConnector.listsAnEntry(c, folder) || listedMillis != null
                && Integer.toUnsignedLong(there.getMTime()) >= listedMillis / 1000);
    }

    /**
     * {@code relative} (the image's or its sidecar's path from the source folder) as it goes into the
     * folder {@code dirSetting}: under its own name, or as {@code <ledger id>-<name>} when the image's
     * name or its sidecar's is taken there (a {@code u1.jpg} after a {@code u1.png}: the same
     * sidecar name). Decided once per input and folder, so image and sidecar go in alike.
     */
    private String placed(Exchange exchange, String property, String dirSetting, String relative) {
        String image = exchange.getMessage().getHeader(Exchange.FILE_NAME, String.class);
        // Camel deletes the done name before its move and hands it to JSch as it is, which reads '*'
        // and '?' as wildcards: such a name would match (and delete) other files there, and the move
        // fail. An image named so goes in as <ledger id>-<name with '_' for them>, its sidecar alike
        boolean wild = image != null && wild(image.substring(image.lastIndexOf('/') + 1));
        // a name too long for the server's file system (255 bytes; in the failed folder with its
        // report's .error.json) goes in aside too, cut to fit: the ledger id keeps it apart
        int max = PlacedName.maxName(FAILED_ASIDE.equals(property));
        String sidecar = exchange.getProperty(SIDECAR, String.class);
        boolean tooLong = image != null && PlacedName.tooLong(image.substring(image.lastIndexOf('/') + 1), max)
                || sidecar != null && PlacedName.tooLong(sidecar.substring(sidecar.lastIndexOf('/') + 1), max);
        Boolean aside = wild || tooLong ? Boolean.TRUE : PlacedName.decided(exchange, property);
        if (aside == null) {
            String dir = settings.remoteDir(dirSetting) + "/";
            try {
                // lstat: a link of that name (even one leading nowhere) takes the name too
                aside = call(c -> SftpConnector.lstat(c, SftpSettings.normalize(dir + image)) != null
                        || sidecar != null && SftpConnector.lstat(c, SftpSettings.normalize(dir + sidecar)) != null);
            } catch (SftpException | IOException | RuntimeException e) {
                // unknown: beside, so that a file of that name, if there is one, is not deleted
                aside = true;
            }
            PlacedName.decide(exchange, property, aside);
        }
        if (!aside) {
            return relative;
        }
        int slash = relative.lastIndexOf('/');
        String name = relative.substring(slash + 1);
        return relative.substring(0, slash + 1) + PlacedName.fitted(Settlement.asideName(exchange,
                wild ? name.replaceAll("[*?\\\\]", "_") : name), max);
    }

    /** Whether JSch would read the name as a pattern, or drop a character of it. */
    private static boolean wild(String name) {
        return SftpConnector.readAsPattern(name) || name.indexOf('\\') >= 0;
    }

    /**
     * Camel bean method, once an SFTP input is submitted: a file replaced under the same name on the
     * server meanwhile is not moved to the done folder (or deleted) with it. The input is let go of,
     * and the exchange ends failed, which leaves the file in place for its own turn (as
     * {@code SourceStamp} does for the file drop).
     */
    public void leaveReplaced(Exchange exchange) {
        if (replaced(exchange)) {
            // quarantine, run for the failed exchange, says so in the log
            SourceRelease.letGo(exchange);
            throw new SourceReplacedException(exchange.getProperty(WorkItem.LEDGER_ID, String.class));
        }
    }

    /**
     * Whether the file now at the input's remote path is not the one downloaded: another size or
     * modification time (the server's, in whole seconds) than just after the download, or a download
     * of another size. A missing file is not, and neither is one the server cannot be asked about
     * (then nothing changes from before). Asked once per exchange.
     */
    boolean replaced(Exchange exchange) {
        Boolean known = exchange.getProperty(REPLACED, Boolean.class);
        if (known != null) {
            return known;
        }
        String path = exchange.getMessage().getHeader(Exchange.FILE_PATH, String.class);
        Stamp stamp = exchange.getProperty(STAMP, Stamp.class);
        boolean replaced = false;
        if (settings != null && path != null && stamp != null) {
            // downloaded bytes of another size than the file had just after: replaced in between
            String local = exchange.getMessage().getHeader(Exchange.FILE_LOCAL_WORK_PATH, String.class);
            try {
                replaced = local != null && Files.size(Path.of(local)) != stamp.size();
            } catch (IOException e) {
                // the local copy is gone (delivered, cleaned up): the server's file decides
            }
            try {
                SftpATTRS now = call(c -> SftpConnector.lstat(c, path));
                replaced |= now != null && !now.isDir()
                        && (now.getSize() != stamp.size() || now.getMTime() != stamp.modifiedSeconds());
            } catch (SftpException | IOException | RuntimeException e) {
                LOG.debug("Could not ask the SFTP server about an input's file: {}", SftpConnector.safe(e));
            }
        }
        exchange.setProperty(REPLACED, replaced);
        return replaced;
    }

    /** Sets the modification time of a file on the server (whole seconds, as SFTP keeps it). */
    void setModified(String path, long millis) throws SftpException, IOException {
        if (settings == null) {
            throw new IllegalStateException("the SFTP source is off");
        }
        call(c -> {
            c.setMtime(SftpConnector.literal(path), (int) (millis / 1000));
            return null;
        });
    }

    /** The image file on the server just after its download: size and modification time (seconds). */
    private record Stamp(long size, int modifiedSeconds) {
    }

    /**
     * Camel bean method, right after the download: what the image is on the server now, so that
     * {@link #replaced} can tell at the end whether it was replaced meanwhile (the consumer's own
     * size and time are from its listing). A file that is no longer what was listed waits, before
     * anything is recorded (see {@link #stillChanging}).
     */
    public void stamp(Exchange exchange) {
        String imagePath = exchange.getMessage().getHeader(Exchange.FILE_PATH, String.class);
        if (settings == null || imagePath == null) {
            return;
        }
        // before the exchange is copied: the sidecar's move (FollowImage) and the look whether a move
        // whose reply was lost was made (moveMade) see the names the image went under
        PlacedName.shareDecisions(exchange);
        try {
            // the file itself, as it is listed and moved: a link's own size and time
            SftpATTRS image = lookUp(c -> SftpConnector.lstat(c, imagePath));
            if (image != null) {
                exchange.setProperty(STAMP, new Stamp(image.getSize(), image.getMTime()));
                if (changedSinceListed(exchange, image)) {
                    stillChanging(exchange);
                }
            }
        } catch (Unreached e) {
            // without the stamp a file replaced while its input is submitted would be moved away
            // unread; its sidecar could not be looked up either (read skips it)
            unreachable(exchange, imagePath, e);
        } catch (SftpException | IOException | RuntimeException e) {
            LOG.debug("Could not ask the SFTP server about an input's file: {}", SftpConnector.safe(e));
        }
    }

    /**
     * Whether the file is no longer the one listed: the server gives it another size or time than
     * the listing did (the consumer's {@code CamelFileLength} / {@code CamelFileLastModified}), or
     * the download came out of another size. A link is not compared: the listing of a server that
     * follows links gives its target's attributes, which its {@code lstat} never would.
     */
    private static boolean changedSinceListed(Exchange exchange, SftpATTRS now) {
        if (now.isLink() || now.isDir()) {
            return false;
        }
        Long listedSize = exchange.getMessage().getHeader(Exchange.FILE_LENGTH, Long.class);
        Long listedModified = exchange.getMessage().getHeader(Exchange.FILE_LAST_MODIFIED, Long.class);
        // as the consumer makes the header of the listing's whole seconds
        boolean changed = listedSize != null && listedSize != now.getSize()
                || listedModified != null && listedModified != now.getMTime() * 1000L;
        String local = exchange.getMessage().getHeader(Exchange.FILE_LOCAL_WORK_PATH, String.class);
        if (!changed && local != null && listedSize != null) {
            try {
                changed = Files.size(Path.of(local)) != listedSize;
            } catch (IOException e) {
                // no local copy to compare: the server's answer stands
            }
        }
        return changed;
    }

    /**
     * The file changed after it was listed (an upload that stalled past the minimum age and went on,
     * a file created empty and written a moment later): what was downloaded may be part of it. The
     * input is given back before it is inspected, with nothing recorded, and the file is taken again
     * once the listing has seen it settle; inspected, the part would get a result of its own
     * (CORRUPT_IMAGE, EMPTY_FILE) and the whole file a second one.
     */
    private void stillChanging(Exchange exchange) {
        LOG.warn("A file on the SFTP server changed after it was listed (still being uploaded?); it is taken again"
                + " once it has stopped changing");
        exchange.getMessage().setHeader(InputHeaders.NOT_NOW, "its file on the SFTP server changed after it was"
                + " listed: it may still be being uploaded");
        exchange.getMessage().setHeader(InputHeaders.NOT_NOW_PAUSE, CHANGING_PAUSE.toMillis());
        // not "replaced while processed": nothing was, and the quarantine gives it back with its pause
        exchange.setProperty(REPLACED, false);
    }

    /** Camel bean method: reads the sidecar of the remote image in the exchange, if there is one. */
    public void read(Exchange exchange) {
        String imagePath = exchange.getMessage().getHeader(Exchange.FILE_PATH, String.class);
        String relativeName = exchange.getMessage().getHeader(Exchange.FILE_NAME, String.class);
        if (settings == null || imagePath == null || relativeName == null) {
            return;
        }
        if (exchange.getMessage().getHeader(InputHeaders.NOT_NOW) != null) {
            return; // stamp could not reach the server, or found the file changed: the image waits
        }
        String sidecarPath = sidecarOf(imagePath);
        String sidecarRelative = sidecarOf(relativeName);
        SftpATTRS attrs;
        try {
            // not followed: a link can point anywhere on the server (another partner user's sidecar, say)
            attrs = lookUp(c -> SftpConnector.lstat(c, sidecarPath));
        } catch (Unreached e) {
            unreachable(exchange, imagePath, e);
            return;
        } catch (SftpException | IOException | RuntimeException e) {
            LOG.warn("Could not look up a sidecar on {}: {}", settings.server(), SftpConnector.safe(e));
            sidecarFailed(exchange, sidecarPath, e, "the SFTP server could not say whether the image has a sidecar: ");
            return;
        }
        unreachable.passed(imagePath);
        if (attrs == null || attrs.isDir()) {
            sidecarFailures.passed(sidecarPath);
            return;
        }
        if (leftBehind(sidecarPath, attrs)) {
            sidecarFailures.passed(sidecarPath);
            return;
        }
        exchange.setProperty(SIDECAR, sidecarRelative);
        exchange.getExchangeExtension().addOnCompletion(new FollowImage(sidecarPath, sidecarRelative,
                attrs.getSize(), attrs.getMTime()));
        if (attrs.isLink()) {
            exchange.getMessage().setHeader(InputHeaders.SIDECAR_ERROR, FileSidecar.SYMBOLIC_LINK);
            return;
        }
        if (attrs.getSize() > FileSidecar.MAX_SIDECAR_BYTES) {
            exchange.getMessage().setHeader(InputHeaders.SIDECAR_ERROR, FileSidecar.TOO_LARGE);
            return;
        }
        String text;
        try {
            text = lookUp(c -> readText(c, sidecarPath));
        } catch (Unreached e) {
            unreachable(exchange, imagePath, e);
            return;
        } catch (SftpException | IOException | RuntimeException e) {
            LOG.warn("Could not read a sidecar on {}: {}", settings.server(), SftpConnector.safe(e));
            sidecarFailed(exchange, sidecarPath, e, "the sidecar could not be read from the SFTP server: ");
            return;
        }
        sidecarFailures.passed(sidecarPath);
        if (text == null) {
            exchange.getMessage().setHeader(InputHeaders.SIDECAR_ERROR, FileSidecar.TOO_LARGE);
            return;
        }
        rules.apply(exchange, text);
    }

    /**
     * Whether the sidecar at {@code path} is one an earlier image of its name already used and that
     * stayed behind when that image left (its move or delete failed, see {@link FollowImage}): the
     * same size and modification time as then. It is not this image's, and is not applied to it;
     * it is moved (or deleted) now, as it should have been. One of another size or time is a new
     * sidecar, and the image's own.
     */
    private boolean leftBehind(String path, SftpATTRS now) {
        LeftBehind left;
        synchronized (leftBehind) {
            left = leftBehind.get(path);
            if (left != null && (now.isLink() || now.getSize() != left.size() || now.getMTime() != left.modifiedSeconds())) {
                leftBehind.remove(path);
                left = null;
            }
        }
        if (left == null) {
            return false;
        }
        LOG.warn("A sidecar an earlier image of its name used was still on {}; it is not applied to a later image of that name",
                settings.server());
        if (left.dir() == null ? delete(path) : move(path, left.dir(), left.dirKey(), left.placed())) {
            synchronized (leftBehind) {
                leftBehind.remove(path);
            }
        }
        return true;
    }

    /** Deletes a sidecar; false, with a warning, when it could not be. */
    private boolean delete(String path) {
        try {
            call(c -> {
                try {
                    c.rm(SftpConnector.literal(path));
                } catch (SftpException e) {
                    // tried again after a delete whose reply was lost: it is gone already
                    if (e.id != ChannelSftp.SSH_FX_NO_SUCH_FILE) {
                        throw e;
                    }
                }
                return null;
            });
            return true;
        } catch (Exception e) {
            LOG.warn("Could not delete a sidecar on {}: {}", settings.server(), SftpConnector.safe(e));
            return false;
        }
    }

    /**
     * Moves a sidecar into the folder {@code dir} ({@code dirKey} its setting) under {@code placed},
     * a free name there; false, with a warning, when it could not be.
     */
    private boolean move(String path, String dir, String dirKey, String placed) {
        String target = SftpSettings.normalize(dir + "/" + placed);
        try {
            call(c -> {
                int slash = target.lastIndexOf('/');
                if (slash > 0) {
                    SftpStartupCheck.mkdirs(c, target.substring(0, slash), dirKey, settings, false);
                }
                // the target is a free name (placed); nothing there is deleted first: a sidecar of the
                // same name moved a moment ago by another image would be lost
                try {
                    c.rename(SftpConnector.literal(path), SftpConnector.literal(target));
                } catch (SftpException e) {
                    // tried again after a rename whose reply was lost: the sidecar is there already
                    if (e.id != ChannelSftp.SSH_FX_NO_SUCH_FILE || SftpConnector.lstat(c, target) == null) {
                        throw e;
                    }
                }
                return null;
            });
            return true;
        } catch (Exception e) {
            LOG.warn("Could not move a sidecar to {} on {}: {}", dir, settings.server(), SftpConnector.safe(e));
            return false;
        }
    }

    /**
     * The image's look-ups could not reach the server (see {@link #lookUp}): that says nothing of
     * its sidecar, so the image waits on the server, with nothing recorded, however many times in a
     * row: 1 s, then 2, 4, ... s up to {@link #MAX_UNREACHABLE_PAUSE}, the listing leaving it out
     * meanwhile. A server that takes only so many sessions of the bundle's login (each instance
     * holds three) keeps its images waiting until it takes the sidecar session again.
     */
    private void unreachable(Exchange exchange, String imagePath, Unreached e) {
        int inARow = unreachable.failed(imagePath);
        long pause = Math.min(MAX_UNREACHABLE_PAUSE.toMillis(),
                SIDECAR_RETRY_PAUSE.toMillis() << Math.min(inARow - 1, 16));
        String why = SftpConnector.safe(e.getCause());
        LOG.warn("The sidecar session to {} could not be opened or lost its connection ({}); the image waits on"
                + " the server and is taken again in {} s", settings.server(), why, pause / 1000);
        exchange.getMessage().setHeader(InputHeaders.NOT_NOW, "the SFTP server could not be reached to look up"
                + " the image's sidecar: " + why);
        exchange.getMessage().setHeader(InputHeaders.NOT_NOW_PAUSE, pause);
    }

    /**
     * A sidecar the server refused to the bundle's login (permission denied) rejects its image, as a
     * broken sidecar does: someone has to mend it. Any other failure the server answered with (on
     * the call's second try too) lets the image wait on the server for a later poll, with nothing
     * recorded, after a pause of 1 s, then 2, 3, ... s (the listing leaves it out meanwhile), until
     * {@link #SIDECAR_TRIES} look-ups in a row failed, the last at least {@link #readWindow} after
     * the first; then it is rejected too, as a dropped image whose sidecar cannot be read.
     */
    private void sidecarFailed(Exchange exchange, String sidecarPath, Exception e, String what) {
        boolean refused = e instanceof SftpException sftp && sftp.id == ChannelSftp.SSH_FX_PERMISSION_DENIED;
        int inARow = refused ? 0 : sidecarFailures.failed(sidecarPath);
        if (inARow == 0) {
            exchange.getMessage().setHeader(InputHeaders.SIDECAR_ERROR, what + SftpConnector.safe(e)
                    + (refused ? "" : readWindow.toMillis() > 0 ? " (at least " + SIDECAR_TRIES
                            + " times in a row, over at least " + readWindow.toSeconds() + " s)"
                            : " (" + SIDECAR_TRIES + " times in a row)"));
            return;
        }
        exchange.getMessage().setHeader(InputHeaders.NOT_NOW, what + SftpConnector.safe(e));
        // the listing leaves the image out for the pause (see quarantine): neither the next listing,
        // which comes at once while files are found, nor the listing's thread waiting it out is spent on it
        exchange.getMessage().setHeader(InputHeaders.NOT_NOW_PAUSE, SIDECAR_RETRY_PAUSE.toMillis() * inARow);
    }

    /** {@code dir/u00017.png} -> {@code dir/u00017.json} */
    static String sidecarOf(String imagePath) {
        int slash = imagePath.lastIndexOf('/');
        return imagePath.substring(0, slash + 1) + PartnerUserResolver.baseName(imagePath) + ".json";
    }

    /** The sidecar as text, or null when it is larger than allowed (it may have grown since the stat). */
    private static String readText(ChannelSftp c, String path) throws SftpException, IOException {
        try (InputStream in = c.get(SftpConnector.literal(path))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            int n;
            while ((n = in.read(buffer)) > 0) {
                out.write(buffer, 0, n);
                if (out.size() > FileSidecar.MAX_SIDECAR_BYTES) {
                    return null;
                }
            }
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    private interface SftpCall<T> {
        T apply(ChannelSftp channel) throws SftpException, IOException;
    }

    /**
     * Runs one call on the shared channel (JSch channels are not thread-safe, and the calls are
     * short). A call that fails for want of a working connection is tried once more on a new
     * session, so an idle session the server or a firewall dropped costs a reconnect, not an image.
     * One the server answered with a status (a refusal, a missing file) is not: a new login would
     * get the same answer. Neither is one cut off for taking longer than {@link #callLimit} (see
     * {@link #limited}): a second one would most likely wait as long, holding up every other.
     */
    private synchronized <T> T call(SftpCall<T> call) throws SftpException, IOException {
        if (!connected()) {
            limited(c -> {
                reopen();
                return null;
            });
        }
        try {
            return limited(call);
        } catch (SftpException | IOException | RuntimeException e) {
            if (SftpConnector.answered(e) || e instanceof NoAnswer) {
                throw e;
            }
            LOG.debug("SFTP sidecar call failed, trying once more on a new session: {}", SftpConnector.safe(e));
            return limited(c -> {
                reopen();
                return call.apply(channel);
            });
        }
    }

    /**
     * Runs {@code step} with the session closed under it once it takes longer than {@link
     * #callLimit}: no SFTP call has a time limit of its own, the session's opening included, and
     * the session's keep-alives are answered by the server's SSH side while its SFTP side hangs (a
     * stuck mount on the server). Without it, one call that never returns kept this session's lock
     * for good: the listing's look-ups, and every submission worker (shared by all sources) that
     * moved an SFTP input away, waited on it until a restart. Cut off, it fails as {@link NoAnswer},
     * a lost connection: the image waits for a later poll, a failed input's move is tried again.
     */
    private <T> T limited(SftpCall<T> step) throws SftpException, IOException {
        long limit = callLimit.toMillis();
        java.util.concurrent.atomic.AtomicBoolean cut = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.ScheduledFuture<?> watchdog = WATCHDOG.schedule(() -> {
            cut.set(true);
            com.jcraft.jsch.Session s = session.get();
            if (s != null) {
                s.disconnect();
            }
        }, limit, java.util.concurrent.TimeUnit.MILLISECONDS);
        try {
            return step.apply(channel);
        } catch (SftpException | IOException | RuntimeException e) {
            if (!cut.get()) {
                throw e;
            }
            // the input's own line (waits, move tried again) follows from the caller; no file is named
            LOG.warn("The SFTP server {} did not answer the sidecar session within {} s; the session was closed"
                    + " (the next call opens a new one)", settings.server(), Math.max(1, limit / 1000));
            throw new NoAnswer(limit);
        } finally {
            watchdog.cancel(false);
        }
    }

    /**
     * A call cut off by {@link #limited}: a lost connection to whoever asks ({@link
     * SourceMoveRefusals#connectionLost}), never the server's answer. No cause: the library's
     * failure may look like a status of the server's.
     */
    private static final class NoAnswer extends java.net.SocketException {
        NoAnswer(long millis) {
            super("no answer from the SFTP server within " + Math.max(1, millis / 1000) + " s");
        }
    }

    /** For tests: how long one call may take before its session is closed under it (see {@link #limited}). */
    void callLimit(java.time.Duration limit) {
        this.callLimit = limit;
    }

    /**
     * {@link #call}, for the look-ups an image waits on: a failure that did not get through to the
     * server (the session could not be opened: a session limit reached, the server down or refusing
     * the login; or its connection went, on the second try too) comes as {@link Unreached}, apart
     * from those the server answered about the file.
     */
    private synchronized <T> T lookUp(SftpCall<T> look) throws SftpException, IOException {
        try {
            return call(look);
        } catch (SftpCheckException | NoAnswer e) {
            throw new Unreached(e);
        } catch (SftpException | IOException | RuntimeException e) {
            if (!connected()) {
                throw new Unreached(e);
            }
            throw e;
        }
    }

    /** A look-up that did not get through to the server; its cause says why. */
    private static final class Unreached extends RuntimeException {
        Unreached(Exception cause) {
            super(cause.getMessage(), cause);
        }
    }

    private boolean connected() {
        try {
            return channel != null && channel.isConnected() && channel.getSession().isConnected();
        } catch (com.jcraft.jsch.JSchException e) {
            return false;
        }
    }

    private void reopen() {
        SftpConnector.close(channel);
        channel = null;
        session.set(null);
        // the session before it connects: a watchdog may have to end an opening that hangs
        channel = new SftpConnector(settings).open(session::set);
    }

    private static java.util.concurrent.ScheduledThreadPoolExecutor watchdog() {
        java.util.concurrent.ScheduledThreadPoolExecutor executor = new java.util.concurrent.ScheduledThreadPoolExecutor(
                1, r -> {
                    Thread t = new Thread(r, "ktp-sftp-sidecar-watchdog");
                    t.setDaemon(true);
                    return t;
                });
        // a cancelled one goes at once: nearly every call's is
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }

    @Override
    protected synchronized void doStop() {
        SftpConnector.close(channel);
        channel = null;
    }

    /**
     * A sidecar that stayed in the source folder when its image left, by its path: its size and
     * modification time then, and where it should have gone ({@code dir} null: deleted).
     */
    private record LeftBehind(long size, int modifiedSeconds, String dir, String dirKey, String placed) {
    }

    /** Moves (or deletes) the sidecar where its image went. */
    private final class FollowImage extends SynchronizationAdapter implements org.apache.camel.Ordered {
        private final String path;
        private final String relative;
        /** The sidecar as it was read: what is remembered if it stays behind. */
        private final long size;
        private final int modifiedSeconds;

        FollowImage(String path, String relative, long size, int modifiedSeconds) {
            this.path = path;
            this.relative = relative;
            this.size = size;
            this.modifiedSeconds = modifiedSeconds;
        }

        /** After the consumer's own move (or delete) of the image: a sidecar whose image stayed stays too. */
        @Override
        public int getOrder() {
            return org.apache.camel.Ordered.LOWEST;
        }

        @Override
        public void onComplete(Exchange exchange) {
            if (SettledInPlace.kept(exchange)) {
                return;
            }
            if (settings.deleteAfterSuccess()) {
                if (!delete(path)) {
                    stayed(null, null, null);
                }
            } else {
                follow(settings.remoteDir(settings.doneDir()), SftpSettings.DONE_DIR,
                        placed(exchange, DONE_ASIDE, settings.doneDir(), relative));
            }
        }

        @Override
        public void onFailure(Exchange exchange) {
            // an image replaced meanwhile stays for its own turn, and its sidecar with it
            // ... and one whose quarantine was refused stays, with its sidecar beside it
            if (!Settlement.staysInSource(exchange) && !replaced(exchange) && !SettledInPlace.kept(exchange)) {
                follow(settings.remoteDir(settings.failedDir()), SftpSettings.FAILED_DIR,
                        placed(exchange, FAILED_ASIDE, settings.failedDir(), relative));
            }
        }

        private void follow(String dir, String key, String placed) {
            if (!move(path, dir, key, placed)) {
                stayed(dir, key, placed);
            }
        }

        /**
         * The sidecar stayed behind its image: a later image of its name (a scanner reusing
         * {@code u00017.jpg} days on) would be submitted under this one's partner user and metadata.
         * Remembered, so that it is not (see {@link #leftBehind}).
         */
        private void stayed(String dir, String key, String placed) {
            synchronized (leftBehind) {
                leftBehind.put(path, new LeftBehind(size, modifiedSeconds, dir, key, placed));
            }
        }
    }
}

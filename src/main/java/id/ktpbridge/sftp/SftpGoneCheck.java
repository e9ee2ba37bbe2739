package id.ktpbridge.sftp;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.SftpATTRS;
import com.jcraft.jsch.SftpException;
import id.ktpbridge.submit.GoneCheck;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the files of SFTP inputs left waiting are still on the server: one session of the
 * source's own settings per sweep, a look at each path ({@code lstat}: a link counts as there). A
 * file is gone only when the server answers that it is not there while its folder is there and
 * holds other entries (a folder missing or empty, as a mount on the server that is away, tells
 * nothing of its files); any other failure, a login refused, a session that cannot be opened or a
 * call that takes over 30 s tells nothing.
 */
public final class SftpGoneCheck implements GoneCheck {

    private static final Logger LOG = LoggerFactory.getLogger(SftpGoneCheck.class);

    /** Closes the sessions of looks whose calls take too long (one daemon thread for all). */
    private static final ScheduledThreadPoolExecutor WATCHDOG = watchdog();

    private final SftpConnector connector;
    private final Duration callLimit;

    public SftpGoneCheck(SftpSettings settings) {
        this(new SftpConnector(settings), Duration.ofSeconds(30));
    }

    SftpGoneCheck(SftpConnector connector, Duration callLimit) {
        this.connector = connector;
        this.callLimit = callLimit;
    }

    @Override
    public String sourceType() {
        return "sftp";
    }

    @Override
    public String goneMessage() {
        return "its file left the SFTP folder before its upload";
    }

    @Override
    public String place() {
        return "the SFTP folder";
    }

    @Override
    public Answer look(List<String> sourceRefs) {
        Set<String> answered = new HashSet<>();
        Set<String> gone = new HashSet<>();
        // no SFTP call has a time limit of its own, the first answer of the SFTP side included, and
        // the session's keep-alives are answered by the server's SSH side while its SFTP side hangs (a
        // stuck mount): a step that takes longer than this has the session closed under it, which ends it
        AtomicReference<Session> session = new AtomicReference<>();
        ScheduledFuture<?>[] watchdog = new ScheduledFuture<?>[1];
        Runnable rearm = () -> {
            if (watchdog[0] != null) {
                watchdog[0].cancel(false);
            }
            watchdog[0] = WATCHDOG.schedule(() -> {
                Session s = session.get();
                if (s != null) {
                    s.disconnect();
                }
            }, callLimit.toMillis(), TimeUnit.MILLISECONDS);
        };
        ChannelSftp channel;
        try {
            rearm.run();
            channel = connector.open(session::set);
        } catch (RuntimeException e) {
            watchdog[0].cancel(false);
            // the message names the setting, never a file
            LOG.warn("SFTP source: could not look whether the files of {} input(s) left waiting are still on the"
                    + " server: {}; looked at again at the next sweep", sourceRefs.size(),
                    String.valueOf(e.getMessage()).replaceFirst("^SFTP source: ", ""));
            return new Answer(answered, gone);
        }
        int refused = 0;
        Map<String, Boolean> folders = new HashMap<>();
        try {
            for (String ref : sourceRefs) {
                String path = path(ref);
                if (path == null) {
                    answered.add(ref);
                    continue;
                }
                try {
                    rearm.run();
                    if (SftpConnector.lstat(channel, path) == null && folderHoldsFiles(channel, path, folders, rearm)) {
                        gone.add(ref);
                    }
                    answered.add(ref);
                } catch (SftpException | RuntimeException e) {
                    if (!SftpConnector.answered(e)) {
                        // the session broke (or was closed for taking too long): the others wait
                        LOG.warn("SFTP source: the look whether files of inputs left waiting are still on the server"
                                + " broke off ({}); looked at again at the next sweep", SftpConnector.safe(e));
                        break;
                    }
                    // an answer of its own for this file (permission denied, say): it may be there
                    answered.add(ref);
                    refused++;
                }
            }
        } finally {
            if (watchdog[0] != null) {
                watchdog[0].cancel(false);
            }
            SftpConnector.close(channel);
        }
        if (refused > 0) {
            LOG.warn("SFTP source: {} file(s) of inputs left waiting could not be looked at (the server refused the"
                    + " look): they stay open until it answers whether they are there", refused);
        }
        return new Answer(answered, gone);
    }

    /** {@code sftp://host:port/inbox/a.png} -> {@code inbox/a.png}: the path from the login folder, as listed. */
    static String path(String ref) {
        if (ref == null || !ref.startsWith("sftp://")) {
            return null;
        }
        int slash = ref.indexOf('/', "sftp://".length());
        return slash < 0 || slash == ref.length() - 1 ? null : ref.substring(slash + 1);
    }

    private static ScheduledThreadPoolExecutor watchdog() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "ktp-sftp-gone-watchdog");
            t.setDaemon(true);
            return t;
        });
        // a cancelled one goes at once: it holds its look's session
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }

    /**
     * Whether the file's folder is there and lists at least one entry: a folder that lists none may
     * be a mount on the server that is away (every file in it would look gone), so it tells nothing.
     * Asked once per folder and look.
     */
    private static boolean folderHoldsFiles(ChannelSftp channel, String path, Map<String, Boolean> folders,
                                            Runnable rearm) throws SftpException {
        String folder = SftpConnector.folderOf(path);
        Boolean known = folders.get(folder);
        if (known != null) {
            return known;
        }
        rearm.run();
        SftpATTRS attributes = SftpConnector.stat(channel, folder);
        boolean holds = false;
        if (attributes != null && attributes.isDir()) {
            rearm.run();
            holds = SftpConnector.listsAnEntry(channel, folder);
        }
        folders.put(folder, holds);
        return holds;
    }
}

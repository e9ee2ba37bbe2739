package id.ktpbridge.sftp;

import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.SftpATTRS;
import com.jcraft.jsch.SftpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Run once at start-up when the SFTP source is enabled: connects, logs in, changes into the inbox
 * directory, lists it, and makes sure the done and failed folders exist. Any problem stops the
 * start with one message naming the setting, instead of a consumer retrying a bad login forever.
 */
public final class SftpStartupCheck {

    private static final Logger LOG = LoggerFactory.getLogger(SftpStartupCheck.class);

    private SftpStartupCheck() {
    }

    public static void run(SftpSettings settings) {
        long start = System.nanoTime();
        ChannelSftp channel = new SftpConnector(settings).open();
        try {
            String dir = settings.directory();
            step(() -> channel.cd(dir), "cannot open the inbox directory '" + dir + "'", SftpSettings.DIRECTORY, settings);
            // the first entry is enough to know that listing is allowed
            step(() -> channel.ls(".", entry -> ChannelSftp.LsEntrySelector.BREAK),
                    "cannot list the inbox directory '" + dir + "'", SftpSettings.DIRECTORY, settings);
            channel.cd(channel.getHome());
            if (!settings.deleteAfterSuccess()) {
                mkdirs(channel, settings.remoteDir(settings.doneDir()), SftpSettings.DONE_DIR, settings);
            }
            mkdirs(channel, settings.remoteDir(settings.failedDir()), SftpSettings.FAILED_DIR, settings);
        } catch (SftpException e) {
            throw new SftpCheckException("SFTP source: " + settings.server() + " failed a check ("
                    + SftpConnector.safe(e) + ")", e);
        } finally {
            SftpConnector.close(channel);
        }
        LOG.info("SFTP source checked: {} (login, inbox '{}', done/failed folders) in {} ms", settings,
                settings.directory(), (System.nanoTime() - start) / 1_000_000);
    }

    /** {@code mkdir -p} on the server, for a configured folder: a refusal names it. */
    static void mkdirs(ChannelSftp channel, String path, String key, SftpSettings settings) {
        mkdirs(channel, path, key, settings, true);
    }

    /**
     * {@code mkdir -p} on the server; {@code nameable} false for a path that may hold an input's own
     * sub-folders (a recursive source's: a partner user id, a NIK), which a refusal leaves out.
     */
    static void mkdirs(ChannelSftp channel, String path, String key, SftpSettings settings, boolean nameable) {
        StringBuilder current = new StringBuilder(path.startsWith("/") ? "/" : "");
        for (String part : path.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (current.length() > 0 && current.charAt(current.length() - 1) != '/') {
                current.append('/');
            }
            current.append(part);
            String dir = current.toString();
            SftpATTRS there;
            try {
                there = SftpConnector.stat(channel, dir);
            } catch (SftpException e) {
                throw problem("cannot check the folder '" + dir + "'", key, settings, e);
            }
            if (there != null && there.isDir()) {
                continue;
            }
            if (there != null) {
                throw new SftpCheckException("SFTP source: " + (nameable ? "'" + dir + "'" : "a folder under "
                        + SftpSettings.named(key)) + " is a file, not a folder: check " + SftpSettings.named(key), null);
            }
            try {
                channel.mkdir(dir);
            } catch (SftpException e) {
                if (existsAsFolder(channel, dir)) {
                    continue; // another instance created it at the same moment
                }
                throw problem("cannot create the folder '" + dir + "'", key, settings, e);
            }
        }
    }

    private interface SftpStep {
        void run() throws SftpException;
    }

    private static void step(SftpStep step, String what, String key, SftpSettings settings) {
        try {
            step.run();
        } catch (SftpException e) {
            throw problem(what, key, settings, e);
        }
    }

    private static SftpCheckException problem(String what, String key, SftpSettings settings, SftpException e) {
        String why = switch (e.id) {
            case ChannelSftp.SSH_FX_NO_SUCH_FILE -> "it does not exist";
            case ChannelSftp.SSH_FX_PERMISSION_DENIED -> "permission denied for user '" + settings.user() + "'";
            default -> SftpConnector.safe(e);
        };
        return new SftpCheckException("SFTP source: " + settings.server() + ": " + what + " (" + why + "): check "
                + SftpSettings.named(key), e);
    }

    private static boolean existsAsFolder(ChannelSftp channel, String dir) {
        try {
            SftpATTRS there = SftpConnector.stat(channel, dir);
            return there != null && there.isDir();
        } catch (SftpException e) {
            return false;
        }
    }
}

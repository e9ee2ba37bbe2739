package id.ktpbridge.sftp;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;

import com.jcraft.jsch.ChannelSftp;
import com.jcraft.jsch.JSch;
import com.jcraft.jsch.JSchAlgoNegoFailException;
import com.jcraft.jsch.JSchChangedHostKeyException;
import com.jcraft.jsch.JSchException;
import com.jcraft.jsch.JSchUnknownHostKeyException;
import com.jcraft.jsch.Session;
import com.jcraft.jsch.SftpATTRS;
import com.jcraft.jsch.SftpException;

/**
 * Opens JSch sessions with the SFTP source's settings (the same ones the camel-ftp consumer gets)
 * and turns JSch's failures into messages that name the setting to fix. No message contains a
 * password or passphrase: JSch does not put them in its exceptions, and neither does this class.
 */
final class SftpConnector {

    /** Same order as the route's {@code preferredAuthentications}: no GSSAPI/Kerberos attempts. */
    static final String AUTH_METHODS = "publickey,keyboard-interactive,password";

    private final SftpSettings settings;

    SftpConnector(SftpSettings settings) {
        this.settings = settings;
    }

    SftpSettings settings() {
        return settings;
    }

    /** A connected, authenticated SFTP channel; {@link #close} it (its session goes with it). */
    ChannelSftp open() {
        return open(session -> { });
    }

    /**
     * As {@link #open()}, handing the session to {@code created} before it connects, so another
     * thread can end a start that hangs (the SFTP side's first answer has no time limit of its own).
     */
    ChannelSftp open(java.util.function.Consumer<Session> created) {
        JSch jsch = new JSch();
        try {
            if (settings.privateKeyFile() != null) {
                if (settings.privateKeyPassphrase() != null) {
                    jsch.addIdentity(settings.privateKeyFile(), settings.privateKeyPassphrase());
                } else {
                    jsch.addIdentity(settings.privateKeyFile());
                }
            }
        } catch (JSchException e) {
            throw new SftpCheckException("SFTP source: cannot use the private key in "
                    + SftpSettings.named(SftpSettings.PRIVATE_KEY_FILE) + " (" + safe(e)
                    + "); if the key is encrypted, check " + SftpSettings.named(SftpSettings.PRIVATE_KEY_PASSPHRASE), e);
        }
        Session session = null;
        try {
            // with checking off no known_hosts is read, so JSch never writes the server's key anywhere
            if ("yes".equals(settings.strictHostKeyChecking())) {
                jsch.setKnownHosts(settings.knownHostsFile());
            }
            session = jsch.getSession(settings.user(), settings.host(), settings.port());
            created.accept(session);
            if (settings.password() != null) {
                session.setPassword(settings.password());
            }
            session.setConfig("StrictHostKeyChecking", settings.strictHostKeyChecking());
            session.setConfig("PreferredAuthentications", AUTH_METHODS);
            // as the route passes them to Camel's sessions (serverHostKeys, keyExchangeProtocols)
            if (settings.hostKeyAlgorithms() != null) {
                session.setConfig("server_host_key", settings.hostKeyAlgorithms());
            }
            if (settings.kexAlgorithms() != null) {
                session.setConfig("kex", settings.kexAlgorithms());
            }
            int timeout = (int) Math.min(Integer.MAX_VALUE, settings.connectTimeout().toMillis());
            session.setTimeout(timeout);
            session.setServerAliveInterval(30_000);
            session.connect(timeout);
            ChannelSftp channel = (ChannelSftp) session.openChannel("sftp");
            channel.connect(timeout);
            return channel;
        } catch (JSchException e) {
            if (session != null) {
                session.disconnect();
            }
            throw explain(e);
        }
    }

    static void close(ChannelSftp channel) {
        if (channel == null) {
            return;
        }
        channel.disconnect();
        try {
            channel.getSession().disconnect();
        } catch (JSchException e) {
            // no session: nothing to close
        }
    }

    private SftpCheckException explain(JSchException e) {
        String server = settings.server();
        if (e instanceof JSchUnknownHostKeyException) {
            return new SftpCheckException("SFTP source: the host key of " + server + " is not in "
                    + SftpSettings.named(SftpSettings.KNOWN_HOSTS_FILE) + " = " + settings.knownHostsFile()
                    + ". Add it (ssh-keyscan -p " + settings.port() + " " + settings.host() + " >> FILE) after checking"
                    + " its fingerprint, or, for tests only, set " + SftpSettings.STRICT_HOST_KEY_CHECKING + "=no", e);
        }
        if (e instanceof JSchChangedHostKeyException) {
            return new SftpCheckException("SFTP source: the host key of " + server + " differs from the one in "
                    + SftpSettings.named(SftpSettings.KNOWN_HOSTS_FILE) + " = " + settings.knownHostsFile()
                    + ". Either the server was re-keyed (update the file) or this is not the server you expect", e);
        }
        if (e instanceof JSchAlgoNegoFailException nego && ("server_host_key".equals(nego.getAlgorithmName())
                || "kex".equals(nego.getAlgorithmName()))) {
            boolean hostKey = "server_host_key".equals(nego.getAlgorithmName());
            String key = hostKey ? SftpSettings.HOST_KEY_ALGORITHMS : SftpSettings.KEX_ALGORITHMS;
            // the server's offer is a list of algorithm names, nothing secret
            return new SftpCheckException("SFTP source: " + server + " offers no " + (hostKey ? "host key type"
                    : "key exchange") + " the bundle accepts (the server offers: " + nego.getServerProposal()
                    + "). An older server may offer only SHA-1 ones (" + (hostKey ? "ssh-rsa"
                    : "diffie-hellman-group14-sha1, diffie-hellman-group-exchange-sha1") + "): if that is acceptable,"
                    + " list them, after the stronger ones, in " + SftpSettings.named(key)
                    + (hostKey ? "" : "; such a server may need " + SftpSettings.HOST_KEY_ALGORITHMS + " too"), e);
        }
        String message = String.valueOf(e.getMessage());
        // JSch's "Auth fail for methods ...", "Auth cancel ..." (its own exception types are not public)
        if (message.startsWith("Auth fail") || message.startsWith("Auth cancel")) {
            String what = settings.privateKeyFile() != null && settings.password() != null
                    ? SftpSettings.named(SftpSettings.PASSWORD) + " and the key in "
                            + SftpSettings.named(SftpSettings.PRIVATE_KEY_FILE)
                    : settings.privateKeyFile() != null
                            ? "the key in " + SftpSettings.named(SftpSettings.PRIVATE_KEY_FILE)
                                    + " (is its public key in the server's authorized_keys?)"
                            : SftpSettings.named(SftpSettings.PASSWORD);
            return new SftpCheckException("SFTP source: " + server + " refused the login of user '" + settings.user()
                    + "' (" + SftpSettings.named(SftpSettings.USER) + "): check " + what, e);
        }
        Throwable cause = e.getCause();
        if (cause instanceof UnknownHostException) {
            return new SftpCheckException("SFTP source: unknown host '" + settings.host() + "': check "
                    + SftpSettings.named(SftpSettings.HOST), e);
        }
        if (cause instanceof ConnectException || cause instanceof NoRouteToHostException
                || cause instanceof SocketTimeoutException || message.contains("timeout")
                || message.contains("Connection refused")) {
            return new SftpCheckException("SFTP source: cannot reach " + server + " within "
                    + settings.connectTimeout().toMillis() + " ms (" + safe(e) + "): check "
                    + SftpSettings.named(SftpSettings.HOST) + " and " + SftpSettings.named(SftpSettings.PORT)
                    + ", and that the server is up and reachable from here", e);
        }
        return new SftpCheckException("SFTP source: cannot connect to " + server + " as '" + settings.user() + "' ("
                + safe(e) + "): check the " + SftpSettings.PREFIX + "* settings", e);
    }

    /**
     * What went wrong, for a log line: a file operation's SFTP status only, as JSch (and some
     * servers) put the path in its message, and a path's file name is often a NIK; else JSch's own
     * message (a connection's, which names no file and never a password).
     */
    static String safe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof com.jcraft.jsch.SftpException sftp) {
                return "SFTP status " + sftp.id + " (" + statusName(sftp.id) + ")";
            }
        }
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }

    private static String statusName(int id) {
        return switch (id) {
            case 1 -> "end of file";
            case 2 -> "no such file";
            case 3 -> "permission denied";
            case 4 -> "failure";
            case 5 -> "bad message";
            case 6 -> "no connection";
            case 7 -> "connection lost";
            case 8 -> "operation unsupported";
            default -> "other";
        };
    }

    /**
     * Whether the server answered the call with a status of its own (permission denied, no such
     * file, failure): asking again on a new session gets the same answer. JSch wraps a broken
     * channel's I/O error into a status of its own, with that error as its cause: not an answer.
     */
    static boolean answered(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SftpException s) {
                return s.getCause() == null && s.id != ChannelSftp.SSH_FX_NO_CONNECTION
                        && s.id != ChannelSftp.SSH_FX_CONNECTION_LOST;
            }
        }
        return false;
    }

    /** {@code lstat}: the attributes of the path itself (a link's own), or null when there is nothing there. */
    static SftpATTRS lstat(ChannelSftp c, String path) throws SftpException {
        return attributes(c, path, false);
    }

    /** {@code stat}: the attributes of the path, a link followed, or null when there is nothing there. */
    static SftpATTRS stat(ChannelSftp c, String path) throws SftpException {
        return attributes(c, path, true);
    }

    private static SftpATTRS attributes(ChannelSftp c, String path, boolean follow) throws SftpException {
        try {
            return follow ? c.stat(literal(path)) : c.lstat(literal(path));
        } catch (SftpException e) {
            if (e.id == ChannelSftp.SSH_FX_NO_SUCH_FILE) {
                return null;
            }
            // some servers (Paramiko-based ones, some on Windows) answer a missing path with a generic
            // failure: a listing of its folder by that name says whether it is there
            if (e.id == ChannelSftp.SSH_FX_FAILURE && answered(e) && !listed(c, path)) {
                return null;
            }
            throw e;
        }
    }

    /** Whether the folder of {@code path} lists its name; false when that folder is missing too. */
    private static boolean listed(ChannelSftp c, String path) throws SftpException {
        int slash = path.lastIndexOf('/');
        String folder = folderOf(path);
        String name = path.substring(slash + 1);
        boolean[] found = {false};
        try {
            c.ls(literal(folder), entry -> {
                if (name.equals(entry.getFilename())) {
                    found[0] = true;
                    return ChannelSftp.LsEntrySelector.BREAK;
                }
                return ChannelSftp.LsEntrySelector.CONTINUE;
            });
        } catch (SftpException e) {
            // the folder missing, said either way: nothing in it is there either
            if (e.id == ChannelSftp.SSH_FX_NO_SUCH_FILE
                    || e.id == ChannelSftp.SSH_FX_FAILURE && answered(e) && slash > 0 && !listed(c, folder)) {
                return false;
            }
            throw e;
        }
        return found[0];
    }

    /** The folder of {@code path}: {@code inbox/a.png} -> {@code inbox}, {@code a.png} -> {@code .}. */
    static String folderOf(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? "." : slash == 0 ? "/" : path.substring(0, slash);
    }

    /** Whether the folder lists an entry (other than {@code .} and {@code ..}): up to its first, not whole. */
    static boolean listsAnEntry(ChannelSftp c, String folder) throws SftpException {
        boolean[] any = {false};
        c.ls(literal(folder), entry -> {
            String name = entry.getFilename();
            if (".".equals(name) || "..".equals(name)) {
                return ChannelSftp.LsEntrySelector.CONTINUE;
            }
            any[0] = true;
            return ChannelSftp.LsEntrySelector.BREAK;
        });
        return any[0];
    }

    /** Whether JSch reads this name as a pattern: it has a {@code *} or {@code ?}. */
    static boolean readAsPattern(String name) {
        return name.indexOf('*') >= 0 || name.indexOf('?') >= 0;
    }

    /**
     * A path as JSch takes it literally. JSch reads {@code *} and {@code ?} in a path as wildcards
     * (a name with one may match other files, or none) and drops a {@code \}, which escapes them.
     * For every call that takes a path, except mkdir, which takes it as it is.
     */
    static String literal(String path) {
        StringBuilder out = new StringBuilder(path.length() + 4);
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '*' || c == '?' || c == '\\') {
                out.append('\\');
            }
            out.append(c);
        }
        return out.toString();
    }
}

package id.ktpbridge.sftp;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Locale;

import com.jcraft.jsch.JSch;
import com.jcraft.jsch.KeyExchange;
import com.jcraft.jsch.Signature;
import id.ktpbridge.Settings;

/**
 * The {@code ktp.source.sftp.*} settings the Java side of the SFTP source needs (start-up check,
 * sidecars). The route reads the same properties itself. {@link #toString()} never shows a secret.
 */
public record SftpSettings(
        String host,
        int port,
        String user,
        String password,
        String privateKeyFile,
        String privateKeyPassphrase,
        String strictHostKeyChecking,
        String knownHostsFile,
        String directory,
        String doneDir,
        String failedDir,
        boolean deleteAfterSuccess,
        Duration connectTimeout,
        String hostKeyAlgorithms,
        String kexAlgorithms) {

    public static final String PREFIX = "ktp.source.sftp.";
    public static final String ENABLED = PREFIX + "enabled";
    public static final String HOST = PREFIX + "host";
    public static final String PORT = PREFIX + "port";
    public static final String USER = PREFIX + "user";
    public static final String PASSWORD = PREFIX + "password";
    public static final String PRIVATE_KEY_FILE = PREFIX + "private-key-file";
    public static final String PRIVATE_KEY_PASSPHRASE = PREFIX + "private-key-passphrase";
    public static final String STRICT_HOST_KEY_CHECKING = PREFIX + "strict-host-key-checking";
    public static final String KNOWN_HOSTS_FILE = PREFIX + "known-hosts-file";
    public static final String DIRECTORY = PREFIX + "directory";
    public static final String AFTER_SUCCESS = PREFIX + "after-success";
    public static final String DONE_DIR = PREFIX + "done-dir";
    public static final String FAILED_DIR = PREFIX + "failed-dir";
    public static final String CONNECT_TIMEOUT = PREFIX + "connect-timeout";
    public static final String STARTUP_CHECK = PREFIX + "startup-check";
    public static final String HOST_KEY_ALGORITHMS = PREFIX + "host-key-algorithms";
    public static final String KEX_ALGORITHMS = PREFIX + "kex-algorithms";
    public static final String RECURSIVE = PREFIX + "recursive";
    public static final String READ_LOCK_MIN_AGE = PREFIX + "read-lock-min-age";
    static final String CLUSTER = "ktp.cluster.enabled";

    /** Reads and checks the settings; every problem names the property and its environment variable. */
    public static SftpSettings from(Settings s) {
        String host = require(s, HOST);
        int port = s.integer(PORT, 22);
        if (port < 1 || port > 65535) {
            throw invalid(PORT, "must be a TCP port (1-65535)");
        }
        String user = require(s, USER);
        String password = s.optional(PASSWORD).orElse(null);
        String keyFile = s.optional(PRIVATE_KEY_FILE).orElse(null);
        if (password == null && keyFile == null) {
            throw new IllegalStateException("SFTP source: set " + named(PASSWORD) + " or " + named(PRIVATE_KEY_FILE)
                    + " (one of them is needed to log in)");
        }
        if (keyFile != null && !Files.isReadable(Path.of(keyFile))) {
            throw invalid(PRIVATE_KEY_FILE, "names a file that does not exist or cannot be read: " + keyFile);
        }
        // passed to JSch as is, which knows these two in lower case
        String strict = s.string(STRICT_HOST_KEY_CHECKING, "yes");
        if (!strict.equals("yes") && !strict.equals("no")) {
            throw invalid(STRICT_HOST_KEY_CHECKING, "must be 'yes' or 'no' (lower case)");
        }
        String knownHosts = s.optional(KNOWN_HOSTS_FILE).orElse(null);
        if (strict.equals("yes") && (knownHosts == null || !Files.isReadable(Path.of(knownHosts)))) {
            throw new IllegalStateException("SFTP source: " + named(STRICT_HOST_KEY_CHECKING)
                    + " is 'yes' but " + named(KNOWN_HOSTS_FILE) + " is "
                    + (knownHosts == null ? "not set" : "not a readable file: " + knownHosts)
                    + ". Add the server's key to it (ssh-keyscan -p " + port + " " + host
                    + " >> FILE) or, for tests only, set " + STRICT_HOST_KEY_CHECKING + "=no");
        }
        String afterSuccess = s.string(AFTER_SUCCESS, "move").toLowerCase(Locale.ROOT);
        if (!afterSuccess.equals("move") && !afterSuccess.equals("delete")) {
            throw invalid(AFTER_SUCCESS, "must be 'move' or 'delete'");
        }
        String directory = relative(s, DIRECTORY, "inbox");
        String doneDir = relative(s, DONE_DIR, ".done");
        String failedDir = relative(s, FAILED_DIR, ".failed");
        boolean recursive = s.flag(RECURSIVE, false);
        if (!afterSuccess.equals("delete")) {
            apartFromInbox(DONE_DIR, directory, doneDir, recursive);
        }
        apartFromInbox(FAILED_DIR, directory, failedDir, recursive);
        // Camel claims a file by its listed size and time when it lists it, before the "changed" read
        // lock waits for the upload to end: two instances listing one upload before and after its end
        // claimed it by two keys and both took it. Only the listing filter's minimum age
        // (SftpRecentlyChanged) keeps a changing file unclaimed.
        if (s.flag(CLUSTER, false) && s.duration(READ_LOCK_MIN_AGE, Duration.ofSeconds(5)).toMillis() < 1) {
            throw invalid(READ_LOCK_MIN_AGE, "must be more than 0 with " + CLUSTER + "=true: with 0 a file still being"
                    + " uploaded is claimed as it is listed, so two instances can each claim and take it (e.g. 5s)");
        }
        return new SftpSettings(host, port, user, password, keyFile,
                s.optional(PRIVATE_KEY_PASSPHRASE).orElse(null), strict, knownHosts,
                directory, doneDir, failedDir,
                afterSuccess.equals("delete"), s.duration(CONNECT_TIMEOUT, Duration.ofSeconds(10)),
                algorithms(s, HOST_KEY_ALGORITHMS, Signature.class, "host key type",
                        "ssh-ed25519,rsa-sha2-256,ssh-rsa"),
                algorithms(s, KEX_ALGORITHMS, KeyExchange.class, "key exchange",
                        "curve25519-sha256,diffie-hellman-group14-sha256,diffie-hellman-group14-sha1"));
    }

    /**
     * A list of SSH algorithm names, as the route and {@link SftpConnector} hand it to JSch (comma
     * separated, no spaces), or null when not set (JSch's defaults). Every name must be one JSch has
     * an implementation of, of that kind: JSch itself drops other names from its offer, and a typo
     * would show only as a login refused for want of a common algorithm.
     */
    static String algorithms(Settings s, String key, Class<?> kind, String what, String examples) {
        String value = s.optional(key).orElse(null);
        if (value == null) {
            return null;
        }
        List<String> names = new ArrayList<>();
        for (String name : value.split(",", -1)) {
            name = name.trim();
            if (!known(name, kind)) {
                throw invalid(key, "names '" + name + "', which is no " + what + " the SSH library (JSch) knows: give"
                        + " a comma-separated list of names such as " + examples + ", or nothing for the library's defaults");
            }
            names.add(name);
        }
        return String.join(",", names);
    }

    /** Whether JSch has an implementation of {@code kind} under this name. */
    private static boolean known(String name, Class<?> kind) {
        String implementation = name.isEmpty() ? null : JSch.getConfig(name);
        if (implementation == null) {
            return false;
        }
        try {
            return kind.isAssignableFrom(Class.forName(implementation, false, kind.getClassLoader()));
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** {@code sftp://host:port} for messages and source references. */
    public String server() {
        return "sftp://" + host + ":" + port;
    }

    /**
     * A done/failed folder setting as a server path relative to the login folder: the setting is
     * relative to {@link #directory()}, which is relative to the login folder.
     */
    public String remoteDir(String setting) {
        return resolve(directory, setting);
    }

    static String resolve(String directory, String setting) {
        return normalize(directory + "/" + (setting == null ? "" : setting.trim()));
    }

    /** {@code inbox/./.done//x} -> {@code inbox/.done/x}, {@code inbox/../done} -> {@code done}; {@code .} when empty. */
    public static String normalize(String path) {
        Deque<String> parts = new ArrayDeque<>();
        for (String part : path.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..") && !parts.isEmpty() && !parts.peekLast().equals("..")) {
                parts.removeLast();
            } else {
                parts.addLast(part);
            }
        }
        return parts.isEmpty() ? "." : String.join("/", parts);
    }

    /** {@code ktp.source.sftp.password (KTP_SOURCE_SFTP_PASSWORD)} */
    public static String named(String key) {
        return key + " (" + Settings.envName(key) + ")";
    }

    private static String require(Settings s, String key) {
        return s.optional(key).orElseThrow(() -> new IllegalStateException(
                "SFTP source: " + named(key) + " is required when " + ENABLED + "=true"));
    }

    /**
     * A done or failed folder, resolved as the route and {@link #remoteDir} resolve it, must not be the
     * inbox: a file moved there (renamed {@code <ledgerId>-name}) would be listed and taken again. Nor,
     * when the inbox is read recursively, a folder inside it, unless a folder on the way down from the
     * inbox has a name starting with a dot: the consumer skips such names (files and folders), and only those.
     */
    static void apartFromInbox(String key, String directory, String setting, boolean recursive) {
        String inbox = normalize(directory);
        String dir = resolve(directory, setting);
        String name = key.equals(DONE_DIR) ? "done" : "failed";
        if (dir.equals(inbox)) {
            throw invalid(key, "is " + DIRECTORY + " itself ('" + dir + "' from the login folder): the files moved"
                    + " there would be taken again. Give it a folder of its own (e.g. '." + name + "' or '../" + name + "')");
        }
        String below = inbox.equals(".") ? (dir.equals("..") || dir.startsWith("../") ? null : dir)
                : dir.startsWith(inbox + "/") ? dir.substring(inbox.length() + 1) : null;
        if (recursive && below != null && Arrays.stream(below.split("/")).noneMatch(part -> part.startsWith("."))) {
            throw invalid(key, "lies inside " + DIRECTORY + " ('" + dir + "' from the login folder), which is read"
                    + " recursively (" + RECURSIVE + "=true): its files would be taken again. Start its name with a"
                    + " dot (e.g. '." + name + "') or put it outside (e.g. '../" + name + "')");
        }
    }

    /**
     * camel-ftp's SFTP endpoint reads every folder relative to the login folder (it strips a
     * leading {@code /}), so an absolute setting would be checked in one place and polled in another.
     */
    private static String relative(Settings s, String key, String fallback) {
        String value = s.string(key, fallback);
        if (value.startsWith("/")) {
            throw invalid(key, "must be relative to the SFTP user's login folder (e.g. 'data/inbox', not '/data/inbox'): "
                    + "the SFTP endpoint reads every folder that way" + (key.equals(DIRECTORY) ? "" : "; it is relative to "
                    + DIRECTORY));
        }
        return value;
    }

    private static IllegalStateException invalid(String key, String why) {
        return new IllegalStateException("SFTP source: " + named(key) + " " + why);
    }

    @Override
    public String toString() {
        return "SftpSettings[" + user + "@" + server() + "/" + directory + ", auth="
                + (privateKeyFile != null ? "key" : "") + (password != null ? (privateKeyFile != null ? "+" : "") + "password" : "")
                + ", strictHostKeyChecking=" + strictHostKeyChecking
                + (hostKeyAlgorithms != null ? ", hostKeyAlgorithms=" + hostKeyAlgorithms : "")
                + (kexAlgorithms != null ? ", kexAlgorithms=" + kexAlgorithms : "") + "]";
    }
}

package id.ktpbridge.testkit;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.CopyOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyEncryptionContext;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.file.virtualfs.VirtualFileSystemFactory;
import org.apache.sshd.common.kex.BuiltinDHFactories;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.signature.BuiltinSignatures;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.server.ServerBuilder;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.server.session.ServerSession;
import org.apache.sshd.sftp.server.DirectoryHandle;
import org.apache.sshd.sftp.server.FileHandle;
import org.apache.sshd.sftp.server.Handle;
import org.apache.sshd.sftp.server.SftpEventListener;
import org.apache.sshd.sftp.server.SftpSubsystem;
import org.apache.sshd.sftp.server.SftpSubsystemConfigurator;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;

/**
 * A real SFTP server (Apache MINA SSHD) on a free loopback port, serving a local folder as its
 * whole file system ({@code /} is {@link #root()}). One user, who logs in with a password and/or
 * any authorized public key. Its host key is fixed for its lifetime, so a known_hosts line can be
 * written for clients that check host keys.
 */
public final class SftpServer implements AutoCloseable {

    private static final KeyPair HOST_KEY = rsaKeyPair();

    private SshServer sshd;
    private int port;
    private final Path root;
    private final String user;
    private final String password;
    private final Set<PublicKey> authorizedKeys = ConcurrentHashMap.newKeySet();
    private final AtomicInteger logins = new AtomicInteger();
    /** Bytes read so far, by file name. */
    private final Map<String, java.util.concurrent.atomic.LongAdder> bytesRead = new ConcurrentHashMap<>();
    /** Reads still to fail, by file name. */
    private final Map<String, AtomicInteger> failReads = new ConcurrentHashMap<>();
    /** Folder names whose listing fails until allowed again. */
    private final Set<String> failListing = ConcurrentHashMap.newKeySet();
    private final Set<String> hangListingOf = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.CountDownLatch listingsReleased = new java.util.concurrent.CountDownLatch(1);
    private final Set<String> refuseListingOf = ConcurrentHashMap.newKeySet();
    private final AtomicInteger listingsRefused = new AtomicInteger();
    /** Folder names no file may be moved into (a rename the server refuses). */
    /** File names whose moves are refused, wherever to. */
    private final Set<String> refuseMovesOf = ConcurrentHashMap.newKeySet();
    /** Moves refused by {@link #refuseMovesOf}, by file name. */
    private final Map<String, AtomicInteger> movesRefused = new ConcurrentHashMap<>();
    private final Set<String> refuseAttributesOf = ConcurrentHashMap.newKeySet();
    private final Set<String> refuseReadsOf = ConcurrentHashMap.newKeySet();
    private final Map<String, AtomicInteger> dropConnectionOnMoveOf = new ConcurrentHashMap<>();
    private final Set<String> loseReplyToMoveOf = ConcurrentHashMap.newKeySet();
    private final Set<String> loseReplyToDeleteOf = ConcurrentHashMap.newKeySet();
    /** What happens on the server while a delete of the file of this name is cut off, by file name. */
    private final Map<String, Runnable> dropConnectionOnDeleteOf = new ConcurrentHashMap<>();
    /** Changes made to a file once a handle of it is closed, by file name (see {@link #afterDownloadOf}). */
    private final Map<String, Runnable> afterDownloadOf = new ConcurrentHashMap<>();
    /** Moves asked of the server (renames, made or not), by the moved file's name. */
    private final Map<String, AtomicInteger> movesAsked = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger readsRefused = new java.util.concurrent.atomic.AtomicInteger();
    /** Looks at these paths (from {@code /}) still to answer before they hang: see {@link #hangLooksAt}. */
    private final Map<String, AtomicInteger> hangLooksAt = new ConcurrentHashMap<>();
    private final AtomicInteger looksHung = new AtomicInteger();
    /** File names whose lost move reply is followed by a dropped connection at the next look: see {@link #loseReplyToMoveOfThenDropTheNextLook}. */
    private final Set<String> dropLookAfterLostMove = ConcurrentHashMap.newKeySet();
    private final Set<String> dropNextLookAt = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.CountDownLatch looksReleased = new java.util.concurrent.CountDownLatch(1);
    /** Whether a stat of a missing path is answered with a generic failure (see {@link #answerMissingWithFailure}). */
    private volatile boolean missingAsFailure;
    private final AtomicInteger missingAnsweredWithFailure = new AtomicInteger();
    /** An older server's algorithms only: see {@link #startSha1Only}. */
    private final boolean sha1Only;

    private SftpServer(Path root, String user, String password, boolean sha1Only) throws IOException {
        this.root = root;
        this.user = user;
        this.password = password;
        this.sha1Only = sha1Only;
        this.sshd = listen(0);
    }

    private SshServer listen(int port) throws IOException {
        SshServer server = SshServer.setUpDefaultServer();
        server.setHost("127.0.0.1");
        server.setPort(port);
        server.setKeyPairProvider(KeyPairProvider.wrap(HOST_KEY));
        if (sha1Only) {
            server.setSignatureFactories(List.of(BuiltinSignatures.rsa));
            server.setKeyExchangeFactories(NamedFactory.setUpTransformedFactories(false,
                    List.of(BuiltinDHFactories.dhg14), ServerBuilder.DH2KEX));
        }
        if (password != null) {
            server.setPasswordAuthenticator((u, p, session) -> {
                boolean ok = user.equals(u) && password.equals(p);
                if (ok) {
                    logins.incrementAndGet();
                }
                return ok;
            });
        } else {
            server.setPasswordAuthenticator(null);
            server.setKeyboardInteractiveAuthenticator(null);
        }
        server.setPublickeyAuthenticator((u, key, session) -> {
            boolean ok = user.equals(u) && authorizedKeys.stream().anyMatch(k -> KeyUtils.compareKeys(k, key));
            if (ok) {
                logins.incrementAndGet();
            }
            return ok;
        });
        SftpSubsystemFactory sftp = new SftpSubsystemFactory() {
            @Override
            public Command createSubsystem(ChannelSession channel) throws IOException {
                if (!missingAsFailure && hangLooksAt.isEmpty() && dropLookAfterLostMove.isEmpty()
                        && dropNextLookAt.isEmpty()) {
                    // MINA's own class, and so its own logger name (outside the bundle's package)
                    return super.createSubsystem(channel);
                }
                SftpSubsystem subsystem = new FaultyLooks(channel, this);
                getRegisteredListeners().forEach(subsystem::addSftpEventListener);
                return subsystem;
            }
        };
        sftp.addSftpEventListener(new SftpEventListener() {
            @Override
            public void reading(ServerSession session, String remoteHandle, FileHandle localHandle, long offset,
                                byte[] data, int dataOffset, int dataLen) throws IOException {
                String name = localHandle.getFile().getFileName().toString();
                if (refuseReadsOf.contains(name)) {
                    readsRefused.incrementAndGet();
                    throw new java.nio.file.AccessDeniedException("not readable by this login (test fault)");
                }
                var left = failReads.get(name);
                if (left != null && left.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    throw new IOException("read broke off (test fault)");
                }
                bytesRead.computeIfAbsent(name, n -> new java.util.concurrent.atomic.LongAdder()).add(dataLen);
            }

            @Override
            public void closed(ServerSession session, String remoteHandle, Handle localHandle, Throwable thrown) {
                // before the reply to the close: the client sees the change in whatever it asks next
                Runnable change = localHandle instanceof FileHandle
                        ? afterDownloadOf.remove(localHandle.getFile().getFileName().toString()) : null;
                if (change != null) {
                    change.run();
                }
            }

            @Override
            public void moving(ServerSession session, Path srcPath, Path dstPath, Collection<CopyOption> opts)
                    throws IOException {
                if (srcPath.getFileName() != null) {
                    movesAsked.computeIfAbsent(srcPath.getFileName().toString(), n -> new AtomicInteger())
                            .incrementAndGet();
                }
                if (srcPath.getFileName() != null && loseReplyToMoveOf.remove(srcPath.getFileName().toString())) {
                    // done, but the connection goes before the reply: the client cannot tell whether it was.
                    // (A plain failure status would be the server's answer, which the bundle does not ask again.)
                    Files.move(srcPath, dstPath);
                    if (dropLookAfterLostMove.remove(srcPath.getFileName().toString())) {
                        dropNextLookAt.add(srcPath.getFileName().toString());
                    }
                    session.close(true);
                    throw new IOException("reply lost (test fault)");
                }
                AtomicInteger drops = srcPath.getFileName() == null ? null
                        : dropConnectionOnMoveOf.get(srcPath.getFileName().toString());
                if (drops != null && drops.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    session.close(true);
                    throw new IOException("connection dropped (test fault)");
                }
                if (srcPath.getFileName() != null && refuseMovesOf.contains(srcPath.getFileName().toString())) {
                    movesRefused.computeIfAbsent(srcPath.getFileName().toString(), n -> new AtomicInteger())
                            .incrementAndGet();
                    throw new java.nio.file.AccessDeniedException("moves refused (test fault)");
                }
            }

            @Override
            public void removing(ServerSession session, Path path, boolean isDirectory) throws IOException {
                String name = path.getFileName() == null ? null : path.getFileName().toString();
                if (name != null && loseReplyToDeleteOf.remove(name)) {
                    // done, but the connection goes before the reply (as for a move, above)
                    Files.delete(path);
                    session.close(true);
                    throw new IOException("reply lost (test fault)");
                }
                Runnable meanwhile = name == null ? null : dropConnectionOnDeleteOf.remove(name);
                if (meanwhile != null) {
                    meanwhile.run();
                    session.close(true);
                    throw new IOException("connection dropped (test fault)");
                }
            }

            @Override
            public void modifyingAttributes(ServerSession session, Path path, Map<String, ?> attrs) throws IOException {
                if (path.getFileName() != null && refuseAttributesOf.contains(path.getFileName().toString())) {
                    throw new java.nio.file.AccessDeniedException("not the owner (test fault)");
                }
            }

            @Override
            public void readingEntries(ServerSession session, String remoteHandle, DirectoryHandle localHandle)
                    throws IOException {
                if (hangListingOf.contains(localHandle.getFile().getFileName().toString())) {
                    // as a server whose folder is on a mount that hangs: no answer until released
                    try {
                        listingsReleased.await(2, java.util.concurrent.TimeUnit.MINUTES);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                if (failListing.contains(localHandle.getFile().getFileName().toString())) {
                    listingsRefused.incrementAndGet();
                    throw new IOException("listing refused (test fault)");
                }
                if (refuseListingOf.contains(localHandle.getFile().getFileName().toString())) {
                    listingsRefused.incrementAndGet();
                    throw new java.nio.file.AccessDeniedException("not listable by this login (test fault)");
                }
            }
        });
        server.setSubsystemFactories(List.of(sftp));
        server.setFileSystemFactory(new VirtualFileSystemFactory(root));
        server.start();
        return server;
    }

    /** @param password null: public keys only (password and keyboard-interactive logins are refused) */
    public static SftpServer start(Path root, String user, String password) {
        return start(root, user, password, false);
    }

    /**
     * An older server: its only host key type is {@code ssh-rsa} and its only key exchange
     * {@code diffie-hellman-group14-sha1} (both SHA-1), which JSch 2.x no longer offers by default.
     */
    public static SftpServer startSha1Only(Path root, String user, String password) {
        return start(root, user, password, true);
    }

    private static SftpServer start(Path root, String user, String password, boolean sha1Only) {
        try {
            Files.createDirectories(root);
            return new SftpServer(root, user, password, sha1Only);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * In SFTP sessions opened from now on, a stat or lstat of a path that does not exist is answered
     * with SSH_FX_FAILURE, not SSH_FX_NO_SUCH_FILE, as Paramiko-based servers and some Windows servers do.
     */
    public void answerMissingWithFailure() {
        missingAsFailure = true;
    }

    /** How many stats of missing paths {@link #answerMissingWithFailure} answered with a failure. */
    public int missingAnsweredWithFailure() {
        return missingAnsweredWithFailure.get();
    }

    /**
     * In SFTP sessions opened from now on, looks ({@code stat}, {@code lstat}) at {@code path} (as
     * {@code /inbox/u1.png}) are answered {@code answered} more times, and then get no answer until
     * {@link #releaseLooks} (the SSH side answers all along): an SFTP side hung on a stuck mount.
     */
    public void hangLooksAt(String path, int answered) {
        hangLooksAt.put(path.replaceFirst("^/+", ""), new AtomicInteger(answered));
    }

    /** How many looks {@link #hangLooksAt} has held so far (released or not). */
    public int looksHung() {
        return looksHung.get();
    }

    public void releaseLooks() {
        looksReleased.countDown();
    }

    /**
     * The SFTP subsystem, with stat and lstat of a missing path answered as {@link
     * #answerMissingWithFailure} says, and those {@link #hangLooksAt} names held.
     */
    private final class FaultyLooks extends SftpSubsystem {
        FaultyLooks(ChannelSession channel, SftpSubsystemConfigurator configurator) {
            super(channel, configurator);
        }

        @Override
        protected Map<String, Object> doStat(int id, String path, int flags) throws IOException {
            dropIfAsked(path);
            hangIfAsked(path);
            try {
                return super.doStat(id, path, flags);
            } catch (java.nio.file.NoSuchFileException | java.io.FileNotFoundException e) {
                throw missing(e);
            }
        }

        @Override
        protected Map<String, Object> doLStat(int id, String path, int flags) throws IOException {
            dropIfAsked(path);
            hangIfAsked(path);
            try {
                return super.doLStat(id, path, flags);
            } catch (java.nio.file.NoSuchFileException | java.io.FileNotFoundException e) {
                throw missing(e);
            }
        }

        private void dropIfAsked(String path) throws IOException {
            int slash = path.lastIndexOf('/');
            if (dropNextLookAt.remove(path.substring(slash + 1))) {
                getServerSession().close(true);
                throw new IOException("connection dropped (test fault)");
            }
        }

        private void hangIfAsked(String path) {
            AtomicInteger answered = hangLooksAt.get(path.replaceFirst("^/+", ""));
            if (answered == null || answered.getAndDecrement() > 0) {
                return;
            }
            looksHung.incrementAndGet();
            try {
                looksReleased.await(2, java.util.concurrent.TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** A plain I/O error, which the subsystem answers with SSH_FX_FAILURE (as asked). */
        private IOException missing(IOException e) {
            if (!missingAsFailure) {
                return e;
            }
            missingAnsweredWithFailure.incrementAndGet();
            return new IOException("failure (test fault)");
        }
    }

    /** How many bytes of files with this name the server was asked to read. */
    public long bytesRead(String fileName) {
        var n = bytesRead.get(fileName);
        return n == null ? 0 : n.sum();
    }

    /** The next read of the file with this name fails, once. */
    public void failNextRead(String fileName) {
        failNextReads(fileName, 1);
    }

    /** The next {@code times} reads of the file with this name fail. */
    public void failNextReads(String fileName, int times) {
        failReads.computeIfAbsent(fileName, n -> new AtomicInteger()).addAndGet(times);
    }

    /** Reads of the file with this name no longer fail (those {@link #failNextReads} had left). */
    public void stopFailingReads(String fileName) {
        failReads.remove(fileName);
    }

    /** Every listing of a folder with this name fails, until {@link #allowListing}. */
    /** Listings of folders of this name are refused with permission denied (another account's folder, mode 0700). */
    public void refuseListingOf(String folderName) {
        refuseListingOf.add(folderName);
    }

    /** Listings of the folder get no answer until {@link #releaseListings} (the SSH side answers all along). */
    public void hangListingOf(String folderName) {
        hangListingOf.add(folderName);
    }

    public void releaseListings() {
        listingsReleased.countDown();
    }

    public void failListing(String folderName) {
        failListing.add(folderName);
    }

    public void allowListing(String folderName) {
        failListing.remove(folderName);
    }

    /**
     * The next move of a file of this name is made, and then the client's connection is dropped
     * before the reply (a reply lost on the way), once.
     */
    public void loseReplyToMoveOf(String fileName) {
        loseReplyToMoveOf.add(fileName);
    }

    /**
     * The next delete of a file of this name is made, and then the client's connection is dropped
     * before the reply (a reply lost on the way), once.
     */
    public void loseReplyToDeleteOf(String fileName) {
        loseReplyToDeleteOf.add(fileName);
    }

    /**
     * The next delete of a file of this name is not made: {@code meanwhile} runs (the server's folder
     * goes away, say) and the client's connection is dropped instead of the reply, once.
     */
    public void dropConnectionOnDeleteOf(String fileName, Runnable meanwhile) {
        dropConnectionOnDeleteOf.put(fileName, meanwhile);
    }

    /**
     * Once the next download of a file of this name is done (its handle closed), {@code change} is
     * made, before the client hears back: an upload that goes on after the bundle took the file. Once.
     */
    public void afterDownloadOf(String fileName, Runnable change) {
        afterDownloadOf.put(fileName, change);
    }

    /** How many moves of files of this name the server was asked for (made, refused or failed). */
    public int movesAsked(String fileName) {
        AtomicInteger n = movesAsked.get(fileName);
        return n == null ? 0 : n.get();
    }

    /**
     * As {@link #loseReplyToMoveOf}, and then the next look ({@code stat}, {@code lstat}) at a file of
     * this name, in a session opened from now on, drops the client's connection instead of its answer:
     * the client's second try, asking whether the file is still there, is cut off too.
     */
    public void loseReplyToMoveOfThenDropTheNextLook(String fileName) {
        dropLookAfterLostMove.add(fileName);
        loseReplyToMoveOf(fileName);
    }

    /** The next move of a file of this name drops the client's connection instead (a network blip), once. */
    public void dropConnectionOnMoveOf(String fileName) {
        dropConnectionOnMoveOf(fileName, 1);
    }

    /** The next {@code times} moves of a file of this name drop the client's connection instead. */
    public void dropConnectionOnMoveOf(String fileName, int times) {
        dropConnectionOnMoveOf.put(fileName, new AtomicInteger(times));
    }

    /** Refuses every read of files of this name (permission denied), as for another account's file of mode 0600. */
    public void refuseReadsOf(String fileName) {
        refuseReadsOf.add(fileName);
    }

    /** Reads refused by {@link #refuseReadsOf}. */
    public int readsRefused() {
        return readsRefused.get();
    }

    /** Refuses changes of the attributes (times, mode) of files of this name, as for another account's files. */
    public void refuseAttributesOf(String fileName) {
        refuseAttributesOf.add(fileName);
    }

    /** Every move of the file with this name is refused, until {@link #allowMovesOf}. */
    public void refuseMovesOf(String fileName) {
        refuseMovesOf.add(fileName);
    }

    /** How many moves of files of this name {@link #refuseMovesOf} refused. */
    public int movesRefused(String fileName) {
        AtomicInteger n = movesRefused.get(fileName);
        return n == null ? 0 : n.get();
    }

    public void allowMovesOf(String fileName) {
        refuseMovesOf.remove(fileName);
    }

    /** How many listings {@link #failListing} refused. */
    public int listingsRefused() {
        return listingsRefused.get();
    }

    public SftpServer authorize(PublicKey key) {
        authorizedKeys.add(key);
        return this;
    }

    public int port() {
        return sshd.isStarted() ? sshd.getPort() : port;
    }

    public String user() {
        return user;
    }

    public String password() {
        return password;
    }

    /** The local folder behind the server's {@code /}. */
    public Path root() {
        return root;
    }

    /** The local file behind a server path such as {@code /inbox/a.png}. */
    public Path path(String remote) {
        return root.resolve(remote.replaceFirst("^/+", ""));
    }

    /** Successful logins so far (password or key). */
    public int logins() {
        return logins.get();
    }

    /** The sessions open now (logged in or not). */
    public int sessions() {
        return sshd.getActiveSessions().size();
    }

    /**
     * From now on a login beyond {@code max} sessions of the user is cut off right after it
     * authenticates ("Too many concurrent connections"), as ProFTPD's MaxClientsPerUser or SFTPGo's
     * max_sessions do; 0: no limit.
     */
    public void limitSessions(int max) {
        if (max > 0) {
            CoreModuleProperties.MAX_CONCURRENT_SESSIONS.set(sshd, max);
        } else {
            CoreModuleProperties.MAX_CONCURRENT_SESSIONS.remove(sshd);
        }
    }

    /** Writes a known_hosts file that trusts this server's host key at its address and port. */
    public Path writeKnownHosts(Path file) {
        try {
            Files.writeString(file, "[127.0.0.1]:" + port() + " " + PublicKeyEntry.toString(HOST_KEY.getPublic()) + "\n",
                    StandardCharsets.US_ASCII);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Stops listening and drops every session (an outage); {@link #resume} listens again on the same port. */
    public void suspend() {
        port = port();
        try {
            sshd.stop(true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void resume() {
        try {
            sshd = listen(port);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            sshd.stop(true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fresh RSA key pair (client or host key). */
    public static KeyPair rsaKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes the private key in OpenSSH format ({@code -----BEGIN OPENSSH PRIVATE KEY-----}), as
     * {@code ssh-keygen} does; encrypted (AES + bcrypt KDF) when a passphrase is given.
     */
    public static Path writePrivateKey(KeyPair keyPair, Path file, String passphrase) {
        OpenSSHKeyEncryptionContext encryption = null;
        if (passphrase != null) {
            encryption = new OpenSSHKeyEncryptionContext();
            encryption.setCipherName("AES");
            encryption.setCipherType("256");
            encryption.setCipherMode("CTR");
            encryption.setPassword(passphrase);
            encryption.setKdfRounds(4);
        }
        try (OutputStream out = Files.newOutputStream(file)) {
            OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(keyPair, "ktp-bridge-test", encryption, out);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}

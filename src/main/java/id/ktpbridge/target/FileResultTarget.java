package id.ktpbridge.target;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

import id.ktpbridge.result.PermanentDeliveryFailure;
import id.ktpbridge.result.ResultPublisher;
import org.apache.camel.Exchange;
import org.apache.camel.InvalidPayloadException;
import org.apache.camel.Message;

/**
 * The file target: each result document becomes {@code <name>.json} in the results folder.
 *
 * <p>The document is written under a hidden temporary name, then renamed over any earlier copy in
 * one step, so a reader sees the old file or the new one, never half of one. With {@code fsync}
 * the temporary file reaches the disk before the rename and the folder after it: the outbox
 * records the delivery once this returns, and a power cut must not leave that record pointing at
 * an empty or missing file. (Camel's file producer writes no data to disk before it renames.)
 *
 * <p>Each file is created with the permissions of {@code ktp.results.file.permissions} (the
 * documents carry NIK, names and addresses: by default readable by the owner and its group only,
 * whatever the process's umask), or with the umask's when that setting is {@code umask}.
 */
public class FileResultTarget {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FileResultTarget.class);

    private static final boolean FOLDER_SYNC_SUPPORTED = File.separatorChar == '/';
    private static final java.time.Duration LEFTOVER_AGE = java.time.Duration.ofHours(1);

    /** {@code ktp.results.file.permissions}'s default. */
    public static final String DEFAULT_PERMISSIONS = "rw-r-----";

    private final Path dir;
    private final boolean fsync;
    private final FileAttribute<?>[] createAttributes;
    /** Set again once created: the umask narrows what creation gives. Null: the umask's. */
    private final Set<PosixFilePermission> mode;
    /** The file the bundle leaves in the results folder at start, to know it again at each delivery. */
    static final String MARKER = ".ktp-results-folder";
    /** The token of the folder's marker at start; null: none could be had, and the folder is not checked. */
    private final String token;
    /** The file system the folder was on at start ({@code unix:dev}); null when unknown. */
    private final Object device;

    /** With the default permissions. */
    public FileResultTarget(Path dir, boolean fsync) {
        this(dir, fsync, DEFAULT_PERMISSIONS);
    }

    /**
     * @param dir         {@code ktp.results.dir}
     * @param fsync       {@code ktp.results.file.fsync}: wait for the disk before the delivery counts
     * @param permissions {@code ktp.results.file.permissions}: {@code rwxrwxrwx} form, or {@code umask}
     *                    (ignored where the file system has no POSIX permissions)
     * @throws IllegalArgumentException for permissions of neither form
     */
    public FileResultTarget(Path dir, boolean fsync, String permissions) {
        this.dir = dir.toAbsolutePath().normalize();
        this.fsync = fsync;
        boolean umask = "umask".equalsIgnoreCase(permissions.trim());
        Set<PosixFilePermission> wanted = umask ? null : PosixFilePermissions.fromString(permissions.trim());
        boolean posix = dir.getFileSystem().supportedFileAttributeViews().contains("posix");
        this.mode = posix ? wanted : null;
        // created no wider than wanted, so the file is never readable beyond it, not even empty
        this.createAttributes = mode == null ? new FileAttribute<?>[0]
                : new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(mode)};
        // made by the start-up checks when the file target is on (StartupChecks), not here
        this.token = mark(this.dir);
        this.device = token == null ? null : device(this.dir);
        removeLeftovers();
    }

    /**
     * The token of {@link #MARKER} in the folder: the one there (an earlier start's, another
     * replica's), else a new one written; null when the folder is not there or takes no file, and
     * then nothing is checked later.
     */
    private static String mark(Path folder) {
        if (!Files.isDirectory(folder)) {
            return null;
        }
        Path marker = folder.resolve(MARKER);
        try {
            if (Files.exists(marker)) {
                return Files.readString(marker, StandardCharsets.UTF_8).trim();
            }
            String token = java.util.UUID.randomUUID().toString();
            Files.writeString(marker, token + "\n", StandardCharsets.UTF_8);
            return token;
        } catch (IOException e) {
            LOG.warn("The results folder (ktp.results.dir) takes no marker file ({}): a share that goes away while"
                    + " the bundle runs is not told from its empty mount point", e.getClass().getSimpleName());
            return null;
        }
    }

    /** The device (file system) the folder is on, as {@code stat} gives it; null when unknown. */
    private static Object device(Path folder) {
        try {
            return Files.getAttribute(folder, "unix:dev");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * The folder there, and the one seen at start: its marker holds the token seen then. Not made
     * here: a share that went away leaves its mount point (or its parent) behind on the local disk,
     * and results written there would count as delivered while hidden from everyone reading the
     * share. The marker is read inside the folder, which also mounts an automounted share again. A
     * marker removed (a clean-up job) from a folder on the device seen at start is written again.
     */
    private void requireFolder() throws IOException {
        if (token == null) {
            if (!Files.isDirectory(dir)) {
                throw new ResultsFolderUnavailable("the results folder (ktp.results.dir) is not there: a share that"
                        + " is not mounted, or a folder removed by hand; the bundle makes it only at start");
            }
            return;
        }
        Path marker = dir.resolve(MARKER);
        String there;
        try {
            there = Files.readString(marker, StandardCharsets.UTF_8).trim();
        } catch (java.nio.file.NoSuchFileException e) {
            there = null;
        }
        if (token.equals(there)) {
            return;
        }
        if (!Files.isDirectory(dir)) {
            throw new ResultsFolderUnavailable("the results folder (ktp.results.dir) is not there: a share that is"
                    + " not mounted, or a folder removed by hand; the bundle makes it only at start");
        }
        if (there == null && device != null && device.equals(device(dir))) {
            Files.writeString(marker, token + "\n", StandardCharsets.UTF_8);
            return;
        }
        throw new ResultsFolderUnavailable("the results folder (ktp.results.dir) is not the one seen at start: its"
                + " file " + MARKER + (there == null ? " is missing and it is on another file system"
                : " is another folder's") + " (a share that went away leaves its mount point on the local disk);"
                + " the results wait until it is back");
    }

    /** The results folder cannot take results now; the delivery is tried again. */
    static final class ResultsFolderUnavailable extends IOException {

        ResultsFolderUnavailable(String message) {
            super(message);
        }
    }

    /**
     * Temporary files of writers killed half-way (each attempt has a name of its own, so none is
     * written over): removed at start once an hour old, which no writer of a running replica
     * sharing the folder takes.
     */
    private void removeLeftovers() {
        if (!Files.isDirectory(dir)) {
            return;
        }
        long before = System.currentTimeMillis() - LEFTOVER_AGE.toMillis();
        try (var files = Files.newDirectoryStream(dir, ".writing-*.tmp")) {
            for (Path f : files) {
                try {
                    if (Files.getLastModifiedTime(f).toMillis() < before) {
                        Files.deleteIfExists(f);
                    }
                } catch (IOException e) {
                    // another replica's, or gone meanwhile: left for a later start
                }
            }
        } catch (IOException e) {
            // an unreadable folder: the first delivery says so
        }
    }

    /** Camel bean method for {@code direct:deliver-file}. */
    public void write(Exchange exchange) throws IOException, InvalidPayloadException {
        Message msg = exchange.getMessage();
        String name = msg.getHeader(ResultPublisher.RESULT_NAME, String.class);
        Path target = target(name);
        byte[] body = msg.getMandatoryBody(String.class).getBytes(StandardCharsets.UTF_8);
        requireFolder();
        // a name of its own per attempt: two writers of one result never share a temporary file
        Path temp = dir.resolve(".writing-" + name + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong())
                + ".tmp");
        try {
            try (FileChannel out = FileChannel.open(temp,
                    Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), createAttributes)) {
                if (mode != null) {
                    setPermissions(temp);
                }
                ByteBuffer buffer = ByteBuffer.wrap(body);
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
                if (fsync) {
                    out.force(true);
                }
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        if (fsync && FOLDER_SYNC_SUPPORTED) {
            // the rename lives in the folder's own data
            try (FileChannel folder = FileChannel.open(dir, StandardOpenOption.READ)) {
                folder.force(true);
            }
        }
        msg.setHeader(Exchange.FILE_NAME_PRODUCED, target.toString());
    }

    /** Warned once: a folder on a mount without POSIX modes refuses every chmod. */
    private final java.util.concurrent.atomic.AtomicBoolean permissionsRefused = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * The mount of the results folder may keep no POSIX modes (vfat, exFAT, some SMB shares) though
     * the JVM's file system has them: chmod is refused there, and the file keeps what its creation
     * gave it (the mount's own rule); the delivery goes on.
     */
    private void setPermissions(Path file) {
        try {
            Files.setPosixFilePermissions(file, mode);
        } catch (IOException | UnsupportedOperationException e) {
            if (permissionsRefused.compareAndSet(false, true)) {
                org.slf4j.LoggerFactory.getLogger(FileResultTarget.class).warn("The results folder's file system refused"
                        + " to set result files' permissions ({}): they keep the mount's own; set"
                        + " ktp.results.file.permissions=umask to stop trying", e.getClass().getSimpleName());
            }
        }
    }

    private Path target(String name) {
        Path target = name == null || name.isBlank() ? null : dir.resolve(name + ".json").normalize();
        if (target == null || !dir.equals(target.getParent()) || name.startsWith(".")) {
            throw new PermanentDeliveryFailure("result name '" + name + "' is not a plain file name");
        }
        return target;
    }
}

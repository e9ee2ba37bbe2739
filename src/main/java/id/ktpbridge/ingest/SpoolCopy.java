package id.ktpbridge.ingest;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The copy of one input's bytes, written while the input is inspected and uploaded from later, so
 * the bytes sent are the bytes hashed. It is held in memory while the bundle's {@link Budget} has
 * room for it, else written to a spool file of its own. In memory it costs the disk nothing: a
 * spool file is a create, a write, a read and a delete per image, and on a file system that skips
 * recently freed inodes (ext4 without a journal) every delete makes later creates dearer.
 *
 * <p>Not thread-safe: one worker writes it; {@link #release()} is called once its input is done.
 */
public final class SpoolCopy extends OutputStream {

    /** Bytes all copies held in memory may take together. */
    public static final class Budget {
        private final long limit;
        private final AtomicLong used = new AtomicLong();

        public Budget(long limit) {
            if (limit < 0) {
                throw new IllegalArgumentException("a spool memory budget cannot be negative: " + limit);
            }
            this.limit = limit;
        }

        boolean reserve(long bytes) {
            while (true) {
                long now = used.get();
                if (now + bytes > limit) {
                    return false;
                }
                if (used.compareAndSet(now, now + bytes)) {
                    return true;
                }
            }
        }

        void giveBack(long bytes) {
            used.addAndGet(-bytes);
        }

        /** Bytes held in memory by copies not yet released. */
        public long used() {
            return used.get();
        }
    }

    private final Budget budget;
    private final Path file;
    private long reserved;
    private byte[] held;
    private int count;
    private OutputStream out;
    private boolean onDisk;
    private boolean released;

    private SpoolCopy(Budget budget, Path file) {
        this.budget = budget;
        this.file = file;
    }

    /**
     * A copy for an input of {@code expectedSize} bytes (-1: not known): in memory when the budget has
     * room for that size, else in {@code file}, created at once.
     *
     * @throws ImageInspector.SpoolFailure when the spool file cannot be created (a full disk)
     */
    public static SpoolCopy open(Budget budget, Path file, long expectedSize) throws ImageInspector.SpoolFailure {
        SpoolCopy copy = new SpoolCopy(budget, file);
        if (expectedSize >= 0 && expectedSize <= Integer.MAX_VALUE - 8 && budget.reserve(expectedSize)) {
            try {
                copy.held = new byte[(int) expectedSize];
            } catch (OutOfMemoryError e) {
                budget.giveBack(expectedSize);
                throw e;
            }
            copy.reserved = expectedSize;
        } else {
            copy.toDisk();
        }
        return copy;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (!onDisk && count + (long) len > held.length && !grow(count + (long) len)) {
            toDisk();
        }
        if (onDisk) {
            try {
                out.write(b, off, len);
            } catch (IOException e) {
                throw new ImageInspector.SpoolFailure(e);
            }
            return;
        }
        System.arraycopy(b, off, held, count, len);
        count += len;
    }

    /** A file that grew since its size was read: more memory if the budget has it. */
    private boolean grow(long needed) {
        if (needed > Integer.MAX_VALUE - 8) {
            return false;
        }
        // doubling (from 64 KB for a file listed empty), not one read's worth at a time; to the spool
        // file when the budget has no room for that (growing by each read would copy it each time)
        long want = Math.max(needed, Math.min(held.length == 0 ? 64 * 1024 : held.length * 2L, Integer.MAX_VALUE - 8));
        if (!budget.reserve(want - reserved)) {
            return false;
        }
        try {
            held = Arrays.copyOf(held, (int) want);
        } catch (OutOfMemoryError e) {
            budget.giveBack(want - reserved);
            return false;
        }
        reserved = want;
        return true;
    }

    /** Moves what is held so far to the spool file, and gives its memory back. */
    private void toDisk() throws ImageInspector.SpoolFailure {
        try {
            Files.createDirectories(file.getParent());
            out = Files.newOutputStream(file);
            onDisk = true;
            if (count > 0) {
                out.write(held, 0, count);
            }
        } catch (IOException e) {
            throw new ImageInspector.SpoolFailure(e);
        } finally {
            held = null;
            count = 0;
            budget.giveBack(reserved);
            reserved = 0;
        }
    }

    @Override
    public void close() throws IOException {
        if (out != null) {
            try {
                out.close();
            } catch (IOException e) {
                throw new ImageInspector.SpoolFailure(e);
            }
        }
    }

    /** The spool file, or null while the copy is held in memory. */
    public Path file() {
        return onDisk ? file : null;
    }

    /**
     * The bytes written, or null when they went to the spool file.
     *
     * @throws IllegalStateException once released: its input is done, and its bytes are gone
     */
    public byte[] held() {
        if (onDisk) {
            return null;
        }
        if (released) {
            throw new IllegalStateException("the copy was released with its input");
        }
        if (count != held.length) {
            // a file that shrank since its size was read
            held = Arrays.copyOf(held, count);
        }
        return held;
    }

    /**
     * Gives the memory back, or deletes the spool file. Once, when the input's exchange ends: the
     * bytes are not used after that.
     */
    public void release() throws IOException {
        if (released) {
            return;
        }
        released = true;
        budget.giveBack(reserved);
        reserved = 0;
        held = null;
        if (onDisk) {
            try {
                close();
            } finally {
                Files.deleteIfExists(file);
            }
        }
    }
}

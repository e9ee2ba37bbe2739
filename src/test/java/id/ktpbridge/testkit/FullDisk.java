package id.ktpbridge.testkit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;

import org.h2.store.fs.FileBaseDefault;
import org.h2.store.fs.FilePath;
import org.h2.store.fs.FilePathWrapper;

/**
 * An H2 file system ({@code full:}, in front of another: {@code jdbc:h2:full:async:/dir/ledger})
 * whose writes fail as a full disk's do while {@link #fill} holds, and work again after
 * {@link #free}; reads always work. A real full disk needs a file system of its own to fill
 * (a tmpfs mount, which needs root).
 */
public final class FullDisk extends FilePathWrapper {

    private static volatile boolean full;

    static {
        FilePath.register(new FullDisk());
    }

    /** The URL prefix, registered once this class is loaded. */
    public static String prefix() {
        return "full:";
    }

    /** From now on every write to a file opened through {@code full:} fails. */
    public static void fill() {
        full = true;
    }

    /** Writes work again. */
    public static void free() {
        full = false;
    }

    @Override
    public String getScheme() {
        return "full";
    }

    @Override
    public FileChannel open(String mode) throws IOException {
        return new Channel(getBase().open(mode));
    }

    private static final class Channel extends FileBaseDefault {

        private final FileChannel base;

        Channel(FileChannel base) {
            this.base = base;
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return base.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            if (full) {
                throw new IOException("No space left on device");
            }
            return base.write(src, position);
        }

        @Override
        public long size() throws IOException {
            return base.size();
        }

        @Override
        protected void implTruncate(long newLength) throws IOException {
            base.truncate(newLength);
        }

        @Override
        public void force(boolean metaData) throws IOException {
            base.force(metaData);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return base.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            base.close();
        }
    }
}

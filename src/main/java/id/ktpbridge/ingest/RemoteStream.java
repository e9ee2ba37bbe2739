package id.ktpbridge.ingest;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * The body of an input read straight from a remote store (an S3 object). A read that breaks off
 * there (a reset connection, a read timeout, a body shorter than announced) says nothing about the
 * input, so it surfaces as {@link BrokenOff} and the input is taken again later, instead of being
 * rejected as unreadable. The store's client reports some of these as unchecked exceptions.
 */
public final class RemoteStream extends FilterInputStream {

    public RemoteStream(InputStream in) {
        super(in);
    }

    @Override
    public int read() throws IOException {
        try {
            return super.read();
        } catch (IOException | RuntimeException e) {
            throw new BrokenOff(e);
        }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        try {
            return super.read(b, off, len);
        } catch (IOException | RuntimeException e) {
            throw new BrokenOff(e);
        }
    }

    @Override
    public long skip(long n) throws IOException {
        try {
            return super.skip(n);
        } catch (IOException | RuntimeException e) {
            throw new BrokenOff(e);
        }
    }

    /** Reading the remote body failed part-way: a passing failure of the store, not of the input. */
    public static final class BrokenOff extends IOException {
        BrokenOff(Exception cause) {
            super(cause);
        }
    }
}

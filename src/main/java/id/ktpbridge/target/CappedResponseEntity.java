package id.ktpbridge.target;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.io.entity.HttpEntityWrapper;

/**
 * An answer of which at most {@code max} bytes are read: past them it reads as ended. Closed
 * before its end, it closes the connection rather than reading the rest (the client's way, to
 * keep the connection, which an endless answer never lets end), unless its length says the rest
 * is within {@code max}. A read after the exchange's deadline fails as its timeout, also when the
 * closed connection reads as an end.
 */
final class CappedResponseEntity extends HttpEntityWrapper {

    private final int max;
    private final HttpTargetLimits.Deadline deadline;
    private CappedStream content;

    CappedResponseEntity(HttpEntity answer, int max, HttpTargetLimits.Deadline deadline) {
        super(answer);
        this.max = max;
        this.deadline = deadline;
    }

    @Override
    public long getContentLength() {
        long length = super.getContentLength();
        return length <= max ? length : -1;
    }

    /** The same stream every time: the client's stream would read from where the cap left off. */
    @Override
    public synchronized InputStream getContent() throws IOException {
        if (content == null) {
            content = new CappedStream(super.getContent());
        }
        return content;
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
        try (InputStream in = getContent()) {
            in.transferTo(out);
        }
    }

    @Override
    public void close() throws IOException {
        getContent().close();
    }

    private final class CappedStream extends InputStream {

        private final InputStream in;
        private int left = max;
        private boolean ended;
        private boolean closed;

        CappedStream(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (ended || left == 0) {
                return -1;
            }
            if (deadline.passed()) {
                throw deadline.exceeded();
            }
            int n;
            try {
                n = in.read(b, off, Math.min(len, left));
            } catch (IOException e) {
                throw deadline.passed() ? deadline.exceeded() : e;
            }
            if (n < 0) {
                if (deadline.passed()) {
                    throw deadline.exceeded(); // a closed connection ends an answer without a length
                }
                ended = true;
                deadline.end();
                return -1;
            }
            left -= n;
            return n;
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            // Camel reads an answer of a known small length to its length, not to its end
            long length = CappedResponseEntity.super.getContentLength();
            boolean restWithinCap = length >= 0 && length <= max;
            try {
                if (!ended && !restWithinCap) {
                    deadline.discardConnection();
                }
                in.close();
            } catch (IOException e) {
                if (ended) {
                    throw e;
                }
                // the rest of the answer, not wanted, could not be read: the connection is closed with it
            } finally {
                deadline.end();
            }
        }
    }
}

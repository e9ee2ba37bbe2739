package id.ktpbridge.ledger;

/**
 * Puts each write made outside the ledger's own statements (the JDBC target's rows) on disk
 * before its caller goes on: {@link #beginWrite} before the write's statement or transaction
 * starts, {@link #written} once it committed. Begun first, a write whose commit returned just
 * before H2 closed the database under the pool is known as lost even if it is counted after the
 * closure (see {@link DurableFlush}).
 */
public interface WriteFlush {

    /** For a database whose commits are durable by themselves (PostgreSQL). */
    WriteFlush NONE = new WriteFlush() {
        @Override
        public long beginWrite() {
            return 0;
        }

        @Override
        public void written(long began) {
            // durable at its commit
        }
    };

    /** Before the write starts: what {@link #written} is given once it committed. */
    long beginWrite();

    /**
     * After the write's commit: returns once it is on disk, or throws a
     * {@linkplain LedgerException#isStoreFailure store failure} if H2 may have dropped it (closed
     * the database since {@code began}, or before the write was flushed).
     */
    void written(long began);
}

package id.ktpbridge.ledger;

import java.sql.SQLException;

import org.h2.api.ErrorCode;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.MVStoreException;

/**
 * How H2 says that its database file failed under it. A write to the file that fails (a full
 * disk, an I/O error) ends in an {@link MVStoreException}; H2 then closes the database (at once or
 * at its next write), the commits it had not yet written to the file are gone, and every later
 * statement on any of its sessions fails with {@code DATABASE_IS_CLOSED} (90098), whatever the
 * disk does meanwhile. Only a new session opens the file again.
 */
final class H2StoreFailures {

    private H2StoreFailures() {
    }

    /** H2 has closed the database under the session (90098), after such a failure or a stop. */
    static boolean closed(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException sql && sql.getErrorCode() == ErrorCode.DATABASE_IS_CLOSED
                    && String.valueOf(ErrorCode.DATABASE_IS_CLOSED).equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    /**
     * The database was closed under the session, or its file could not be read or written: the
     * commits not yet written to the file may be lost, and the same statement may work once the
     * file is opened again (see {@link ClosedDatabaseEviction}).
     */
    static boolean failed(Throwable failure) {
        if (closed(failure)) {
            return true;
        }
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof MVStoreException store) {
                int code = store.getErrorCode();
                if (code == DataUtils.ERROR_READING_FAILED || code == DataUtils.ERROR_WRITING_FAILED
                        || code == DataUtils.ERROR_CLOSED) {
                    return true;
                }
            }
        }
        return false;
    }
}

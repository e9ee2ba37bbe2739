package id.ktpbridge.ledger;

import java.sql.SQLException;

import com.zaxxer.hikari.SQLExceptionOverride;

/**
 * Drops a pooled connection whose server refused a write as read-only (SQL state 25006). After a
 * failover the old primary often stays up as a standby: the connections opened to it before stay
 * valid, and every write on them fails, until HikariCP's max lifetime (30 min) retires them. A new
 * connection resolves the database's address again and reaches the new primary. HikariCP's own
 * rules (connection errors, a server shutting down) still apply to every other error.
 */
final class ReadOnlyServerEviction implements SQLExceptionOverride {

    static final String READ_ONLY_TRANSACTION = "25006";

    @java.lang.Override
    public SQLExceptionOverride.Override adjudicate(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && READ_ONLY_TRANSACTION.equals(sql.getSQLState())) {
                return SQLExceptionOverride.Override.MUST_EVICT;
            }
        }
        return SQLExceptionOverride.Override.CONTINUE_EVICT;
    }
}

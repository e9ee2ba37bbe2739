package id.ktpbridge.ledger;

import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.Set;

import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/** The ledger database refused or failed an operation. */
public class LedgerException extends RuntimeException {

    /** The longest wait between two tries of a step that failed transiently ({@link #isTransient}). */
    public static final long MAX_RETRY_DELAY_MILLIS = 10_000;

    /**
     * PostgreSQL: the server is shutting down, crashed, not accepting connections yet, or closed an
     * idle session; a statement cancelled (a statement timeout, an operator); a lock not had in time;
     * a write sent to a server that is read-only now (25006: a primary demoted by a failover, reached
     * by a pooled connection or a stale DNS answer while the new one takes writes).
     */
    private static final Set<String> PASSING_STATES = Set.of("57P01", "57P02", "57P03", "57P05", "57014", "55P03",
            "25006");
    /**
     * SQL state classes the server's own state explains, not the statement: 53 insufficient
     * resources (disk full, out of memory, too many connections), 58 system error (an I/O error).
     */
    private static final Set<String> PASSING_CLASSES = Set.of("53", "58");
    /**
     * SQL state classes that say a value was refused (22 data exception: too long, out of range;
     * 54 program limit exceeded): the same value fails the same way at every try.
     */
    private static final Set<String> REFUSED_VALUE_CLASSES = Set.of("22", "54");

    private final boolean duplicateKey;
    private final boolean transientFailure;
    private final boolean storeFailure;
    private final boolean refusedValue;

    public LedgerException(String message) {
        super(message);
        this.duplicateKey = false;
        this.transientFailure = false;
        this.storeFailure = false;
        this.refusedValue = false;
    }

    private LedgerException(String message, boolean storeFailure) {
        super(message);
        this.duplicateKey = false;
        this.transientFailure = storeFailure;
        this.storeFailure = storeFailure;
        this.refusedValue = false;
    }

    /** A failure as {@link #isStoreFailure}, found by the bundle itself (see {@link DurableFlush}). */
    static LedgerException storeFailure(String message) {
        return new LedgerException(message, true);
    }

    /**
     * The driver's exception is not kept as the cause: its message, and its causes', can quote a
     * whole row (an H2 lock timeout names the locked row in its cause's), and a cause is printed
     * with any logged stack trace. A copy of the chain is kept instead: each link's class, SQL state
     * and stack trace, and its message up to the first value it may quote (see {@link RedactedCause}).
     */
    public LedgerException(SQLException cause) {
        super("Ledger database error" + (cause.getSQLState() == null ? "" : " (SQL state " + cause.getSQLState() + ")")
                + ": " + redacted(cause.getMessage()) + where(cause), RedactedCause.of(cause));
        this.duplicateKey = duplicateKey(cause);
        this.storeFailure = H2StoreFailures.failed(cause);
        this.transientFailure = storeFailure || isTransient(cause);
        this.refusedValue = !transientFailure && inClass(cause, REFUSED_VALUE_CLASSES);
    }

    /**
     * A link of a driver exception's cause chain: its class, SQL state and message up to the first
     * quote, bracket, brace, parenthesis or equals sign (where a row or a value starts: H2's store names a
     * locked row as {@code {id=[...]}}), with long digit runs masked. What a connection failure
     * says ("Connection to db:5432 refused", "password authentication failed for user") stays.
     */
    static final class RedactedCause extends Exception {

        private RedactedCause(Throwable original, RedactedCause cause) {
            super(original.getClass().getName() + (original instanceof SQLException sql && sql.getSQLState() != null
                    ? " (SQL state " + sql.getSQLState() + ")" : "") + message(original), cause, false, true);
            setStackTrace(original.getStackTrace());
        }

        private static String message(Throwable original) {
            String text = redacted(original.getMessage());
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '[' || c == '{' || c == '=' || c == '(') {
                    text = text.substring(0, i).stripTrailing() + " …";
                    break;
                }
            }
            text = id.ktpbridge.LogSafe.text(text, 300);
            return text.isBlank() ? "" : ": " + text;
        }

        static RedactedCause of(Throwable original) {
            java.util.List<Throwable> chain = new java.util.ArrayList<>();
            for (Throwable t = original; t != null && chain.size() < 10 && !chain.contains(t); t = t.getCause()) {
                chain.add(t);
            }
            RedactedCause link = null;
            for (int i = chain.size() - 1; i >= 0; i--) {
                link = new RedactedCause(chain.get(i), link);
            }
            return link;
        }
    }

    /**
     * The driver's message without the values it quotes: H2 names the value that did not fit, and
     * a statement's parameters; PostgreSQL quotes a refused value in the first line and the whole
     * row in the lines after ("Detail: Failing row contains (...)", "Key (...)=(...)"). Any of them
     * can be a result document, a file name or a partner user id, so a NIK or a name.
     */
    static String redacted(String message) {
        if (message == null) {
            return "";
        }
        int newline = message.indexOf('\n');
        String text = newline < 0 ? message : message.substring(0, newline);
        // everything from the first quote on: H2 cuts long values short, so the closing quote may be missing
        int quote = -1;
        for (int i = 0; i < text.length() && quote < 0; i++) {
            if (text.charAt(i) == '\'' || text.charAt(i) == '"') {
                quote = i;
            }
        }
        text = quote < 0 ? text : text.substring(0, quote).stripTrailing() + " …";
        return text.length() <= 300 ? text : text.substring(0, 300) + "…";
    }

    /** The table and constraint PostgreSQL names apart from the values, which the redaction cut off. */
    private static String where(SQLException e) {
        ServerErrorMessage server = e instanceof PSQLException pg ? pg.getServerErrorMessage() : null;
        if (server == null || server.getTable() == null && server.getConstraint() == null) {
            return "";
        }
        return " (" + (server.getTable() == null ? "" : "table " + server.getTable())
                + (server.getTable() != null && server.getConstraint() != null ? ", " : "")
                + (server.getConstraint() == null ? "" : "constraint " + server.getConstraint()) + ")";
    }

    /** The statement broke a primary key or a unique index (SQL state 23505 on H2 and PostgreSQL). */
    public boolean isDuplicateKey() {
        return duplicateKey;
    }

    private static boolean duplicateKey(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && "23505".equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the same statement may well succeed if tried again: the connection broke, the pool
     * had none to give, the server restarted, is read-only for now (a failover) or short of room,
     * the statement timed out or waited too long for a lock (H2's lock timeout is a
     * {@link SQLTransientException}), or the transaction lost a conflict; not a wrong statement, a
     * refused value or a right missing. An
     * {@linkplain #isStoreFailure embedded database whose file failed} counts too: the pool opens
     * the file again, and the statement works once the file can be written (space freed); taken
     * as for good, the input or outcome it was for would end FAILED (the failed step,
     * RESULT_NOT_STORED) once the file opens again.
     */
    public boolean isTransient() {
        return transientFailure;
    }

    /**
     * The embedded H2 database could not read or write its file, or has closed itself after that
     * (a full disk, an I/O error): the commits it had not yet written to the file may be lost.
     */
    public boolean isStoreFailure() {
        return storeFailure;
    }

    /**
     * The database refused a value the statement carried (see {@link #REFUSED_VALUE_CLASSES}): the
     * same statement would fail the same way at every later try, unlike a server that is away,
     * read-only for now or short of room, or a permission taken away for a while.
     */
    public boolean isRefusedValue() {
        return refusedValue;
    }

    private static boolean isTransient(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof SQLTransientException || t instanceof SQLRecoverableException) {
                return true;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                String state = sql.getSQLState();
                // 08: connection exception; 40: transaction rollback (serialization failure, deadlock)
                if (state.startsWith("08") || state.startsWith("40") || PASSING_STATES.contains(state)) {
                    return true;
                }
            }
        }
        return inClass(cause, PASSING_CLASSES);
    }

    /** Whether a link of the chain has a SQL state of one of {@code classes}. */
    private static boolean inClass(Throwable cause, Set<String> classes) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null && sql.getSQLState().length() == 5
                    && classes.contains(sql.getSQLState().substring(0, 2))) {
                return true;
            }
        }
        return false;
    }
}

package id.ktpbridge.ledger;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
import java.sql.SQLIntegrityConstraintViolationException;
import java.sql.SQLTransientConnectionException;

import org.h2.api.ErrorCode;
import org.h2.message.DbException;
import org.h2.mvstore.DataUtils;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

class LedgerExceptionTest {

    @Test
    void aLostConnectionOrARestartingServerIsWorthTryingAgain() {
        assertTrue(new LedgerException(new SQLTransientConnectionException("pool timed out")).isTransient());
        assertTrue(new LedgerException(new SQLException("I/O error", "08006")).isTransient());
        assertTrue(new LedgerException(new SQLException("terminating connection", "57P01")).isTransient());
        assertTrue(new LedgerException(new SQLException("could not serialize", "40001")).isTransient());
        SQLException wrapped = new SQLException("batch failed", "XX000", new SQLException("reset", "08003"));
        assertTrue(new LedgerException(wrapped).isTransient(), "the cause chain counts");
    }

    @Test
    void aServerReadOnlyAfterAFailoverShortOfRoomOrCancellingIsWorthTryingAgain() {
        for (String state : new String[] {"25006", "57014", "55P03", "57P05", "53100", "53200", "53300", "58030"}) {
            LedgerException e = new LedgerException(new SQLException("server says no", state));
            assertTrue(e.isTransient(), state);
            assertFalse(e.isRefusedValue(), state);
        }
    }

    @Test
    void onlyAValueTheDatabaseRefusesFailsTheSameWayAtEveryTry() {
        assertTrue(new LedgerException(new SQLException("value too long", "22001")).isRefusedValue());
        assertTrue(new LedgerException(new SQLException("row is too big", "54000")).isRefusedValue());
        assertFalse(new LedgerException(new SQLException("permission denied", "42501")).isRefusedValue(),
                "a right can be given back");
        assertFalse(new LedgerException(new SQLException("I/O error", "08006")).isRefusedValue());
        assertFalse(new LedgerException("Ledger row x was not in the expected state").isRefusedValue());
    }

    @Test
    void aWrongStatementOrAConstraintIsNot() {
        assertFalse(new LedgerException(new SQLIntegrityConstraintViolationException("duplicate", "23505")).isTransient());
        assertFalse(new LedgerException(new SQLException("syntax error", "42601")).isTransient());
        assertFalse(new LedgerException(new SQLException("no state")).isTransient());
        assertFalse(new LedgerException("Ledger row x was not in the expected state").isTransient());
    }

    @Test
    void anEmbeddedDatabaseWhoseFileFailedIsWorthTryingAgainAndSaysItMayHaveLostCommits() {
        // H2 closed the database after a failed write to its file: the pool opens it anew
        LedgerException closed = new LedgerException(DbException.get(ErrorCode.DATABASE_IS_CLOSED).getSQLException());
        assertTrue(closed.isTransient());
        assertTrue(closed.isStoreFailure());
        // the failed write itself, as CHECKPOINT SYNC or a statement that wrote meets it
        SQLException write = DbException.convert(DataUtils.newMVStoreException(DataUtils.ERROR_INTERNAL, "{0}",
                new java.util.concurrent.ExecutionException(DataUtils.newMVStoreException(
                        DataUtils.ERROR_WRITING_FAILED, "Writing to {0} failed", "async:/data/ledger.mv.db"))))
                .getSQLException();
        assertTrue(new LedgerException(write).isTransient());
        assertTrue(new LedgerException(write).isStoreFailure());

        // the store's other errors are not about its file: a lock timeout, a value refused
        SQLException locked = DbException.convert(DataUtils.newMVStoreException(DataUtils.ERROR_TRANSACTION_LOCKED,
                "Map {0} is locked", "ktp_submission")).getSQLException();
        assertFalse(new LedgerException(locked).isStoreFailure());
        assertFalse(new LedgerException(new SQLException("value too long", "22001")).isStoreFailure());
        assertFalse(new LedgerException(new SQLTransientConnectionException("pool timed out")).isStoreFailure());
    }

    @Test
    void theMessageLeavesOutTheValuesTheDriverQuotes() {
        String h2 = "Value too long for column \"RESULT_JSON CHARACTER VARYING(1000000)\": \"U&'{\\000a  \"\"nik\"\" : "
                + "\"\"3201010101010001\"\"... (1100658)\"; SQL statement: UPDATE ktp_submission SET result_json = ?";
        String message = new LedgerException(new java.sql.SQLException(h2, "22001")).getMessage();
        assertTrue(message.startsWith("Ledger database error (SQL state 22001): Value too long for column"), message);
        assertFalse(message.contains("3201010101010001"), message);
        assertFalse(new LedgerException(new java.sql.SQLException("x 'alpha' y 'bravo'")).getMessage().contains("bravo"));
    }

    @Test
    void aPostgresRefusalKeepsItsTableAndConstraintButNotTheRow() {
        // as the server sends it: severity, state, message, detail, table, constraint
        PSQLException refused = new PSQLException(new ServerErrorMessage("SERROR\0C23502\0Mnull value in column"
                + " \"partner_user_id\" of relation \"ktp_submission\" violates not-null constraint\0DFailing row"
                + " contains (9f1c, null, u3201010101010001.png, {\"nik\": \"3201010101010001\"}).\0tktp_submission\0"
                + "nktp_submission_partner_user_id_not_null\0"));
        assertTrue(refused.getMessage().contains("3201010101010001"), "the driver's own message holds the row");
        String message = new LedgerException(refused).getMessage();
        assertFalse(message.contains("3201010101010001"), message);
        assertTrue(message.startsWith("Ledger database error (SQL state 23502): ERROR: null value in column …"), message);
        assertTrue(message.endsWith("(table ktp_submission, constraint ktp_submission_partner_user_id_not_null)"),
                message);
        // a value PostgreSQL quotes in the first line
        assertFalse(new LedgerException(new SQLException("ERROR: invalid input syntax for type json: \"3201010101010001"
                + "\"", "22P02")).getMessage().contains("3201010101010001"));
    }

    @Test
    void aLoggedStackTraceHoldsNoValueFromTheDriversCauses() {
        // H2's lock timeout: the store's error, as the cause, names the locked row
        SQLException timeout = new SQLException("Timeout trying to lock table", "HYT00",
                new IllegalStateException("Map ktp_submission(4): row {9f1c=[file:/in/3201010101010001.png, "
                        + "3201010101010001, https://storage.example/x?X-Amz-Signature=abc]}"));
        LedgerException e = new LedgerException(timeout);
        java.io.StringWriter printed = new java.io.StringWriter();
        e.printStackTrace(new java.io.PrintWriter(printed));
        assertFalse(printed.toString().contains("3201010101010001"), printed.toString());
        assertFalse(printed.toString().contains("X-Amz-Signature"), printed.toString());
        assertTrue(printed.toString().contains("Caused by: " + LedgerException.RedactedCause.class.getName()
                + ": java.lang.IllegalStateException: Map ktp_submission …"), "each cause's class stays: " + printed);
        // what a connection failure says stays readable
        SQLException refused = new SQLException("Connection is not available", "08001",
                new SQLException("Connection to db:5432 refused. Check that the hostname and port are correct", "08001"));
        java.io.StringWriter trace = new java.io.StringWriter();
        new LedgerException(refused).printStackTrace(new java.io.PrintWriter(trace));
        assertTrue(trace.toString().contains("Connection to db:5432 refused"), trace.toString());
        assertTrue(printed.toString().contains("SQL state HYT00"), printed.toString());

        assertTrue(new LedgerException(new SQLException("batch", "XX000",
                new SQLIntegrityConstraintViolationException("duplicate", "23505"))).isDuplicateKey());
    }
}

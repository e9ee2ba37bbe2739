package id.ktpbridge.ledger;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
import java.sql.SQLIntegrityConstraintViolationException;
import java.sql.SQLTransientConnectionException;

import org.junit.jupiter.api.Test;

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
    void aWrongStatementOrAConstraintIsNot() {
        assertFalse(new LedgerException(new SQLIntegrityConstraintViolationException("duplicate", "23505")).isTransient());
        assertFalse(new LedgerException(new SQLException("syntax error", "42601")).isTransient());
        assertFalse(new LedgerException(new SQLException("no state")).isTransient());
        assertFalse(new LedgerException("Ledger row x was not in the expected state").isTransient());
    }
}

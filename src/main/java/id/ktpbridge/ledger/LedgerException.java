package id.ktpbridge.ledger;

import java.sql.SQLException;

/** The ledger database refused or failed an operation. */
public class LedgerException extends RuntimeException {

    public LedgerException(String message) {
        super(message);
    }

    public LedgerException(SQLException cause) {
        super("Ledger database error: " + cause.getMessage(), cause);
    }
}

package id.ktpbridge.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import javax.sql.DataSource;

import id.ktpbridge.testkit.PostgresServer;
import org.junit.jupiter.api.Test;

/**
 * A pooled PostgreSQL connection whose server refused a write as read-only (a primary demoted by a
 * failover) is dropped, so the next statement opens a new one (to the new primary), instead of
 * meeting the same refusal on it until the pool retires it half an hour later.
 */
class ReadOnlyServerEvictionTest {

    @Test
    void aConnectionRefusedAsReadOnlyIsNotHandedOutAgain() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            String url = pg.createDatabase("ktp_eviction");
            DataSources.Pool pool = DataSources.create(url, "postgres", "", 1, "eviction-test", Duration.ofSeconds(30));
            try {
                DataSource ds = pool.dataSource();
                try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                    s.execute("CREATE TABLE t (v INT)");
                }
                int first;
                try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                    first = backend(s);
                    // this session only, as a connection still open to the old primary sees it
                    s.execute("SET SESSION default_transaction_read_only = on");
                    SQLException refused = assertThrows(SQLException.class, () -> s.execute("INSERT INTO t VALUES (1)"));
                    assertEquals("25006", refused.getSQLState());
                }
                try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                    assertNotEquals(first, backend(s), "a new connection, not the read-only one");
                    s.execute("INSERT INTO t VALUES (2)");
                }
            } finally {
                pool.closer().close();
            }
        }
    }

    private static int backend(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}

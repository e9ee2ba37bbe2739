package id.ktpbridge.ledger;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import id.ktpbridge.testkit.PostgresServer;
import id.ktpbridge.testkit.SilentProxy;
import org.junit.jupiter.api.Test;

/** The pool's connections to PostgreSQL give up on a server that stops answering. */
class DataSourcesTest {

    @Test
    void aStatementToAServerThatFellSilentFailsAfterTheSocketTimeout() throws Exception {
        try (PostgresServer pg = PostgresServer.start(); SilentProxy proxy = new SilentProxy(pg.port())) {
            DataSources.Pool pool = DataSources.create("jdbc:postgresql://127.0.0.1:" + proxy.port() + "/postgres",
                    "postgres", "", 1, "silent-test", Duration.ofSeconds(2));
            try {
                // without the limit the driver waits for an answer for ever: the check gives up at 30 s
                assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
                    try (Connection c = pool.dataSource().getConnection(); Statement s = c.createStatement()) {
                        try (ResultSet rs = s.executeQuery("SELECT 1")) {
                            assertTrue(rs.next());
                        }
                        proxy.silence();
                        assertThrows(SQLException.class, () -> s.executeQuery("SELECT 2"));
                    }
                });
            } finally {
                // a connection still waiting ends with its socket
                proxy.close();
                pool.closer().close();
            }
        }
    }
}

package id.ktpbridge.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import id.ktpbridge.testkit.PostgresServer;
import id.ktpbridge.testkit.SilentProxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The pool's connections to PostgreSQL give up on a server that stops answering, but not on a long
 * migration; migrations run once across instances; the Quartz schema comes with its lock rows.
 */
class PostgresConnectionsAndMigrationsTest {

    private static PostgresServer pg;

    @BeforeAll
    static void startPostgres() throws Exception {
        pg = PostgresServer.start();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        pg.close();
    }

    @Test
    void aStatementToAServerThatFellSilentFailsAfterTheSocketTimeout() throws Exception {
        try (SilentProxy proxy = new SilentProxy(pg.port())) {
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

    @Test
    void poolConnectionsHaveTheServersKeepAlivesSetSoAVanishedHostsSessionsEnd() throws Exception {
        DataSources.Pool pool = DataSources.create("jdbc:postgresql://127.0.0.1:" + pg.port() + "/postgres",
                "postgres", "", 2, "keepalive-test", Duration.ofSeconds(30));
        try (Connection c = pool.dataSource().getConnection(); Statement s = c.createStatement()) {
            for (String[] setting : new String[][] {{"tcp_keepalives_idle", "15"}, {"tcp_keepalives_interval", "5"},
                    {"tcp_keepalives_count", "3"}}) {
                try (ResultSet rs = s.executeQuery("SHOW " + setting[0])) {
                    assertTrue(rs.next());
                    // shown with its unit ("15s") on a TCP connection
                    assertEquals(setting[1], rs.getString(1).replaceAll("[^0-9]", ""), setting[0]);
                }
            }
        } finally {
            pool.closer().close();
        }
    }

    @Test
    void theQuartzSchemaComesWithTheRowsQuartzLocks() throws Exception {
        DataSources.Pool pool = DataSources.create(pg.createDatabase("quartz_schema"), "postgres", "", 2,
                "quartz-test", Duration.ofSeconds(30));
        try {
            SchemaMigrator.migrate(pool.dataSource(), "ktp_quartz_schema_version", "db/quartz",
                    id.ktpbridge.collect.ClusteredQuartz.QUARTZ_SCRIPTS);
            try (Connection c = pool.dataSource().getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT sched_name, lock_name FROM qrtz_locks ORDER BY lock_name")) {
                List<String> rows = new java.util.ArrayList<>();
                while (rs.next()) {
                    rows.add(rs.getString(1) + "/" + rs.getString(2));
                }
                String name = id.ktpbridge.collect.ClusteredQuartz.SCHEDULER_NAME;
                assertEquals(List.of(name + "/STATE_ACCESS", name + "/TRIGGER_ACCESS"), rows);
            }
        } finally {
            pool.closer().close();
        }
    }

    @Test
    void migrationsOutlastTheSocketTimeoutAndTwoInstancesApplyEachScriptOnce() throws Exception {
        String url = pg.createDatabase("slow_migration");
        DataSources.Pool pool = DataSources.create(url, "postgres", "", 4, "migration-test", Duration.ofSeconds(1));
        try {
            // two instances starting together; the script takes 2 s, twice the socket timeout
            Runnable migrate = () -> SchemaMigrator.migrate(pool.dataSource(), "slow_history", "db/test-slow",
                    List.of("V1__slow.sql"));
            CompletableFuture.allOf(CompletableFuture.runAsync(migrate), CompletableFuture.runAsync(migrate)).get();
            try (Connection c = pool.dataSource().getConnection(); Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM slow_history")) {
                    assertTrue(rs.next());
                    assertEquals(1, rs.getInt(1), "applied once");
                }
            }
        } finally {
            pool.closer().close();
        }
        // the pool's limit is back on the connection a migration used (one connection: the same one)
        DataSources.Pool single = DataSources.create(url, "postgres", "", 1, "migration-test-1", Duration.ofSeconds(1));
        try {
            SchemaMigrator.migrate(single.dataSource(), "slow_history", "db/test-slow", List.of("V1__slow.sql"));
            try (Connection c = single.dataSource().getConnection(); Statement s = c.createStatement()) {
                assertThrows(SQLException.class, () -> s.execute("SELECT pg_sleep(3)"));
            }
        } finally {
            single.closer().close();
        }
    }
}

package id.ktpbridge.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import id.ktpbridge.collect.ClusteredQuartz;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.BridgeProcess;
import id.ktpbridge.testkit.PostgresServer;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.quartz.QuartzComponent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.quartz.JobExecutionContext;
import org.quartz.Trigger;
import org.quartz.listeners.TriggerListenerSupport;

/**
 * Quartz in cluster mode, beside the rest of an instance: its check-ins go on while the ledger's
 * pool is used up (a slow database, the workers holding every connection), and an instance that
 * starts stopping leaves the poll ticks to the others at once, not only once its stop is over.
 */
class ClusteredQuartzTest {

    private static final long INTERVAL = 500;

    @TempDir
    Path work;

    @Test
    void checkInsGoOnWhileTheLedgerPoolIsUsedUp() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            String db = pg.createDatabase("ktp_quartz_pool");
            BridgeApp app = BridgeApp.start(work, Map.of("ktp.cluster.enabled", "true",
                    "ktp.cluster.instance-id", "pool-node", "ktp.cluster.checkin-interval", "1000",
                    "ktp.db.max-connections", "4", "ktp.db.url", db, "ktp.db.user", "postgres"));
            List<Connection> held = new ArrayList<>();
            try {
                await().atMost(Duration.ofSeconds(20)).until(() -> lastCheckin(db, "pool-node") > 0);
                HikariDataSource ledger = app.bean("ktpDataSource", DataSource.class).unwrap(HikariDataSource.class);
                for (int i = 0; i < 4; i++) {
                    held.add(ledger.getConnection());
                }
                assertEquals(0, ledger.getHikariPoolMXBean().getIdleConnections(), "the ledger's pool is used up");
                assertEquals(4, ledger.getHikariPoolMXBean().getActiveConnections(), "the ledger's pool is used up");

                // Quartz checks in every second; on the ledger's pool a check-in waited 10 s for a
                // connection and failed, and the other instances took this one for dead meanwhile
                long usedUpAt = System.currentTimeMillis();
                await().atMost(Duration.ofSeconds(8)).pollInterval(Duration.ofMillis(200))
                        .until(() -> lastCheckin(db, "pool-node") >= usedUpAt + 3_000);
            } finally {
                for (Connection c : held) {
                    c.close();
                }
                app.close();
            }
        }
    }

    @Test
    void aStoppingInstanceLeavesTheTicksToAnotherAtOnce() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            String db = pg.createDatabase("ktp_quartz_stop");
            BridgeApp leaving = BridgeApp.start(Files.createDirectories(work.resolve("leaving")), Map.of(
                    "ktp.cluster.enabled", "true", "ktp.cluster.instance-id", "leaving",
                    "ktp.cluster.checkin-interval", "1000", "ktp.poll.interval", String.valueOf(INTERVAL),
                    "ktp.db.url", db, "ktp.db.user", "postgres"));
            AtomicLong stopStartedAt = new AtomicLong();
            AtomicLong firesAfterStop = new AtomicLong();
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<Void> stopped = null;
            BridgeProcess staying = null;
            try {
                leaving.context().getComponent("quartz", QuartzComponent.class).getScheduler().getListenerManager()
                        .addTriggerListener(new TriggerListenerSupport() {
                            @Override
                            public String getName() {
                                return "fires-after-stop";
                            }

                            @Override
                            public void triggerFired(Trigger trigger, JobExecutionContext context) {
                                // a tick the scheduler had taken when the stop began may still fire at once
                                long stopping = stopStartedAt.get();
                                if (stopping > 0 && System.currentTimeMillis() > stopping + 1_000) {
                                    firesAfterStop.incrementAndGet();
                                }
                            }
                        });
                // an exchange in flight holds the stop in Camel's wait for the routes, as a submission
                // under way does, with the quartz route's consumer already stopped
                leaving.context().addRoutes(new RouteBuilder() {
                    @Override
                    public void configure() {
                        from("direct:hold-the-stop").routeId("hold-the-stop")
                                .process(e -> release.await(25, TimeUnit.SECONDS));
                    }
                });
                // the first instance takes the ticks from the start; the second one, started later, finds
                // the trigger taken and waits
                await().atMost(Duration.ofSeconds(20)).until(() -> holders(db).equals(Set.of("leaving")));
                int managementPort = BridgeApp.freePort();
                Map<String, String> env = new HashMap<>();
                env.put("KTP_DATA_DIR", Files.createDirectories(work.resolve("staying")).toString());
                env.put("KTP_CALLBACK_PORT", String.valueOf(BridgeApp.freePort()));
                env.put("KTP_MANAGEMENT_PORT", String.valueOf(managementPort));
                Map<String, String> props = new HashMap<>();
                props.put("ktp.cluster.enabled", "true");
                props.put("ktp.cluster.instance-id", "staying");
                props.put("ktp.cluster.checkin-interval", "1000");
                props.put("ktp.db.url", db);
                props.put("ktp.db.user", "postgres");
                props.put("ktp.poll.interval", String.valueOf(INTERVAL));
                props.put("camel.server.host", "127.0.0.1");
                props.put("camel.management.host", "127.0.0.1");
                Path logs = Files.createDirectories(Path.of(System.getProperty("ktp.test.output", "target/test-output")));
                Path log = logs.resolve("quartz-stop-staying.log");
                Files.deleteIfExists(log);
                staying = BridgeProcess.start(work, env, props, log);
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
                        .until(() -> ticks(managementPort) >= 0);
                await().atMost(Duration.ofSeconds(20)).until(() -> schedulers(db).contains("staying"));
                // the stop begins while the leaving instance holds the trigger
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                        .until(() -> holders(db).equals(Set.of("leaving")));
                long before = ticks(managementPort);
                leaving.context().createProducerTemplate().asyncSendBody("direct:hold-the-stop", "");
                await().atMost(Duration.ofSeconds(5)).until(() -> leaving.context().getInflightRepository()
                        .size("hold-the-stop") == 1);
                stopStartedAt.set(System.currentTimeMillis());
                stopped = CompletableFuture.runAsync(leaving::close);

                // the other instance ticks within its idle wait (5 s), while the stop is still held up;
                // before, the leaving instance kept the trigger until its stop was over, and the other one
                // looked again only up to 30 s later
                await().atMost(Duration.ofSeconds(12)).pollInterval(Duration.ofMillis(200))
                        .until(() -> ticks(managementPort) >= before + 3);
                assertFalse(stopped.isDone(), "the stop is still held up by the exchange in flight");
                assertEquals(0, firesAfterStop.get(), "the leaving instance fired ticks into its stopped route");
            } finally {
                release.countDown();
                if (stopped != null) {
                    stopped.get(60, TimeUnit.SECONDS);
                } else {
                    leaving.close();
                }
                if (staying != null) {
                    staying.kill();
                }
            }
        }
    }

    /** The instances holding the poll trigger (acquired, or firing it) right now. */
    private static Set<String> holders(String db) throws Exception {
        return names(db, "SELECT instance_name FROM qrtz_fired_triggers WHERE sched_name = ?");
    }

    /** Instances checked in to the Quartz cluster. */
    private static Set<String> schedulers(String db) throws Exception {
        return names(db, "SELECT instance_name FROM qrtz_scheduler_state WHERE sched_name = ?");
    }

    private static Set<String> names(String db, String sql) throws Exception {
        Set<String> names = new HashSet<>();
        try (Connection c = DriverManager.getConnection(db, "postgres", "");
             PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, ClusteredQuartz.SCHEDULER_NAME);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
        } catch (java.sql.SQLException e) {
            // the tables appear with the first instance's migration
        }
        return names;
    }

    /** The instance's last Quartz check-in (ms since the epoch), or 0 before its first. */
    private static long lastCheckin(String db, String instance) throws Exception {
        try (Connection c = DriverManager.getConnection(db, "postgres", "");
             PreparedStatement ps = c.prepareStatement("SELECT last_checkin_time FROM qrtz_scheduler_state"
                     + " WHERE sched_name = ? AND instance_name = ?")) {
            ps.setString(1, ClusteredQuartz.SCHEDULER_NAME);
            ps.setString(2, instance);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        } catch (java.sql.SQLException e) {
            return 0;
        }
    }

    private long ticks(int managementPort) {
        return PollTicks.read(managementPort);
    }
}

package id.ktpbridge.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

import id.ktpbridge.collect.ClusteredQuartz;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.BridgeProcess;
import id.ktpbridge.testkit.PostgresServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The poll schedule of cluster mode: three instances in their own JVMs share one Quartz trigger in
 * PostgreSQL. Across the cluster each tick of the schedule runs once, not once per instance, and
 * when the instance doing most of the ticking is killed with SIGKILL the others carry on ticking,
 * still once per tick.
 */
class ClusteredPollScheduleTest {

    private static final long INTERVAL = 500;

    @TempDir
    Path work;

    @Test
    void eachTickRunsOnOneInstanceAndAnotherTakesOverWhenItDies() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            String db = pg.createDatabase("ktp_schedule");
            Path logs = Files.createDirectories(Path.of(System.getProperty("ktp.test.output", "target/test-output")));
            List<BridgeProcess> processes = new ArrayList<>();
            List<Integer> managementPorts = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    int managementPort = BridgeApp.freePort();
                    Map<String, String> env = new HashMap<>();
                    env.put("KTP_DATA_DIR", Files.createDirectories(work.resolve("node" + i)).toString());
                    env.put("KTP_CALLBACK_PORT", String.valueOf(BridgeApp.freePort()));
                    env.put("KTP_MANAGEMENT_PORT", String.valueOf(managementPort));
                    Map<String, String> props = new HashMap<>();
                    props.put("ktp.cluster.enabled", "true");
                    props.put("ktp.cluster.instance-id", "node" + i);
                    props.put("ktp.cluster.checkin-interval", "1000");
                    props.put("ktp.db.url", db);
                    props.put("ktp.db.user", "postgres");
                    props.put("ktp.poll.interval", String.valueOf(INTERVAL));
                    props.put("camel.server.host", "127.0.0.1");
                    props.put("camel.management.host", "127.0.0.1");
                    Path log = logs.resolve("schedule-node" + i + ".log");
                    Files.deleteIfExists(log);
                    processes.add(BridgeProcess.start(work, env, props, log));
                    managementPorts.add(managementPort);
                }
                List<Integer> all = List.of(0, 1, 2);
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
                        .until(() -> all.stream().allMatch(i -> ticks(managementPorts.get(i)) >= 0));
                // every instance has joined the Quartz cluster, and the schedule runs
                await().atMost(Duration.ofSeconds(20)).until(() -> schedulers(db).equals(Set.of("node0", "node1", "node2")));
                await().atMost(Duration.ofSeconds(20)).until(() -> sum(ticks(managementPorts, all)) >= 2);

                long windowStart = System.nanoTime();
                long[] before = ticks(managementPorts, all);
                await().during(Duration.ofSeconds(6)).atMost(Duration.ofSeconds(20))
                        .until(() -> processes.stream().allMatch(BridgeProcess::isAlive));
                // however slowly a loaded machine lets the schedule run, it does run
                await().atMost(Duration.ofSeconds(60)).until(() -> sum(ticks(managementPorts, all)) - sum(before) >= 3);
                long[] after = ticks(managementPorts, all);
                assertNoDoubleTicks(sum(after) - sum(before), windowStart, "three instances");

                assertTriggerStored(db);

                // the instance that took most of the window's ticks dies without a word
                int busiest = 0;
                for (int i = 1; i < 3; i++) {
                    if (after[i] - before[i] > after[busiest] - before[busiest]) {
                        busiest = i;
                    }
                }
                processes.get(busiest).kill();
                String dead = "node" + busiest;
                List<Integer> survivors = all.stream().filter(i -> !("node" + i).equals(dead)).toList();
                // the survivors find it missing from its check-ins and take its trigger over ...
                await().atMost(Duration.ofSeconds(60)).until(() -> !schedulers(db).contains(dead));
                // ... and tick again, still once per tick
                long resumedAt = System.nanoTime();
                long[] resumed = ticks(managementPorts, survivors);
                await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(20))
                        .until(() -> survivors.stream().allMatch(i -> processes.get(i).isAlive()));
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> sum(ticks(managementPorts, survivors)) - sum(resumed) >= 3);
                long[] later = ticks(managementPorts, survivors);
                assertNoDoubleTicks(sum(later) - sum(resumed), resumedAt, "the two survivors");
            } finally {
                for (BridgeProcess p : processes) {
                    p.kill();
                }
            }
        }
    }

    /**
     * Ticks counted since {@code since} (taken before the first count was read): at most one per
     * slot of the schedule, never one per instance. Only an upper bound, which load cannot break: a
     * slow instance fires fewer ticks (Quartz skips late ones), never more. The slack: a slot cut by
     * each end of the window, and the one tick that may have been under way when it opened.
     */
    private static void assertNoDoubleTicks(long fired, long since, String who) {
        long slots = (System.nanoTime() - since) / 1_000_000 / INTERVAL;
        assertTrue(fired <= slots + 3, who + " ran " + fired + " ticks in " + slots + " slots of the schedule");
    }

    /** The shared trigger: one row in Quartz's tables, with the configured interval. */
    private static void assertTriggerStored(String db) throws Exception {
        try (Connection c = DriverManager.getConnection(db, "postgres", "");
             PreparedStatement ps = c.prepareStatement("SELECT t.trigger_group, t.trigger_name, s.repeat_interval"
                     + " FROM qrtz_triggers t JOIN qrtz_simple_triggers s ON s.sched_name = t.sched_name"
                     + " AND s.trigger_name = t.trigger_name AND s.trigger_group = t.trigger_group"
                     + " WHERE t.sched_name = ?")) {
            ps.setString(1, ClusteredQuartz.SCHEDULER_NAME);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), "the poll trigger is stored in PostgreSQL");
                assertEquals("ktp/poll-due", rs.getString(1) + "/" + rs.getString(2));
                assertEquals(INTERVAL, rs.getLong(3));
                assertFalse(rs.next(), "one trigger for the whole cluster");
            }
        }
    }

    /** Instances checked in to the Quartz cluster. */
    private static Set<String> schedulers(String db) throws Exception {
        Set<String> names = new HashSet<>();
        try (Connection c = DriverManager.getConnection(db, "postgres", "");
             PreparedStatement ps = c.prepareStatement(
                     "SELECT instance_name FROM qrtz_scheduler_state WHERE sched_name = ?")) {
            ps.setString(1, ClusteredQuartz.SCHEDULER_NAME);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
        } catch (java.sql.SQLException e) {
            // the table appears with the first instance's migration
        }
        return names;
    }

    private long[] ticks(List<Integer> ports, List<Integer> which) throws Exception {
        long[] counts = new long[ports.size()];
        for (int i : which) {
            counts[i] = ticks(ports.get(i));
            assertTrue(counts[i] >= 0, "metrics of node" + i + " readable");
        }
        return counts;
    }

    private long ticks(int managementPort) {
        return PollTicks.read(managementPort);
    }

    private static long sum(long[] counts) {
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        return total;
    }
}

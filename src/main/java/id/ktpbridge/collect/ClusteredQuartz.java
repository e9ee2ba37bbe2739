package id.ktpbridge.collect;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import id.ktpbridge.Settings;
import id.ktpbridge.ledger.SchemaMigrator;
import org.apache.camel.CamelContext;
import org.apache.camel.component.quartz.QuartzComponent;
import org.apache.camel.support.LifecycleStrategySupport;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.impl.jdbcjobstore.JobStoreTX;
import org.quartz.impl.jdbcjobstore.PostgreSQLDelegate;
import org.quartz.utils.ConnectionProvider;
import org.quartz.utils.DBConnectionManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The poll schedule of cluster mode. camel-quartz keeps the trigger of {@code routes/poll-status.yaml}
 * in the shared PostgreSQL database (Quartz's JDBC job store, clustered): each tick is taken by one
 * instance, and when that instance stops checking in another one takes the trigger over. Without
 * cluster mode none of this is set up and Quartz keeps its trigger in memory.
 * <p>
 * What the instances must share for this to work: the scheduler name below (every Quartz row is
 * keyed by it), the Camel context name ({@code camel.main.name}: the job record names the context
 * whose endpoint it fires, and the instance that takes the tick looks up its own context by that
 * name) and {@code ktp.poll.interval} (an instance starting with another interval reschedules the
 * shared trigger). Each needs its own {@code ktp.cluster.instance-id}, which is its Quartz id.
 * <p>
 * Quartz works on a small pool of its own ({@link #CONNECTIONS}): on the ledger's pool, workers
 * filling it while the database is slow held up Quartz's check-in until the other instances took
 * this live one for dead and fired its tick a second time. A stopping instance puts its scheduler
 * in standby before its routes stop, so it no longer takes ticks it would fire into a stopped route.
 */
public final class ClusteredQuartz {

    /** The Quartz schema's migrations, oldest first (V2 names {@link #SCHEDULER_NAME}). */
    public static final List<String> QUARTZ_SCRIPTS = List.of("V1__quartz_tables.sql", "V2__lock_rows.sql");

    /** Quartz's {@code sched_name}: the same on every instance of the bundle. */
    public static final String SCHEDULER_NAME = "ktp-scan-bridge";

    /**
     * Quartz's own connections: its scheduler thread (or the tick's worker when a tick ends), its
     * misfire handler and its cluster check-in each have one without waiting for another.
     */
    public static final int CONNECTIONS = 3;

    /**
     * How long an instance that found no tick to take waits before it looks again: the longest a
     * tick waits for another instance once the one that held it stops taking ticks (Quartz's 30 s
     * default left the cluster without ticks that long at each instance's stop).
     */
    private static final long IDLE_WAIT_MILLIS = 5_000;

    private static final Logger LOG = LoggerFactory.getLogger(ClusteredQuartz.class);

    private ClusteredQuartz() {
    }

    /**
     * Migrates the Quartz tables and points the {@code quartz} component at them.
     *
     * @param quartzPool the ledger database's pool of {@link #CONNECTIONS} for Quartz alone; the
     *     bundle closes it once the context has stopped (after the {@code quartz} component)
     */
    public static void configure(CamelContext context, DataSource ledger, DataSource quartzPool, String instanceId,
                                 Settings s) {
        // under SchemaMigrator's advisory lock: instances starting together create the tables once
        SchemaMigrator.migrate(ledger, "ktp_quartz_schema_version", "db/quartz", QUARTZ_SCRIPTS);

        // Quartz looks its data source up by name in a JVM-wide registry; handing it a pool of the
        // bundle's there keeps it from building one of its own from connection settings
        String dataSourceName = "ktp-quartz-" + instanceId;
        DBConnectionManager.getInstance().addConnectionProvider(dataSourceName, new PoolConnections(quartzPool));

        long interval = s.duration("ktp.poll.interval", Duration.ofSeconds(1)).toMillis();
        long checkin = s.duration("ktp.cluster.checkin-interval", Duration.ofSeconds(5)).toMillis();
        QuartzComponent quartz = context.getComponent("quartz", QuartzComponent.class);
        quartz.setProperties(Map.ofEntries(
                Map.entry("org.quartz.scheduler.instanceName", SCHEDULER_NAME),
                Map.entry("org.quartz.scheduler.instanceId", instanceId),
                // one job to run, the poll tick, and never two of its fires at once
                Map.entry("org.quartz.threadPool.threadCount", "1"),
                Map.entry("org.quartz.scheduler.idleWaitTime", String.valueOf(IDLE_WAIT_MILLIS)),
                Map.entry("org.quartz.jobStore.class", JobStoreTX.class.getName()),
                Map.entry("org.quartz.jobStore.driverDelegateClass", PostgreSQLDelegate.class.getName()),
                Map.entry("org.quartz.jobStore.dataSource", dataSourceName),
                Map.entry("org.quartz.jobStore.tablePrefix", "QRTZ_"),
                Map.entry("org.quartz.jobStore.isClustered", "true"),
                // an instance is taken for dead 7.5 s after a missed check-in, and its tick handed on
                Map.entry("org.quartz.jobStore.clusterCheckinInterval", String.valueOf(checkin)),
                // a tick that is a whole interval late (a long tick, a take-over) is skipped to the next
                // slot instead of being fired in a burst of catch-up ticks
                Map.entry("org.quartz.jobStore.misfireThreshold", String.valueOf(Math.max(interval, 1000)))));
        // the default adds the context name to the scheduler name; the shared name must stay as is
        quartz.setPrefixInstanceName(false);
        // before the routes stop: the quartz route's consumer stops first, and a clustered store's
        // trigger is not paused with it, so the scheduler went on taking the ticks and firing them
        // into the stopped route until the component stopped, the shutdown's wait later (up to
        // camel.main.shutdown-timeout)
        context.addLifecycleStrategy(LifecycleStrategySupport.adapt(
                LifecycleStrategySupport.onCamelContextStopping(stopping -> standby(quartz))));
        LOG.info("Poll schedule kept in the ledger database (Quartz clustered job store, instance {})", instanceId);
    }

    /**
     * Takes no more ticks. Quartz hands back a tick it had taken and not yet fired (one due within
     * 70 ms still fires, into the route that still runs), which the other instances take within
     * {@link #IDLE_WAIT_MILLIS}; a tick under way runs to its end, which the route's stop waits for.
     */
    private static void standby(QuartzComponent quartz) {
        Scheduler scheduler = quartz.getScheduler();
        try {
            if (scheduler != null && scheduler.isStarted() && !scheduler.isShutdown()) {
                scheduler.standby();
                LOG.info("Stopping: poll ticks left to the other instances of the cluster");
            }
        } catch (SchedulerException e) {
            LOG.warn("Poll schedule not put in standby at the stop (the other instances take the ticks once"
                    + " this one has stopped): {}", e.getMessage());
        }
    }

    /** A pool of the bundle's, lent to Quartz; the bundle closes it, so Quartz's shutdown leaves it open. */
    private static final class PoolConnections implements ConnectionProvider {

        private final DataSource dataSource;

        PoolConnections(DataSource dataSource) {
            this.dataSource = dataSource;
        }

        @Override
        public Connection getConnection() throws SQLException {
            return dataSource.getConnection();
        }

        @Override
        public void shutdown() {
        }

        @Override
        public void initialize() {
        }
    }
}

package id.ktpbridge.ledger;

import java.time.Duration;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

/**
 * Pooled data sources (HikariCP) for the embedded H2 database and PostgreSQL alike. HikariCP keeps
 * the physical connections open, so H2 reuses its parsed statements per session; H2's own pool
 * hands out fresh handles that parse every statement again (about four times the cost).
 */
public final class DataSources {

    private DataSources() {
    }

    /** A pool and the way to close it. */
    public record Pool(DataSource dataSource, AutoCloseable closer) {
    }

    /** A pool without a socket timeout (see below). */
    public static Pool create(String url, String user, String password, int maxConnections, String name) {
        return create(url, user, password, maxConnections, name, Duration.ZERO);
    }

    /**
     * @param socketTimeout on PostgreSQL, how long a statement waits for the server's answer before
     *     its connection counts as lost (0: for ever). A server that went away without closing the
     *     connection (a host crash, a failover to a new address) never answers: without a limit the
     *     caller waits for good. A {@code socketTimeout} in the URL wins.
     */
    public static Pool create(String url, String user, String password, int maxConnections, String name,
                              Duration socketTimeout) {
        return create(url, user, password, maxConnections, name, socketTimeout, 10_000);
    }

    /**
     * As {@link #create(String, String, String, int, String, Duration)}, but the first connection is
     * tried once (its failure is thrown after a second), not again and again for 10 s: for a database
     * whose outages the caller waits out itself, opening it again later.
     */
    public static Pool createTryingOnce(String url, String user, String password, int maxConnections, String name,
                                        Duration socketTimeout) {
        return create(url, user, password, maxConnections, name, socketTimeout, 1);
    }

    private static Pool create(String url, String user, String password, int maxConnections, String name,
                               Duration socketTimeout, long initializationFailTimeout) {
        HikariConfig config = new HikariConfig();
        if (url.startsWith("jdbc:postgresql:") && !socketTimeout.isZero()) {
            config.addDataSourceProperty("socketTimeout", String.valueOf(Math.max(1, socketTimeout.toSeconds())));
            config.addDataSourceProperty("tcpKeepAlive", "true");
        }
        config.setJdbcUrl(H2FileUrls.forLedger(url));
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(maxConnections);
        if (url.startsWith("jdbc:postgresql:")) {
            // opened as the load asks for them, not all at the start: replicas starting together
            // (a rolling update) do not take the server's connections before they need them. H2
            // keeps all of them open: it reuses parsed statements only on a connection that stays
            config.setMinimumIdle(Math.min(maxConnections, 4));
            // the server's side of the keep-alives too, as the instance lock's: the sessions of a
            // host that vanished (power lost, a partition) are ended within half a minute, not after
            // the OS's two hours, with any row lock of theirs (a Quartz trigger's, say) and their
            // place among the server's connections
            config.setConnectionInitSql(InstanceLock.SERVER_KEEPALIVES);
        }
        config.setPoolName(name);
        config.setConnectionTimeout(10_000);
        config.setInitializationFailTimeout(initializationFailTimeout);
        if (!url.startsWith("jdbc:h2:")) {
            // a server a failover left read-only is not asked again on the same connection
            config.setExceptionOverride(new ReadOnlyServerEviction());
            HikariDataSource ds = new HikariDataSource(config);
            return new Pool(ds, ds::close);
        }
        // a file the last process left open is rebuilt before it is used (see H2UncleanStop)
        H2UncleanStop.Release release = H2UncleanStop.opening(url, user, password, maxConnections);
        try {
            // a database H2 closed after a failed write is opened anew, not kept dead until a restart
            ClosedDatabaseEviction eviction = new ClosedDatabaseEviction();
            config.setExceptionOverride(eviction);
            HikariDataSource ds = new HikariDataSource(config);
            eviction.pool(ds);
            // H2's checkpoints must not meet a statement half-way (see CheckpointGate)
            CheckpointGate gate = new CheckpointGate(ds, eviction);
            // the file was cut off as a kill cuts it, and is opened again as it is
            gate.onClosure(() -> release.keep("H2 closed it after a failed write"));
            return new Pool(gate, () -> {
                try {
                    ds.close();
                } finally {
                    int open = gate.openConnections();
                    if (open > 0) {
                        // the pool gives up on connections still in use: H2 keeps the file open
                        release.keep(open + " connection(s) still in use at the close");
                    }
                    release.close();
                }
            });
        } catch (RuntimeException e) {
            release.close();
            throw e;
        }
    }
}

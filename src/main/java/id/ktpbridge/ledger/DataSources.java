package id.ktpbridge.ledger;

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

    public static Pool create(String url, String user, String password, int maxConnections, String name) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(H2FileUrls.forLedger(url));
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(maxConnections);
        config.setPoolName(name);
        config.setConnectionTimeout(10_000);
        config.setInitializationFailTimeout(10_000);
        HikariDataSource ds = new HikariDataSource(config);
        // H2's checkpoints must not meet a statement half-way (see CheckpointGate)
        return new Pool(url.startsWith("jdbc:h2:") ? new CheckpointGate(ds) : ds, ds::close);
    }
}

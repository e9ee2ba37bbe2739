package id.ktpbridge.ledger;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.h2.jdbcx.JdbcConnectionPool;

/** Pooled data sources: H2's own pool for the embedded database, HikariCP for anything else (PostgreSQL). */
public final class DataSources {

    private DataSources() {
    }

    /** A pool and the way to close it. */
    public record Pool(DataSource dataSource, AutoCloseable closer) {
    }

    public static Pool create(String url, String user, String password, int maxConnections, String name) {
        if (url.startsWith("jdbc:h2:")) {
            JdbcConnectionPool pool = JdbcConnectionPool.create(url, user, password);
            pool.setMaxConnections(maxConnections);
            return new Pool(pool, pool::dispose);
        }
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(maxConnections);
        config.setPoolName(name);
        config.setConnectionTimeout(10_000);
        config.setInitializationFailTimeout(10_000);
        HikariDataSource ds = new HikariDataSource(config);
        return new Pool(ds, ds::close);
    }
}

package id.ktpbridge.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;

import javax.sql.DataSource;

/**
 * Named leases in the ledger database: at most one instance holds a name at a time, until its
 * lease runs out or it renews it. The poller takes the {@code poll-tick} lease outside cluster
 * mode; in cluster mode Quartz's clustered job store hands each tick to one instance instead.
 */
public class Leases {

    private final DataSource dataSource;
    private final String holder;
    /** Every holder of a name must read the same time (the database's rows compare epoch ms). */
    private final Clock clock;

    public Leases(DataSource dataSource, String holder) {
        this(dataSource, holder, Clock.systemUTC());
    }

    Leases(DataSource dataSource, String holder, Clock clock) {
        this.dataSource = dataSource;
        this.holder = holder;
        this.clock = clock;
    }

    public String holder() {
        return holder;
    }

    /** Takes or renews the lease; false when another holder's lease is still running. */
    public boolean tryHold(String name, long forMillis) {
        long now = clock.millis();
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("UPDATE ktp_lease SET holder = ?, held_until = ?"
                    + " WHERE name = ? AND (holder = ? OR held_until < ?)")) {
                ps.setString(1, holder);
                ps.setLong(2, now + forMillis);
                ps.setString(3, name);
                ps.setString(4, holder);
                ps.setLong(5, now);
                if (ps.executeUpdate() == 1) {
                    return true;
                }
            }
            // a lease another holds is the usual case: no failed statement for it (a PostgreSQL server
            // logs each one); only two first holders at the same moment meet the key
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO ktp_lease (name, holder, held_until)"
                    + " SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM ktp_lease WHERE name = ?)")) {
                ps.setString(1, name);
                ps.setString(2, holder);
                ps.setLong(3, now + forMillis);
                ps.setString(4, name);
                return ps.executeUpdate() == 1;
            } catch (SQLException e) {
                if (e.getSQLState() != null && e.getSQLState().startsWith("23")) {
                    return false;
                }
                throw e;
            }
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }
}

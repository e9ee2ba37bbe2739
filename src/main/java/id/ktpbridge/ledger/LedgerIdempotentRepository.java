package id.ktpbridge.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

import javax.sql.DataSource;

import org.apache.camel.spi.IdempotentRepository;
import org.apache.camel.support.service.ServiceSupport;

/**
 * Remembers which inputs a source has taken, in the ledger database, so nothing is submitted
 * twice after a restart. One instance per source ({@code repository} names it); the primary key
 * makes {@link #add} atomic across threads and instances.
 */
public class LedgerIdempotentRepository extends ServiceSupport implements IdempotentRepository {

    private final DataSource dataSource;
    private final String repository;

    public LedgerIdempotentRepository(DataSource dataSource, String repository) {
        this.dataSource = dataSource;
        this.repository = repository;
    }

    @Override
    public boolean add(String key) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "INSERT INTO ktp_processed_input (repository, input_key, created_at) VALUES (?, ?, ?)")) {
            ps.setString(1, repository);
            ps.setString(2, key);
            ps.setLong(3, System.currentTimeMillis());
            ps.executeUpdate();
            return true;
        } catch (SQLException e) {
            if (isDuplicateKey(e)) {
                return false;
            }
            throw new LedgerException(e);
        }
    }

    @Override
    public boolean contains(String key) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT 1 FROM ktp_processed_input WHERE repository = ? AND input_key = ?")) {
            ps.setString(1, repository);
            ps.setString(2, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    @Override
    public boolean remove(String key) {
        return execute("DELETE FROM ktp_processed_input WHERE repository = ? AND input_key = ?", key) > 0;
    }

    @Override
    public boolean confirm(String key) {
        return true;
    }

    @Override
    public void clear() {
        execute("DELETE FROM ktp_processed_input WHERE repository = ?", null);
    }

    private int execute(String sql, String key) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, repository);
            if (key != null) {
                ps.setString(2, key);
            }
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    /** SQLState class 23 is an integrity constraint violation on H2 and PostgreSQL alike. */
    private static boolean isDuplicateKey(SQLException e) {
        return e.getSQLState() != null && e.getSQLState().startsWith("23");
    }
}

package id.ktpbridge.submit;

import java.sql.SQLException;
import java.util.UUID;

import javax.sql.DataSource;

import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.NewInput;
import id.ktpbridge.ledger.SubmissionState;

/** Ledger rows as an earlier run left them, written and read straight, for tests of the sweeps and the start-up pass. */
final class LedgerRows {

    private final Ledger ledger;
    private final DataSource ds;

    LedgerRows(Ledger ledger, DataSource ds) {
        this.ledger = ledger;
        this.ds = ds;
    }

    /** An empty, migrated ledger in an in-memory H2 database of its own ({@code name} and a random part); {@link #close} drops it. */
    static LedgerRows inMemory(String name) {
        org.h2.jdbcx.JdbcConnectionPool pool = org.h2.jdbcx.JdbcConnectionPool.create("jdbc:h2:mem:" + name + "-"
                + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "");
        id.ktpbridge.ledger.SchemaMigrator.migrate(pool);
        return new LedgerRows(new Ledger(pool), pool);
    }

    Ledger ledger() {
        return ledger;
    }

    DataSource ds() {
        return ds;
    }

    /** Drops an {@link #inMemory} database. */
    void close() {
        if (ds instanceof org.h2.jdbcx.JdbcConnectionPool pool) {
            pool.dispose();
        }
    }

    /** An input at {@code ref} in {@code state}, created and last touched {@code at} (with a submission past RECEIVED). */
    String insert(String type, String ref, SubmissionState state, long at) {
        String id = UUID.randomUUID().toString();
        ledger.insert(new NewInput(id, type, ref, ref.substring(ref.lastIndexOf('/') + 1),
                UUID.randomUUID().toString().replace("-", ""), 1L, "image/png", "P", "u1", "T",
                UUID.randomUUID().toString(), UUID.randomUUID().toString(), null), state);
        update("UPDATE ktp_submission SET created_at = ?, updated_at = ?, submission_id = ? WHERE id = ?", at, at,
                state == SubmissionState.RECEIVED ? null : "sub-" + id, id);
        return id;
    }

    SubmissionState state(String id) {
        return ledger.findById(id).orElseThrow().state();
    }

    /** When the source let go of the input; null while it holds it. */
    Long released(String id) {
        try (var c = ds.getConnection(); var ps = c.prepareStatement(
                "SELECT source_released_at FROM ktp_submission WHERE id = ?")) {
            ps.setString(1, id);
            try (var rs = ps.executeQuery()) {
                rs.next();
                long at = rs.getLong(1);
                return rs.wasNull() ? null : at;
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    void update(String sql, Object... args) {
        try (var c = ds.getConnection(); var ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}

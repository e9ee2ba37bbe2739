package id.ktpbridge.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import javax.sql.DataSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the ledger from holding personal data for ever: an input that ended more than
 * {@code ktp.ledger.retention} ago, and whose result every target has, is removed with its
 * result document (which holds the NIK and the name read from the card), its deliveries and
 * its content claim; so are the keys the sources remember of inputs they took that long ago
 * (file paths, often named after the partner user). Inputs still open, and results a target
 * refused, are kept until they are done.
 */
public class LedgerRetention {

    private static final Logger LOG = LoggerFactory.getLogger(LedgerRetention.class);
    /** Rows removed per transaction: a pass never holds many locks for long. */
    static final int BATCH = 500;
    static final String LEASE = "ledger-retention";
    /**
     * The states an input is not ended in: an ended input is one in none of them. Named so, not as
     * the ended states: H2 reads an IN of states through the state index rather than the range on
     * created_at, and over a long retention that index holds every ended input, read at each pass
     * (a million rows: half a minute), where the range holds the few old enough to go.
     */
    private static final List<String> OPEN = java.util.Arrays.stream(SubmissionState.values())
            .filter(s -> !s.isFinal()).map(SubmissionState::name).toList();

    private final DataSource dataSource;
    private final Duration retention;
    private final Leases leases;
    private final Duration interval;

    /**
     * @param retention how long an ended input is kept; zero keeps everything
     * @param leases    one instance of a cluster runs each pass
     * @param interval  how often passes run (the lease is held this long)
     */
    public LedgerRetention(DataSource dataSource, Duration retention, Leases leases, Duration interval) {
        this.dataSource = dataSource;
        this.retention = retention;
        this.leases = leases;
        this.interval = interval;
    }

    private volatile Duration claimTtl = Duration.ofMinutes(10);

    /** {@code ktp.source.claim-ttl}: see {@link #forgetKeysBefore}. */
    public void claimTtl(Duration ttl) {
        this.claimTtl = ttl;
    }

    public boolean enabled() {
        return !retention.isZero() && !retention.isNegative();
    }

    /** Camel bean method: one pass, unless retention is off or another instance runs this one. */
    public void purge() {
        if (!enabled() || !leases.tryHold(LEASE, Math.max(1_000, interval.toMillis() / 2))) {
            return;
        }
        long now = System.currentTimeMillis();
        long cutoff = now - retention.toMillis();
        int inputs = purgeEndedBefore(cutoff);
        // a claim under way is renewed every third of its time to live: one that old at the least is
        // dead, whatever the retention (a day at the least)
        int keys = forgetKeysBefore(cutoff, Math.min(cutoff, now - Math.max(Duration.ofDays(1).toMillis(),
                2 * claimTtl.toMillis())));
        if (inputs > 0 || keys > 0) {
            LOG.info("Ledger retention ({}): {} ended inputs and {} remembered source keys removed", retention,
                    inputs, keys);
        }
    }

    /** Removes ended, fully delivered inputs last changed before {@code cutoff} (epoch ms); returns how many. */
    int purgeEndedBefore(long cutoff) {
        int removed = 0;
        while (true) {
            List<String> ids = endedBefore(cutoff);
            if (ids.isEmpty()) {
                return removed;
            }
            removed += remove(ids, cutoff);
            if (ids.size() < BATCH) {
                return removed;
            }
        }
    }

    private List<String> endedBefore(long cutoff) {
        // created_at (indexed) narrows the scan; updated_at is when the input ended
        String sql = "SELECT s.id FROM ktp_submission s WHERE s.created_at < ? AND s.updated_at < ?"
                + " AND s.state NOT IN (" + String.join(", ", Collections.nCopies(OPEN.size(), "?")) + ")"
                + " AND s.result_status IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ktp_delivery d"
                + " WHERE d.ledger_id = s.id AND d.state <> ?) LIMIT " + BATCH;
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            ps.setLong(i++, cutoff);
            ps.setLong(i++, cutoff);
            for (String state : OPEN) {
                ps.setString(i++, state);
            }
            ps.setString(i, SubmissionState.DELIVERED.name());
            List<String> ids = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
            return ids;
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    private int remove(List<String> ids, long cutoff) {
        String in = String.join(", ", Collections.nCopies(ids.size(), "?"));
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                // a row that changed meanwhile (a refused result sent again) stays, and so do its claim
                // and deliveries: only those of rows actually removed follow them
                List<Object> args = new ArrayList<>(ids);
                args.add(cutoff);
                int rows = execute(c, "DELETE FROM ktp_submission WHERE id IN (" + in + ") AND updated_at < ?", args);
                String gone = " WHERE ledger_id IN (" + in + ") AND NOT EXISTS (SELECT 1 FROM ktp_submission s"
                        + " WHERE s.id = ledger_id)";
                execute(c, "DELETE FROM ktp_content_claim" + gone, ids);
                execute(c, "DELETE FROM ktp_delivery" + gone, ids);
                c.commit();
                return rows;
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(autoCommit);
            }
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    /**
     * Forgets source keys confirmed before {@code cutoff}, and claims never confirmed that were made
     * before it (their holder died, or their drop failed, long ago: a claim lasts
     * {@code ktp.source.claim-ttl}, and only a new claim of the same key replaced them, so in a
     * cluster, without the start's clean-up, a key never seen again was kept for good) before
     * {@code claimsCutoff}, which leaves the claims still renewed alone; returns how many.
     */
    int forgetKeysBefore(long cutoff, long claimsCutoff) {
        try (Connection c = dataSource.getConnection()) {
            // two statements, both read by the index on (confirmed_at, created_at): H2 reads an OR of
            // two index conditions by a scan of the table (every key of the retention, each pass)
            return execute(c, "DELETE FROM ktp_processed_input WHERE confirmed_at < ?", List.of(cutoff))
                    + execute(c, "DELETE FROM ktp_processed_input WHERE confirmed_at IS NULL AND created_at < ?",
                            List.of(claimsCutoff));
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    private static int execute(Connection c, String sql, List<?> args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            return ps.executeUpdate();
        }
    }
}

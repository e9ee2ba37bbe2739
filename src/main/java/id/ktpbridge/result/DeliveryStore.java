package id.ktpbridge.result;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import javax.sql.DataSource;

import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerException;

/** The outbox table: delivery state of each result per target. */
public class DeliveryStore {

    public static final String PENDING = "PENDING";
    public static final String DELIVERED = "DELIVERED";
    /** Refused for good by the target (e.g. an HTTP 4xx); kept with the response for a person to look at. */
    public static final String REFUSED = "REFUSED";

    /** A delivery that is due. */
    public record Due(String ledgerId, String target, int attempts) {
    }

    private final DataSource dataSource;

    public DeliveryStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * Adds a pending row per target; targets already present (a result re-published) are kept as
     * they are. The rows are leased to the caller for {@code leaseMillis}, which attempts them at
     * once; the retry schedule only sees them if that attempt never reports back (a crash).
     */
    public List<String> enqueue(String ledgerId, List<String> targets, long leaseMillis) {
        try (Connection c = dataSource.getConnection()) {
            return enqueue(c, ledgerId, targets, leaseMillis);
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    /**
     * {@link #enqueue(String, List, long)} on the caller's connection, so the rows commit with the
     * result they queue.
     *
     * @return the targets that got a new row (the ones the caller now has to attempt)
     */
    public List<String> enqueue(Connection c, String ledgerId, List<String> targets, long leaseMillis)
            throws SQLException {
        long now = System.currentTimeMillis();
        List<String> added = new ArrayList<>();
        // a conditional insert, not a caught duplicate key: a failed statement would void PostgreSQL's transaction
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO ktp_delivery (ledger_id, target, state, attempts,"
                + " next_attempt_at, updated_at) SELECT ?, ?, ?, 0, ?, ? FROM (VALUES (1)) AS one (x) WHERE NOT EXISTS"
                + " (SELECT 1 FROM ktp_delivery WHERE ledger_id = ? AND target = ?)")) {
            for (String target : targets) {
                ps.setString(1, ledgerId);
                ps.setString(2, target);
                ps.setString(3, PENDING);
                ps.setLong(4, now + leaseMillis);
                ps.setLong(5, now);
                ps.setString(6, ledgerId);
                ps.setString(7, target);
                if (ps.executeUpdate() == 1) {
                    added.add(target);
                }
            }
        }
        return added;
    }

    public void delivered(String ledgerId, String target) {
        update("UPDATE ktp_delivery SET state = ?, attempts = attempts + 1, delivered_at = ?, last_error = NULL,"
                + " updated_at = ? WHERE ledger_id = ? AND target = ?", DELIVERED, System.currentTimeMillis(),
                System.currentTimeMillis(), ledgerId, target);
    }

    public void retryLater(String ledgerId, String target, long nextAttemptAt, String error) {
        update("UPDATE ktp_delivery SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, updated_at = ?"
                + " WHERE ledger_id = ? AND target = ? AND state = ?", nextAttemptAt, truncate(error),
                System.currentTimeMillis(), ledgerId, target, PENDING);
    }

    /** Only a pending row: an attempt that ran late must not turn a delivered result into a refusal. */
    public void refused(String ledgerId, String target, String error) {
        update("UPDATE ktp_delivery SET state = ?, attempts = attempts + 1, last_error = ?, updated_at = ?"
                + " WHERE ledger_id = ? AND target = ? AND state = ?", REFUSED, truncate(error),
                System.currentTimeMillis(), ledgerId, target, PENDING);
    }

    /**
     * Extends the lease of a row this caller leased, while it still holds it. A lease that ran out
     * and was taken by another caller is not extended: that caller's lease ends after
     * {@code heldUntil}, since it took the row once ours had ended.
     *
     * @param heldUntil the latest time this caller's lease can end (when it was taken or last renewed, plus the lease)
     * @return false when the lease had run out: the row is the retry schedule's now
     */
    public boolean renewLease(String ledgerId, String target, long heldUntil, long now, long leaseMillis) {
        return 1 == update("UPDATE ktp_delivery SET next_attempt_at = ?, updated_at = ? WHERE ledger_id = ?"
                + " AND target = ? AND state = ? AND next_attempt_at > ? AND next_attempt_at <= ?", now + leaseMillis,
                now, ledgerId, target, PENDING, now, heldUntil);
    }

    /**
     * Hands a row leased to this instance back to the retry schedule, due at {@code dueAt}, without
     * counting an attempt (none was made).
     */
    public void release(String ledgerId, String target, long dueAt) {
        update("UPDATE ktp_delivery SET next_attempt_at = ?, updated_at = ? WHERE ledger_id = ? AND target = ?"
                + " AND state = ?", dueAt, System.currentTimeMillis(), ledgerId, target, PENDING);
    }

    /**
     * Takes the most overdue pending row of one of {@code targets} and moves its next attempt
     * forward by {@code leaseMillis}, so no other caller (another tick, another instance) attempts
     * it meanwhile. One row at a time: a lease starts when its attempt starts, so a slow target
     * cannot let the leases of rows still waiting in a batch run out.
     */
    public Optional<Due> takeDue(long now, List<String> targets, long leaseMillis) {
        return takeDue(now, now, targets, leaseMillis);
    }

    /**
     * As above, of the rows due by {@code dueBy}: a retry pass passes the time it began, so a row it
     * put back is not taken again by the same pass. The lease runs from {@code now}.
     */
    public Optional<Due> takeDue(long dueBy, long now, List<String> targets, long leaseMillis) {
        for (int tries = 0; tries < 5; tries++) {
            Due due;
            try (Connection c = dataSource.getConnection();
                 PreparedStatement ps = c.prepareStatement(dueQuery(targets.size()))) {
                ps.setString(1, PENDING);
                ps.setLong(2, dueBy);
                for (int i = 0; i < targets.size(); i++) {
                    ps.setString(3 + i, targets.get(i));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    due = new Due(rs.getString(1), rs.getString(2), rs.getInt(3));
                }
            } catch (SQLException e) {
                throw new LedgerException(e);
            }
            int rows = update("UPDATE ktp_delivery SET next_attempt_at = ?, updated_at = ? WHERE ledger_id = ?"
                    + " AND target = ? AND state = ? AND next_attempt_at <= ?", now + leaseMillis, now, due.ledgerId(),
                    due.target(), PENDING, dueBy);
            if (rows == 1) {
                return Optional.of(due);
            }
            // another caller took it first: look for the next one
        }
        return Optional.empty();
    }

    /**
     * The most overdue pending row of some targets (state, due by, the targets): read through the
     * index on (target, state, next_attempt_at), so one target's backlog is not scanned by the others' passes.
     */
    static String dueQuery(int targets) {
        return "SELECT ledger_id, target, attempts FROM ktp_delivery WHERE state = ? AND next_attempt_at <= ?"
                + " AND target IN (" + placeholders(targets) + ") ORDER BY next_attempt_at FETCH FIRST 1 ROWS ONLY";
    }

    /** Delivery rows by target and state, e.g. {@code {file={DELIVERED=10}, http={PENDING=2}}}. */
    public Map<String, Map<String, Integer>> counts() {
        return counts(List.of());
    }

    /**
     * As {@link #counts()}, for rows in these states only: read through the index on state, so a
     * ledger of millions of delivered rows is not counted row by row (the health readings ask
     * every few seconds).
     */
    public Map<String, Map<String, Integer>> counts(List<String> states) {
        Map<String, Map<String, Integer>> counts = new TreeMap<>();
        String where = states.isEmpty() ? "" : " WHERE state IN (" + placeholders(states.size()) + ")";
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT target, state, COUNT(*) FROM ktp_delivery" + where + " GROUP BY target, state")) {
            for (int i = 0; i < states.size(); i++) {
                ps.setString(i + 1, states.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    counts.computeIfAbsent(rs.getString(1), k -> new TreeMap<>()).put(rs.getString(2), rs.getInt(3));
                }
            }
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
        return counts;
    }

    public int pendingCount() {
        return count("SELECT COUNT(*) FROM ktp_delivery WHERE state = ?", PENDING);
    }

    /**
     * Pending deliveries to the given targets only: the pending rows counted by target, through the
     * index on state. Asked with the targets, H2 read the index on (target, state, ...) by its
     * targets alone, every delivery ever made (a batch run asks at each check near its end).
     */
    public int pendingCount(List<String> targets) {
        return counts(List.of(PENDING)).entrySet().stream().filter(e -> targets.contains(e.getKey()))
                .mapToInt(e -> e.getValue().getOrDefault(PENDING, 0)).sum();
    }

    /** Deliveries a target refused for good since {@code since} (epoch millis). */
    public int refusedSince(long since) {
        return count("SELECT COUNT(*) FROM ktp_delivery WHERE state = ? AND updated_at >= ?", REFUSED, since);
    }

    /**
     * Pending deliveries per target that is not among {@code targets} (a target taken out of the
     * settings). Only the pending rows are counted, through the index on state: not every delivery ever made.
     */
    public Map<String, Integer> pendingOutside(List<String> targets) {
        Map<String, Integer> counts = new TreeMap<>();
        counts(List.of(PENDING)).forEach((target, states) -> {
            if (!targets.contains(target) && states.getOrDefault(PENDING, 0) > 0) {
                counts.put(target, states.get(PENDING));
            }
        });
        return counts;
    }

    private int count(String sql, Object... args) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    private static String placeholders(int n) {
        return String.join(", ", java.util.Collections.nCopies(Math.max(1, n), "?"));
    }

    /**
     * Makes every pending delivery due at {@code now}: at the start of a single instance, the
     * attempts the previous run had taken (leased) died with it, and waiting retries may as well
     * run now.
     *
     * @return how many deliveries were made due
     */
    public int releaseLeases(long now) {
        return update("UPDATE ktp_delivery SET next_attempt_at = ?, updated_at = ? WHERE state = ? AND next_attempt_at > ?",
                now, now, PENDING, now);
    }

    public String state(String ledgerId, String target) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT state FROM ktp_delivery WHERE ledger_id = ? AND target = ?")) {
            ps.setString(1, ledgerId);
            ps.setString(2, target);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    /** At most 2000 characters, and no NUL, which PostgreSQL refuses in text (a binary error page). */
    private static String truncate(String s) {
        return Ledger.fitText(s, 2000);
    }

    private int update(String sql, Object... args) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }
}

package id.ktpbridge.ledger;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import javax.sql.DataSource;

import org.apache.camel.spi.IdempotentRepository;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Remembers which inputs a source has taken, in the ledger database, so nothing is submitted
 * twice, also after a restart and across instances. {@link #add} claims a key (the primary key
 * makes it atomic); {@link #confirm} (called by Camel when the input is done) makes it permanent.
 * A claim never confirmed (its holder died) expires after {@code claimTtlMillis}, so the input is
 * taken again and resumed from the ledger. Only the instance that made a claim can drop or confirm
 * it: Camel's read locks call {@link #remove} after a failed {@link #add}, and a source may confirm
 * a key it let go of a moment before another instance claimed it; neither may touch that claim.
 * A confirmed claim that names its input ({@link #settles}) is taken again when its file stayed
 * in the source, its holder stopped between the confirm and the move (see {@link #add}).
 */
public class LedgerIdempotentRepository extends ServiceSupport implements IdempotentRepository {

    private static final Logger LOG = LoggerFactory.getLogger(LedgerIdempotentRepository.class);

    private final DataSource dataSource;
    private final String repository;
    private final long claimTtlMillis;
    private final String owner;
    /**
     * The keys this process claimed and has not yet let go of: the only ones {@link #renewClaims}
     * renews. A claim whose release failed (the database away for a moment) then runs out as a dead
     * holder's would, instead of being kept alive for as long as the process runs; so do the claims
     * a restarted instance finds under its own name.
     */
    private final Set<String> held = ConcurrentHashMap.newKeySet();
    /**
     * The keys claimed by the listing under way on this thread, where a source lists with eager
     * claims (SFTP): null when no listing is tracked. See {@link #listingBegins}.
     */
    private final ThreadLocal<List<String>> listing = new ThreadLocal<>();
    /** The ledger id of the input each claim settles, by stored key: from {@link #settles} until the confirm. */
    private final Map<String, String> settling = new ConcurrentHashMap<>();

    public LedgerIdempotentRepository(DataSource dataSource, String repository, long claimTtlMillis, String owner) {
        this.dataSource = dataSource;
        this.repository = repository;
        this.claimTtlMillis = claimTtlMillis;
        this.owner = owner;
    }

    /**
     * {@code ktp_processed_input.input_key} holds this many characters; a key longer in UTF-8 bytes is
     * stored hashed (PostgreSQL's index refuses an entry past about 2.7 KB: 1,000 characters of a
     * non-Latin folder name are 3,000 bytes).
     */
    static final int MAX_INPUT_KEY = 1024;

    /**
     * The key as stored: itself, or {@code sha256:<hex>} of it when longer than the column (a deep
     * SFTP path, a long S3 key with its bucket and version).
     */
    public static String storedKey(String key) {
        if (key.length() <= MAX_INPUT_KEY / 3
                || key.length() <= MAX_INPUT_KEY && key.getBytes(StandardCharsets.UTF_8).length <= MAX_INPUT_KEY) {
            return key;
        }
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public boolean add(String input) {
        String key = storedKey(input);
        long now = System.currentTimeMillis();
        execute("DELETE FROM ktp_processed_input WHERE repository = ? AND input_key = ? AND confirmed_at IS NULL"
                + " AND created_at < ?", key, now - claimTtlMillis);
        // a key already there is the usual case (every poll meets the inputs under way): no failed
        // statement for it, which a PostgreSQL server logs with the key (a file path, often a NIK).
        // On PostgreSQL not even for two claims at the same moment: ON CONFLICT, which H2 lacks
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(isPostgres(c)
                     ? "INSERT INTO ktp_processed_input (repository, input_key, created_at, owner) VALUES (?, ?, ?, ?)"
                     + " ON CONFLICT DO NOTHING"
                     : "INSERT INTO ktp_processed_input (repository, input_key, created_at, owner) SELECT ?, ?, ?, ?"
                     + " WHERE NOT EXISTS (SELECT 1 FROM ktp_processed_input WHERE repository = ? AND input_key = ?)")) {
            ps.setString(1, repository);
            ps.setString(2, key);
            ps.setLong(3, now);
            ps.setString(4, owner);
            if (!isPostgres(c)) {
                ps.setString(5, repository);
                ps.setString(6, key);
            }
            if (ps.executeUpdate() != 1 && !tookOverUnmoved(c, key, now)) {
                return false;
            }
            held.add(key);
            List<String> listed = listing.get();
            if (listed != null) {
                listed.add(key);
            }
            return true;
        } catch (SQLException e) {
            if (isDuplicateKey(e)) {
                return false;
            }
            throw new LedgerException(e);
        }
    }

    /**
     * Takes over a confirmed claim on an input its source never let go of, confirmed a claim's time
     * to live ago or longer: Camel confirms an SFTP file's claim just before it moves the file, and a
     * process killed in between left the file in its folder, taken for good, never moved. A live
     * holder moves its file (or has the move refused or cut off, and drops the claim) within moments
     * of the confirm, so such a claim is a stopped holder's. The file is taken again: its input,
     * found in the ledger, is not submitted again, and the file is moved to the done folder (or the
     * failed one, as its outcome says). One statement, so of several instances listing the file
     * only one takes it.
     */
    private boolean tookOverUnmoved(Connection c, String key, long now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE ktp_processed_input SET owner = ?, created_at = ?,"
                + " confirmed_at = NULL, ledger_id = NULL WHERE repository = ? AND input_key = ? AND confirmed_at < ?"
                + " AND " + NOT_LET_GO)) {
            ps.setString(1, owner);
            ps.setLong(2, now);
            ps.setString(3, repository);
            ps.setString(4, key);
            ps.setLong(5, now - claimTtlMillis);
            if (ps.executeUpdate() != 1) {
                return false;
            }
        }
        // not the key: it holds the input's path, whose file name may be a NIK
        LOG.info("An input ({}) whose claim was confirmed but whose file its source never moved away (the bundle"
                + " stopped in between) is taken again: its file is moved on, without a second submission", repository);
        return true;
    }

    /** A confirmed claim's input, named by {@link #settles}, that its source has not let go of. */
    private static final String NOT_LET_GO = "EXISTS (SELECT 1 FROM ktp_submission s WHERE s.id ="
            + " ktp_processed_input.ledger_id AND s.source_released_at IS NULL)";

    private volatile Boolean postgres;

    private boolean isPostgres(Connection c) throws SQLException {
        Boolean known = postgres;
        if (known == null) {
            known = c.getMetaData().getDatabaseProductName().toLowerCase(java.util.Locale.ROOT).contains("postgres");
            postgres = known;
        }
        return known;
    }

    @Override
    public boolean contains(String input) {
        String key = storedKey(input);
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT 1 FROM ktp_processed_input WHERE repository = ?"
                     + " AND input_key = ? AND (confirmed_at IS NOT NULL OR created_at >= ?)")) {
            ps.setString(1, repository);
            ps.setString(2, key);
            ps.setLong(3, System.currentTimeMillis() - claimTtlMillis);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    /**
     * Drops this process's claim. A claim the database cannot drop now is only forgotten here, so it
     * is no longer renewed and runs out after the claim's time to live: Camel calls this while it
     * hands a poll's files to the route, and an exception there would abandon the poll with some of
     * them under way (see {@link #listingBrokeOff}).
     *
     * @return whether a claim was dropped
     */
    @Override
    public boolean remove(String input) {
        String key = storedKey(input);
        held.remove(key);
        settling.remove(key);
        try {
            return deleteOwn(key);
        } catch (SQLException e) {
            // not the key: it holds the input's path, whose file name may be a NIK
            LOG.warn("An input claim ({}) could not be released ({}); it runs out after {} s", repository,
                    e.getSQLState(), claimTtlMillis / 1000);
            return false;
        }
    }

    /**
     * Drops this process's claim on an input whose outcome is recorded but whose file stayed where
     * it was (its move refused, or cut off by a stop), confirmed or not: a confirmed claim never runs
     * out, so the file would stay taken after a restart too. A passing database error is tried
     * twice more within a second; a claim still not dropped stays until ledger retention forgets it.
     *
     * @return whether the claim is gone
     */
    public boolean forgetSettled(String input) {
        String key = storedKey(input);
        held.remove(key);
        settling.remove(key);
        try {
            triedAgainOnPassingErrors(() -> deleteOwn(key));
            return true;
        } catch (LedgerException e) {
            // not the key: it holds the input's path, whose file name may be a NIK
            LOG.warn("The claim ({}) on an input whose file stayed in place could not be dropped ({}); the file stays"
                    + " taken until ledger retention forgets it", repository, e.getMessage());
            return false;
        }
    }

    /** A claim's write that the settling of its input must not lose to a blip: tried twice more within a second. */
    private static boolean triedAgainOnPassingErrors(ClaimWrite write) {
        AtomicBoolean changed = new AtomicBoolean();
        LedgerRetries.run(() -> {
            try {
                changed.set(write.run());
            } catch (SQLException e) {
                throw new LedgerException(e);
            }
        }, 2, 300, (e, wait) -> { });
        return changed.get();
    }

    @FunctionalInterface
    private interface ClaimWrite {
        /** @return whether a row changed */
        boolean run() throws SQLException;
    }

    /** Deletes this process's claim on the stored key, confirmed or not; whether there was one. */
    private boolean deleteOwn(String key) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "DELETE FROM ktp_processed_input WHERE repository = ? AND input_key = ? AND owner = ?")) {
            ps.setString(1, repository);
            ps.setString(2, key);
            ps.setString(3, owner);
            return ps.executeUpdate() > 0;
        }
    }

    /**
     * Confirms the claim on an input whose outcome is recorded. Camel confirms an SFTP file's claim
     * before it moves the file, and a confirm that throws makes it give the claim back and skip the
     * move: the file, settled, would be listed and taken again as a new input. So a passing database
     * error is tried twice more within a second, and a confirm still failing is only logged; the
     * file is moved all the same, and the claim, no longer renewed, runs out after its time to live.
     *
     * @return whether the claim was confirmed
     */
    @Override
    public boolean confirm(String input) {
        String key = storedKey(input);
        held.remove(key);
        String ledgerId = settling.remove(key);
        try {
            return triedAgainOnPassingErrors(() -> confirmOwn(key, ledgerId));
        } catch (LedgerException e) {
            // not the key: it holds the input's path, whose file name may be a NIK
            LOG.warn("The claim ({}) on an input whose outcome is recorded could not be confirmed (SQL state {});"
                    + " it runs out after {} s", repository,
                    e.getCause() instanceof SQLException sql ? sql.getSQLState() : "none", claimTtlMillis / 1000);
            return false;
        }
    }

    private boolean confirmOwn(String key, String ledgerId) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE ktp_processed_input SET confirmed_at = ?, ledger_id = ? WHERE repository = ? AND input_key = ?"
                        + " AND owner = ?")) {
            ps.setLong(1, System.currentTimeMillis());
            ps.setString(2, ledgerId);
            ps.setString(3, repository);
            ps.setString(4, key);
            ps.setString(5, owner);
            return ps.executeUpdate() > 0;
        }
    }

    /**
     * The claim on {@code input}, confirmed next, settles the ledger row {@code ledgerId}: the input
     * was submitted, or found submitted before. The confirm writes it down with the claim.
     */
    public void settles(String input, String ledgerId) {
        String key = storedKey(input);
        if (held.contains(key)) {
            settling.put(key, ledgerId);
        }
    }

    @Override
    public void clear() {
        execute("DELETE FROM ktp_processed_input WHERE repository = ?", null, null);
    }

    /**
     * Renews the unconfirmed claims this process holds. An input can be under way for longer than
     * the claim's time to live (a slow or throttled OneKYC, a long queue); an instance that is alive
     * renews its claims well within it, so only a dead holder's claims run out and are taken over.
     *
     * @return how many claims were renewed
     */
    public int renewClaims() {
        List<String> keys = List.copyOf(held);
        if (keys.isEmpty()) {
            return 0;
        }
        long now = System.currentTimeMillis();
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE ktp_processed_input SET created_at = ? WHERE repository = ? AND input_key = ? AND owner = ?"
                        + " AND confirmed_at IS NULL")) {
            for (String key : keys) {
                ps.setLong(1, now);
                ps.setString(2, repository);
                ps.setString(3, key);
                ps.setString(4, owner);
                ps.addBatch();
            }
            int renewed = 0;
            for (int n : ps.executeBatch()) {
                renewed += Math.max(0, n);
            }
            return renewed;
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    /**
     * A source's listing begins on this thread. Camel's SFTP consumer claims each file as it lists
     * it; when the listing then breaks off (a ledger or server error further on) it abandons the
     * poll, and the files claimed so far get no exchange that would ever confirm or drop their
     * claims. {@link #listingBrokeOff} gives them back.
     */
    public void listingBegins() {
        listing.set(new ArrayList<>());
    }

    /** The listing on this thread ended and its files went to exchanges, which settle their claims. */
    public void listingDone() {
        listing.remove();
    }

    /**
     * The listing on this thread broke off: the claims it made are dropped. One that cannot be
     * dropped now (the database away) is no longer renewed, so it runs out after the claim's time
     * to live.
     *
     * @return how many claims the listing had made
     */
    public int listingBrokeOff() {
        List<String> keys = listing.get();
        listing.remove();
        // most listings that fail (the server down) failed before claiming anything
        if (keys == null || keys.isEmpty()) {
            return 0;
        }
        keys.forEach(held::remove);
        // only claims still unconfirmed: one whose exchange has run already keeps its key
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "DELETE FROM ktp_processed_input WHERE repository = ? AND input_key = ? AND owner = ?"
                        + " AND confirmed_at IS NULL")) {
            for (String key : keys) {
                ps.setString(1, repository);
                ps.setString(2, key);
                ps.setString(3, owner);
                ps.addBatch();
            }
            ps.executeBatch();
        } catch (SQLException e) {
            // no longer renewed (above): they run out after the claim's time to live
        }
        return keys.size();
    }

    public long claimTtlMillis() {
        return claimTtlMillis;
    }

    /**
     * Drops every claim not yet confirmed, and every confirmed one whose input its source never let
     * go of (the file left in its folder by a stop between the confirm and the move): for a single
     * instance at start, they all belong to a dead run. Those files are taken again at once.
     */
    public int releaseClaims() {
        return execute("DELETE FROM ktp_processed_input WHERE repository = ? AND (confirmed_at IS NULL OR "
                + NOT_LET_GO + ")", null, null);
    }

    private int execute(String sql, String key, Long createdBefore) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            ps.setString(i++, repository);
            if (key != null) {
                ps.setString(i++, key);
            }
            if (createdBefore != null) {
                ps.setLong(i, createdBefore);
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

package id.ktpbridge.ledger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the ledger keeps once inputs have ended long ago, and what it removes. */
class LedgerRetentionTest {

    private static final long DAY = Duration.ofDays(1).toMillis();

    private JdbcConnectionPool ds;
    private Ledger ledger;
    private final long now = System.currentTimeMillis();

    @BeforeEach
    void setUp() {
        ds = JdbcConnectionPool.create("jdbc:h2:mem:retention-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "");
        SchemaMigrator.migrate(ds);
        ledger = new Ledger(ds);
    }

    @AfterEach
    void tearDown() {
        ds.dispose();
    }

    @Test
    void endedAndDeliveredInputsOlderThanTheRetentionGoWithEverythingOfTheirs() throws Exception {
        String oldDelivered = row("DELIVERED", 100, "DELIVERED", "DELIVERED");
        String oldRejected = row("REJECTED", 100, "DELIVERED");
        String oldFailed = row("FAILED", 100);
        String oldRefusedSomewhere = row("DELIVERED", 100, "DELIVERED", "REFUSED");
        String oldPending = row("DELIVERED", 100, "PENDING");
        String oldStillOpen = row("CONFIRMED", 100);
        String recent = row("DELIVERED", 10, "DELIVERED");
        // ended, but its result was never stored: kept, so the input can still get one
        String oldWithoutResult = row("REJECTED", 100);
        update("UPDATE ktp_submission SET result_status = NULL WHERE id = ?", oldWithoutResult);
        key("old-key", now - 100 * DAY, now - 100 * DAY);
        key("recent-key", now - 10 * DAY, now - 10 * DAY);
        // a claim never confirmed (its holder died): the key of a file path or S3 object, not kept for good
        key("old-claim-never-confirmed", now - 100 * DAY, null);
        key("claim-in-progress", now - 60_000, null);

        LedgerRetention retention = new LedgerRetention(ds, Duration.ofDays(90), new Leases(ds, "me"), Duration.ofHours(1));
        retention.purge();

        assertEquals(new TreeSet<>(Set.of(oldRefusedSomewhere, oldPending, oldStillOpen, recent, oldWithoutResult)),
                ids("SELECT id FROM ktp_submission"));
        assertEquals(new TreeSet<>(Set.of(oldRefusedSomewhere, oldPending, recent)),
                ids("SELECT DISTINCT ledger_id FROM ktp_delivery"));
        assertEquals(new TreeSet<>(Set.of(oldRefusedSomewhere, oldPending, oldStillOpen, recent, oldWithoutResult)),
                ids("SELECT ledger_id FROM ktp_content_claim"));
        assertEquals(new TreeSet<>(Set.of("recent-key", "claim-in-progress")),
                ids("SELECT input_key FROM ktp_processed_input"));
        for (String gone : List.of(oldDelivered, oldRejected, oldFailed)) {
            assertEquals(List.of(), ledger.findById(gone).stream().toList());
        }
    }

    @Test
    void theContentOfARemovedInputCanBeClaimedAgain() throws Exception {
        String old = row("DELIVERED", 100, "DELIVERED");
        String sha = ledger.findById(old).orElseThrow().sourceSha256();
        new LedgerRetention(ds, Duration.ofDays(90), new Leases(ds, "me"), Duration.ofHours(1)).purge();

        String next = UUID.randomUUID().toString();
        insert(next, sha);
        assertEquals(null, ledger.claimContent(sha, next).orElse(null));
    }

    @Test
    void aRetentionOfZeroKeepsEverythingAndOneInstanceOfAClusterRunsAPass() throws Exception {
        String old = row("DELIVERED", 400, "DELIVERED");
        new LedgerRetention(ds, Duration.ZERO, new Leases(ds, "me"), Duration.ofHours(1)).purge();
        assertEquals(Set.of(old), ids("SELECT id FROM ktp_submission"));

        // another instance of the cluster holds this interval's pass
        assertTrue(new Leases(ds, "other").tryHold(LedgerRetention.LEASE, 60_000));
        new LedgerRetention(ds, Duration.ofDays(90), new Leases(ds, "me"), Duration.ofHours(1)).purge();
        assertEquals(Set.of(old), ids("SELECT id FROM ktp_submission"));
    }

    @Test
    void manyEndedInputsAreRemovedInBatches() throws Exception {
        List<String> old = new ArrayList<>();
        for (int i = 0; i < LedgerRetention.BATCH * 2 + 7; i++) {
            old.add(row("REJECTED", 100, "DELIVERED"));
        }
        String kept = row("REJECTED", 1, "DELIVERED");
        assertEquals(old.size(), new LedgerRetention(ds, Duration.ofDays(90), new Leases(ds, "me"),
                Duration.ofHours(1)).purgeEndedBefore(now - 90 * DAY));
        assertEquals(Set.of(kept), ids("SELECT id FROM ktp_submission"));
    }

    @Test
    void theBundleRemovesWhatItDeliveredOnceTheRetentionHasPassed(@TempDir Path dataDir) throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.ledger.retention", "2s",
                "ktp.ledger.retention-interval", "1s"))) {
            Results.drop(app.inbox(), "u9601.png", SampleImages.card("u9601", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
            // ended and delivered: gone from the ledger a retention later, the delivered result stays
            await().atMost(Duration.ofSeconds(20)).until(() -> app.ledger().createdSince(0).isEmpty());
            assertEquals(1, Results.count(app.results()));
        }
    }

    /** A row in {@code state}, last changed {@code ageDays} ago, holding its content, with one delivery per state given. */
    private String row(String state, int ageDays, String... deliveries) throws Exception {
        String id = UUID.randomUUID().toString();
        String sha = UUID.randomUUID().toString().replace("-", "") + UUID.randomUUID().toString().replace("-", "");
        insert(id, sha);
        ledger.claimContent(sha, id);
        long at = now - ageDays * DAY;
        update("UPDATE ktp_submission SET state = ?, result_status = ?, created_at = ?, updated_at = ? WHERE id = ?",
                state, state.equals("DELIVERED") ? "COMPLETED" : state.equals("CONFIRMED") ? null : state, at, at, id);
        for (int i = 0; i < deliveries.length; i++) {
            update("INSERT INTO ktp_delivery (ledger_id, target, state, attempts, updated_at) VALUES (?, ?, ?, 1, ?)",
                    id, "target-" + i, deliveries[i], at);
        }
        return id;
    }

    @Test
    void aRetentionShorterThanAClaimLivesLeavesTheClaimsUnderWayAlone() throws Exception {
        key("claim-renewed-minutes-ago", now - 5 * 60_000, null);
        key("claim-of-a-dead-holder", now - 2 * DAY, null);
        LedgerRetention retention = new LedgerRetention(ds, Duration.ofMinutes(1), new Leases(ds, "me"), Duration.ofHours(1));
        retention.purge();
        assertEquals(new TreeSet<>(Set.of("claim-renewed-minutes-ago")), ids("SELECT input_key FROM ktp_processed_input"));
    }

    private void insert(String id, String sha) {
        ledger.insert(new NewInput(id, "file", "file:/in/" + id + ".png", id + ".png", sha, 1L, "image/png", "partner",
                "u1", "PARTNER_USER_ID", UUID.randomUUID().toString(), UUID.randomUUID().toString(), null),
                SubmissionState.RECEIVED);
    }

    private void key(String key, long createdAt, Long confirmedAt) throws Exception {
        update("INSERT INTO ktp_processed_input (repository, input_key, created_at, confirmed_at) VALUES (?, ?, ?, ?)",
                "s3", key, createdAt, confirmedAt);
    }

    private void update(String sql, Object... args) throws Exception {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.executeUpdate();
        }
    }

    private Set<String> ids(String sql) throws Exception {
        Set<String> out = new TreeSet<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql);
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}

package id.ktpbridge.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link Ledger#pollBacklog}: what the ktp_polls_due and ktp_polls_overdue gauges show. */
class PollBacklogTest {

    private static final long NOW = 1_700_000_000_000L;

    private JdbcConnectionPool ds;
    private Ledger ledger;

    @BeforeEach
    void setUp() {
        ds = JdbcConnectionPool.create("jdbc:h2:mem:backlog-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "");
        SchemaMigrator.migrate(ds);
        ledger = new Ledger(ds);
    }

    @AfterEach
    void tearDown() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("SHUTDOWN");
        }
        ds.dispose();
    }

    @Test
    void anEmptyLedgerHasNoBacklog() {
        assertArrayEquals(new long[] {0, 0}, ledger.pollBacklog(NOW));
    }

    @Test
    void confirmedSubmissionsAreCountedDueByTheirNextPollAndOverdueByTheirDeadline() {
        confirmed(NOW - 60_000, NOW + 60_000);          // due
        confirmed(NOW, NOW + 60_000);                   // due at the very moment
        confirmed(NOW + 1, NOW + 60_000);               // not yet
        confirmed(NOW - 60_000, NOW - 1);               // due and past its deadline
        confirmed(NOW + 60_000, NOW);                   // past its deadline at the very moment, poll not due
        assertArrayEquals(new long[] {3, 2}, ledger.pollBacklog(NOW));
        assertArrayEquals(new long[] {0, 0}, ledger.pollBacklog(NOW - 120_000), "earlier, nothing was due");
        assertArrayEquals(new long[] {5, 5}, ledger.pollBacklog(NOW + 60_000), "later, all of them");
    }

    @Test
    void onlyConfirmedSubmissionsCount() {
        confirmed(NOW - 60_000, NOW - 1);
        // one whose outcome is being collected, one not yet submitted, one ended: none wait for a poll
        String collecting = confirmed(NOW - 60_000, NOW - 1);
        assertNotEquals(0, ledger.claim(collecting, "POLL"));
        ledger.insert(input(UUID.randomUUID().toString()), SubmissionState.RECEIVED);
        String ended = confirmed(NOW - 60_000, NOW - 1);
        assertNotEquals(0, ledger.claim(ended, "POLL"));
        assertTrue(ledger.recordResult(ended, "COMPLETED", "{}", null, NOW, "{}", c -> { }));
        assertArrayEquals(new long[] {1, 1}, ledger.pollBacklog(NOW));
    }

    /** A submission taken through upload and confirm, with its next poll and deadline. */
    private String confirmed(long nextPollAt, long deadlineAt) {
        String id = UUID.randomUUID().toString();
        ledger.insert(input(id), SubmissionState.RECEIVED);
        ledger.markUploaded(id, "sub-" + id, "psid-" + id, "sdk-" + id, "https://storage.test/" + id, NOW + 600_000);
        ledger.markConfirmed(id, NOW - 120_000, nextPollAt, deadlineAt);
        return id;
    }

    private static NewInput input(String id) {
        return new NewInput(id, "FILE", "/in/" + id + ".jpg", id + ".jpg", "ab".repeat(32), 1234L, "image/jpeg",
                "partner-a", "user-" + id, "PARTNER_USER_ID", UUID.randomUUID().toString(),
                UUID.randomUUID().toString(), "{}");
    }
}

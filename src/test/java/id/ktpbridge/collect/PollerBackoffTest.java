package id.ktpbridge.collect;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;

import org.junit.jupiter.api.Test;

/**
 * The wait before a submission's next status poll: doubling from the first delay, never past the cap;
 * with polling off, before a failed first look is tried again.
 */
class PollerBackoffTest {

    /** A poller for its back-off alone (the ledger, client and collector are not reached). */
    private static Poller poller(Duration initial, Duration max) {
        return new Poller(null, null, null, 10, initial, max, Duration.ofMinutes(5), Duration.ofMinutes(5), null, 0);
    }

    @Test
    void theWaitDoublesWithEachPollUpToTheCap() {
        Poller p = poller(Duration.ofSeconds(2), Duration.ofMinutes(1));
        assertEquals(2_000, p.backoff(1));
        assertEquals(4_000, p.backoff(2));
        assertEquals(8_000, p.backoff(3));
        assertEquals(32_000, p.backoff(5));
        assertEquals(60_000, p.backoff(6), "64 s, cut to the cap");
        assertEquals(60_000, p.backoff(50));
    }

    @Test
    void withPollingOffAFailedFirstLookIsTriedAgainAfterAsLongAsItHasBeenDueWithinTheBounds() {
        Poller p = poller(Duration.ofSeconds(2), Duration.ofSeconds(30));
        assertEquals(2_000, p.lookAgainWait(300), "failed at its first try");
        assertEquals(8_000, p.lookAgainWait(8_000), "due for 8 s: the waits double");
        assertEquals(30_000, p.lookAgainWait(20 * 60_000), "never longer than ktp.poll.max-backoff");
    }

    @Test
    void aSubmissionPolledForDaysNeverOverflowsIntoAShortWait() {
        assertEquals(60_000, poller(Duration.ofSeconds(2), Duration.ofMinutes(1)).backoff(Integer.MAX_VALUE));
        // a cap too far to reach: the doubling itself stops at 2^20 times the first delay
        Poller uncapped = poller(Duration.ofHours(1), Duration.ofDays(365_000));
        assertEquals(Duration.ofHours(1).toMillis() << 20, uncapped.backoff(21));
        assertEquals(Duration.ofHours(1).toMillis() << 20, uncapped.backoff(Integer.MAX_VALUE));
    }
}

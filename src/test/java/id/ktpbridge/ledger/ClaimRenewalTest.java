package id.ktpbridge.ledger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Claims renewed at a third of their time to live, and within seconds again after a failed renewal. */
class ClaimRenewalTest {

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    @Test
    void aFailedRenewalIsTriedAgainWithinSecondsAndEveryKindIsRenewedEachRound() {
        AtomicInteger claims = new AtomicInteger();
        AtomicInteger holds = new AtomicInteger();
        // the database away for the first renewal of the claims
        ClaimRenewal renewal = new ClaimRenewal(scheduler, List.of(
                new ClaimRenewal.Renewal("Input claims", () -> {
                    if (claims.incrementAndGet() == 1) {
                        throw new LedgerException(new java.sql.SQLTransientConnectionException("connection lost"));
                    }
                }),
                new ClaimRenewal.Renewal("Holds", holds::incrementAndGet)), 600_000);

        renewal.renewAll();
        assertEquals(1, holds.get(), "the other kinds are renewed all the same");
        // not ten minutes later (a third of a 30 min time to live): within seconds
        await().atMost(Duration.ofSeconds(20)).until(() -> claims.get() == 2 && holds.get() == 2);
        // renewed: back to the usual spacing
        await().during(Duration.ofSeconds(7)).atMost(Duration.ofSeconds(17)).until(() -> claims.get() == 2);
    }

    @Test
    void aRenewalThrowingAnErrorDoesNotEndTheRenewals() {
        AtomicInteger claims = new AtomicInteger();
        ClaimRenewal renewal = new ClaimRenewal(scheduler, List.of(new ClaimRenewal.Renewal("Input claims", () -> {
            if (claims.incrementAndGet() == 1) {
                throw new NoClassDefFoundError("org/postgresql/SomethingMissing");
            }
        })), 600_000);

        renewal.renewAll();
        await().atMost(Duration.ofSeconds(20)).until(() -> claims.get() == 2);
    }
}

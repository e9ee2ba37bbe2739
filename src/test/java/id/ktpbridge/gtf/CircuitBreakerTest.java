package id.ktpbridge.gtf;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import id.ktpbridge.testkit.ManualClock;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {

    @Test
    void opensAfterTheThresholdWaitsOutTheCoolDownAndClosesOnSuccess() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2025-01-01T00:00:00Z").toEpochMilli());
        CircuitBreaker breaker = new CircuitBreaker(3, Duration.ofSeconds(30), clock);
        breaker.onTransientFailure("presign");
        breaker.onTransientFailure("presign");
        assertFalse(breaker.isOpen("presign"), "below the threshold");
        breaker.onTransientFailure("presign");
        assertTrue(breaker.isOpen("presign"));
        assertEquals(List.of("presign"), breaker.openEndpoints());

        // the clock stands still, so the caller can only go once the test moves it past the cool-down
        AtomicReference<Throwable> callerFailed = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            try {
                breaker.awaitClosed("presign");
            } catch (Throwable e) {
                callerFailed.set(e);
            }
        }, "presign-caller");
        caller.setDaemon(true);
        caller.start();
        await().atMost(Duration.ofSeconds(30)).until(() -> caller.getState() == Thread.State.TIMED_WAITING
                || caller.getState() == Thread.State.TERMINATED);
        assertEquals(Thread.State.TIMED_WAITING, caller.getState(), "callers wait while open");

        clock.advance(Duration.ofMillis(29_999));
        assertTrue(breaker.isOpen("presign"), "open for the whole cool-down");
        clock.advance(Duration.ofMillis(1));
        assertFalse(breaker.isOpen("presign"), "closed once the cool-down has passed");
        caller.join(30_000);
        assertFalse(caller.isAlive(), "the waiting caller goes once the cool-down has passed");
        assertNull(callerFailed.get());

        breaker.onTransientFailure("presign");
        assertTrue(breaker.isOpen("presign"), "one more failure after the cool-down re-opens at once");
        breaker.onSuccess("presign");
        assertFalse(breaker.isOpen("presign"));
        breaker.onTransientFailure("presign");
        assertFalse(breaker.isOpen("presign"), "a success resets the count");
    }

    @Test
    void anEndpointThatAnswersNeitherClosesNorWaitsOnAnotherOnesCircuit() throws Exception {
        CircuitBreaker breaker = new CircuitBreaker(2, Duration.ofSeconds(30));
        breaker.onTransientFailure("presign");
        breaker.onSuccess("user-token");
        breaker.onTransientFailure("presign");
        assertTrue(breaker.isOpen("presign"), "token successes between presign failures do not reset their count");
        breaker.onSuccess("user-token");
        assertTrue(breaker.isOpen("presign"), "a token success does not close the presign circuit");
        assertFalse(breaker.isOpen("user-token"));
        assertTrue(breaker.isOpen(), "some endpoint is paused");

        assertThrows(InterruptedException.class, () -> withInterruptPending(() -> breaker.awaitClosed("presign")),
                "presign calls wait");
        assertDoesNotThrow(() -> withInterruptPending(() -> breaker.awaitClosed("status")),
                "status calls are not held back");
    }

    @Test
    void rateLimiterSpacesCallsEvenly() throws Exception {
        RateLimiter limiter = new RateLimiter(20);
        long start = System.nanoTime();
        for (int i = 0; i < 11; i++) {
            limiter.acquire();
        }
        // 11 permits at 20/s: the last one starts no earlier than 10 intervals (500 ms) after the first
        assertTrue(System.nanoTime() - start >= Duration.ofMillis(480).toNanos());

        RateLimiter hourly = new RateLimiter(1.0 / 3600);
        hourly.acquire();
        assertThrows(InterruptedException.class, () -> withInterruptPending(hourly::acquire), "the second permit waits");
        RateLimiter unlimited = new RateLimiter(0);
        for (int i = 0; i < 1000; i++) {
            assertDoesNotThrow(() -> withInterruptPending(unlimited::acquire), "no limit means no waiting");
        }
    }

    private interface Wait {
        void run() throws InterruptedException;
    }

    /**
     * Runs {@code wait} with the thread's interrupt flag up: a call that sleeps at all throws
     * InterruptedException at once, one that does not wait returns, and then finds the flag still up.
     */
    private static void withInterruptPending(Wait wait) throws InterruptedException {
        Thread.currentThread().interrupt();
        try {
            wait.run();
            assertTrue(Thread.currentThread().isInterrupted(), "returned without waiting, the interrupt still pending");
        } finally {
            Thread.interrupted();
        }
    }
}

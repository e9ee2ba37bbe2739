package id.ktpbridge.gtf;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class CircuitBreakerTest {

    @Test
    void opensAfterTheThresholdWaitsOutTheCoolDownAndClosesOnSuccess() throws Exception {
        CircuitBreaker breaker = new CircuitBreaker(3, Duration.ofMillis(300));
        breaker.onTransientFailure();
        breaker.onTransientFailure();
        assertFalse(breaker.isOpen(), "below the threshold");
        // taken before the failure that opens it, so a slow machine cannot shorten the measured wait
        long start = System.nanoTime();
        breaker.onTransientFailure();
        assertTrue(breaker.isOpen());

        breaker.awaitClosed();
        assertTrue(System.nanoTime() - start >= Duration.ofMillis(250).toNanos(), "callers wait while open");

        breaker.onTransientFailure();
        assertTrue(breaker.isOpen(), "one more failure after the cool-down re-opens at once");
        breaker.onSuccess();
        assertFalse(breaker.isOpen());
        breaker.onTransientFailure();
        assertFalse(breaker.isOpen(), "a success resets the count");
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
        RateLimiter unlimited = new RateLimiter(0);
        long t = System.nanoTime();
        for (int i = 0; i < 1000; i++) {
            unlimited.acquire();
        }
        assertTrue(System.nanoTime() - t < Duration.ofMillis(400).toNanos(), "no limit means no waiting");
    }
}

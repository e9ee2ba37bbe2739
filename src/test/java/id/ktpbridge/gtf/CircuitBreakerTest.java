package id.ktpbridge.gtf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

class CircuitBreakerTest {

    @Test
    void opensAfterTheThresholdWaitsOutTheCoolDownAndClosesOnSuccess() throws Exception {
        CircuitBreaker breaker = new CircuitBreaker(3, Duration.ofMillis(300));
        breaker.onTransientFailure("presign");
        breaker.onTransientFailure("presign");
        assertFalse(breaker.isOpen("presign"), "below the threshold");
        // taken before the failure that opens it, so a slow machine cannot shorten the measured wait
        long start = System.nanoTime();
        breaker.onTransientFailure("presign");
        assertTrue(breaker.isOpen("presign"));
        assertEquals(List.of("presign"), breaker.openEndpoints());

        breaker.awaitClosed("presign");
        assertTrue(System.nanoTime() - start >= Duration.ofMillis(250).toNanos(), "callers wait while open");

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

        long start = System.nanoTime();
        breaker.awaitClosed("status");
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(1).toNanos(), "status calls are not held back");
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

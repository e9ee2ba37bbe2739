package id.ktpbridge.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;

import id.ktpbridge.testkit.ManualClock;
import org.junit.jupiter.api.Test;

class PassingFailuresTest {

    @Test
    void anInputGetsAnotherTryUntilTheLimitAndTheCountStartsAgainAfterASuccess() {
        PassingFailures failures = new PassingFailures(3);
        assertEquals(1, failures.failed("a"));
        assertEquals(2, failures.failed("a"));
        assertEquals(1, failures.failed("b"), "counted per input");
        assertEquals(0, failures.failed("a"), "the third in a row is the input's own");
        assertEquals(1, failures.failed("a"), "and the count starts again");

        failures.passed("b");
        assertEquals(1, failures.failed("b"));
    }

    @Test
    void withAMinimumSpanTheLimitIsReachedOnlyOnceThatLongHasPassedSinceTheFirstFailure() {
        ManualClock clock = new ManualClock(1_000_000);
        PassingFailures failures = new PassingFailures(3, Duration.ofMinutes(1), clock);
        assertEquals(1, failures.failed("a"));
        clock.advance(Duration.ofSeconds(2));
        assertEquals(2, failures.failed("a"));
        clock.advance(Duration.ofSeconds(2));
        assertEquals(3, failures.failed("a"), "the third in a row, but 4 s after the first: another try");
        clock.advance(Duration.ofSeconds(50));
        assertEquals(4, failures.failed("a"));
        clock.advance(Duration.ofSeconds(6));
        assertEquals(0, failures.failed("a"), "a minute after the first, and past the limit: the input's own");
        assertEquals(1, failures.failed("a"), "and the count and the span start again");

        clock.advance(Duration.ofMinutes(5));
        assertEquals(2, failures.failed("a"), "a long span alone does not end it: the limit must be reached too");
        failures.passed("a");
        clock.advance(Duration.ofMinutes(5));
        assertEquals(1, failures.failed("a"), "a success starts both again");
        assertEquals(2, failures.failed("a"));
    }
}

package id.ktpbridge.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}

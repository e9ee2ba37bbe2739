package id.ktpbridge.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import id.ktpbridge.gtf.CircuitBreaker;
import id.ktpbridge.testkit.ManualClock;
import org.apache.camel.health.HealthCheck;
import org.junit.jupiter.api.Test;

/** Readiness while OneKYC's circuit breaker has paused calls. */
class OneKycHealthCheckTest {

    @Test
    void notReadyWhileAnyEndpointsCircuitIsOpenAndReadyOnceAllAnswerAgain() {
        // a cool-down far longer than the test: the circuits stay open until an answer closes them
        CircuitBreaker breaker = new CircuitBreaker(2, Duration.ofHours(1));
        OneKycHealthCheck check = new OneKycHealthCheck(breaker);
        assertTrue(check.isReadiness() && !check.isLiveness(), "readiness only: a restart does not bring OneKYC back");
        assertEquals(HealthCheck.State.UP, check.call().getState());

        breaker.onTransientFailure("status");
        assertEquals(HealthCheck.State.UP, check.call().getState(), "one failure does not open the circuit");
        breaker.onTransientFailure("status");
        HealthCheck.Result down = check.call();
        assertEquals(HealthCheck.State.DOWN, down.getState());
        assertTrue(down.getMessage().orElse("").endsWith(": status"), down.getMessage().toString());

        breaker.onTransientFailure("user-token");
        breaker.onTransientFailure("user-token");
        down = check.call();
        assertEquals(HealthCheck.State.DOWN, down.getState());
        assertTrue(down.getMessage().orElse("").endsWith(": status, user-token"), down.getMessage().toString());

        breaker.onSuccess("status");
        down = check.call();
        assertEquals(HealthCheck.State.DOWN, down.getState(), "still paused at user-token");
        assertFalse(down.getMessage().orElse("").contains("status"), down.getMessage().toString());

        breaker.onSuccess("user-token");
        assertEquals(HealthCheck.State.UP, check.call().getState());
    }

    @Test
    void withLedgerOnlyReadinessPausedCallsAreToldButKeepTheReplicaReady() {
        CircuitBreaker breaker = new CircuitBreaker(1, Duration.ofHours(1));
        OneKycHealthCheck check = new OneKycHealthCheck(breaker, false);
        breaker.onTransientFailure("presign");
        HealthCheck.Result told = check.call();
        assertEquals(HealthCheck.State.UP, told.getState());
        assertTrue(told.getMessage().orElse("").contains("paused after repeated failures: presign"),
                told.getMessage().toString());
    }

    @Test
    void readyAgainOnceAnAnswerComesNotWhenThePauseEnds() {
        ManualClock clock = new ManualClock(1_000_000);
        CircuitBreaker breaker = new CircuitBreaker(1, Duration.ofSeconds(30), clock);
        OneKycHealthCheck check = new OneKycHealthCheck(breaker);
        breaker.onTransientFailure("presign");
        assertEquals(HealthCheck.State.DOWN, check.call().getState());
        // the pause is over and calls flow again, but none has been answered: still down (a call to
        // a OneKYC that hangs takes its whole timeout to fail)
        clock.advance(Duration.ofSeconds(31));
        assertFalse(breaker.isOpen("presign"));
        assertEquals(HealthCheck.State.DOWN, check.call().getState(), "calls after the pause not answered yet");
        breaker.onTransientFailure("presign"); // one of them failed: paused again
        clock.advance(Duration.ofSeconds(45));
        assertEquals(HealthCheck.State.DOWN, check.call().getState());
        breaker.onSuccess("presign");
        assertEquals(HealthCheck.State.UP, check.call().getState(), "an answer closes it");
    }

    @Test
    void withoutAnyCallFailingForAPauseAndACallsLongestNothingSaysItIsStillDown() {
        ManualClock clock = new ManualClock(1_000_000);
        CircuitBreaker breaker = new CircuitBreaker(1, Duration.ofSeconds(30), clock);
        // a call after the pause to a OneKYC that hangs takes this long to fail
        breaker.callsTakeUpTo(Duration.ofSeconds(45));
        OneKycHealthCheck check = new OneKycHealthCheck(breaker);
        breaker.onTransientFailure("status");
        clock.advance(Duration.ofSeconds(74));
        assertEquals(HealthCheck.State.DOWN, check.call().getState(), "a call after the pause may still be hanging");
        // no work, no calls: a replica must not stay unready for ever on an old failure
        clock.advance(Duration.ofSeconds(2));
        assertEquals(HealthCheck.State.UP, check.call().getState());
    }
}

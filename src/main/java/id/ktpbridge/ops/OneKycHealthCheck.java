package id.ktpbridge.ops;

import java.util.List;
import java.util.Map;

import id.ktpbridge.gtf.CircuitBreaker;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Not ready while OneKYC is unreachable, i.e. while the circuit breaker has paused calls to one
 * of its endpoints after repeated failures. Readiness only: a restart would not bring OneKYC back.
 * With {@code ktp.health.readiness=ledger} it only tells: up, with the paused endpoints named.
 */
public class OneKycHealthCheck extends AbstractHealthCheck {

    private final CircuitBreaker breaker;
    private final boolean gatesReadiness;

    public OneKycHealthCheck(CircuitBreaker breaker) {
        this(breaker, true);
    }

    /** @param gatesReadiness whether paused calls make the replica not ready */
    public OneKycHealthCheck(CircuitBreaker breaker, boolean gatesReadiness) {
        super("ktp", "onekyc");
        this.breaker = breaker;
        this.gatesReadiness = gatesReadiness;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        // paused, or tried again after the pause without an answer yet: not back until one answers
        List<String> down = breaker.downEndpoints();
        if (down.isEmpty()) {
            builder.up();
        } else if (gatesReadiness) {
            builder.message("OneKYC calls are paused after repeated failures: " + String.join(", ", down)).down();
        } else {
            builder.message("OneKYC calls are paused after repeated failures: " + String.join(", ", down)
                    + " (not counted for readiness: ktp.health.readiness=ledger)").up();
        }
    }
}

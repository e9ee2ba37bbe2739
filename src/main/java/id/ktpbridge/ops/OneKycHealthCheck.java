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
        List<String> paused = breaker.openEndpoints();
        if (paused.isEmpty()) {
            builder.up();
        } else if (gatesReadiness) {
            builder.message("OneKYC calls are paused after repeated failures: " + String.join(", ", paused)).down();
        } else {
            builder.message("OneKYC calls are paused after repeated failures: " + String.join(", ", paused)
                    + " (not counted for readiness: ktp.health.readiness=ledger)").up();
        }
    }
}

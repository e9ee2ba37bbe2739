package id.ktpbridge.ops;

import java.util.List;
import java.util.Map;

import id.ktpbridge.gtf.CircuitBreaker;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Not ready while OneKYC is unreachable, i.e. while the circuit breaker has paused calls to one
 * of its endpoints after repeated failures. Readiness only: a restart would not bring OneKYC back.
 */
public class OneKycHealthCheck extends AbstractHealthCheck {

    private final CircuitBreaker breaker;

    public OneKycHealthCheck(CircuitBreaker breaker) {
        super("ktp", "onekyc");
        this.breaker = breaker;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        List<String> paused = breaker.openEndpoints();
        if (!paused.isEmpty()) {
            builder.message("OneKYC calls are paused after repeated failures: " + String.join(", ", paused)).down();
        } else {
            builder.up();
        }
    }
}

package id.ktpbridge.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import id.ktpbridge.gtf.CircuitBreaker;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Not ready while OneKYC is unreachable: while the circuit breaker has paused calls to one of its
 * endpoints after repeated failures, or, when no call has told for a while, while the last idle
 * probe ({@link OneKycProbe}) could not connect to its hosts. Readiness only: a restart would not
 * bring OneKYC back. With {@code ktp.health.readiness=ledger} it only tells: up, with the paused
 * endpoints and unreachable hosts named.
 */
public class OneKycHealthCheck extends AbstractHealthCheck {

    private final CircuitBreaker breaker;
    private final boolean gatesReadiness;
    private final OneKycProbe probe;

    public OneKycHealthCheck(CircuitBreaker breaker) {
        this(breaker, true);
    }

    /** @param gatesReadiness whether paused calls make the replica not ready */
    public OneKycHealthCheck(CircuitBreaker breaker, boolean gatesReadiness) {
        this(breaker, gatesReadiness, null);
    }

    /** @param probe what tells while no call does; null: the breaker alone */
    public OneKycHealthCheck(CircuitBreaker breaker, boolean gatesReadiness, OneKycProbe probe) {
        super("ktp", "onekyc");
        this.breaker = breaker;
        this.gatesReadiness = gatesReadiness;
        this.probe = probe;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        List<String> problems = new ArrayList<>(2);
        // paused, or tried again after the pause without an answer yet: not back until one answers
        List<String> down = breaker.downEndpoints();
        if (!down.isEmpty()) {
            problems.add("OneKYC calls are paused after repeated failures: " + String.join(", ", down));
        }
        List<String> unreachable = probe == null ? List.of() : probe.unreachable();
        if (!unreachable.isEmpty()) {
            problems.add("No connection to OneKYC could be opened (probed while no calls were made): " + String.join(", ", unreachable));
        }
        if (problems.isEmpty()) {
            // paused after a run of 429s: named, but OneKYC answers, so the replica stays ready
            List<String> throttled = breaker.openEndpoints().stream().filter(e -> !down.contains(e)).toList();
            if (!throttled.isEmpty()) {
                builder.message("OneKYC calls are paused after repeated 429 answers (throttled, not down): "
                        + String.join(", ", throttled));
            }
            builder.up();
        } else if (gatesReadiness) {
            builder.message(String.join("; ", problems)).down();
        } else {
            builder.message(String.join("; ", problems) + " (not counted for readiness: ktp.health.readiness=ledger)")
                    .up();
        }
    }
}

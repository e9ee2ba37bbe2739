package id.ktpbridge.ops;

import java.util.Map;

import id.ktpbridge.ledger.Ledger;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Ready only while the ledger database answers. Not a liveness check: a restart does not bring a
 * database back, and the bundle rides out a failover itself (its steps are retried), so a
 * database outage must not get every replica killed.
 */
public class LedgerHealthCheck extends AbstractHealthCheck {

    private final Ledger ledger;

    public LedgerHealthCheck(Ledger ledger) {
        super("ktp", "ledger");
        this.ledger = ledger;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        try {
            builder.detail("open", ledger.openCounts().values().stream().mapToInt(Integer::intValue).sum());
            builder.up();
        } catch (RuntimeException e) {
            builder.message("ledger database not reachable: " + e.getMessage()).down();
        }
    }
}

package id.ktpbridge.ops;

import java.util.Map;

import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Ready only while the ledger database answers, as the last background reading of the ledger
 * says ({@link LedgerSnapshot}): the check itself never waits on the database. Not a liveness
 * check: a restart does not bring a database back, and the bundle rides out a failover itself
 * (its steps are retried), so a database outage must not get every replica killed.
 */
public class LedgerHealthCheck extends AbstractHealthCheck {

    private final LedgerSnapshot snapshot;

    public LedgerHealthCheck(LedgerSnapshot snapshot) {
        super("ktp", "ledger");
        this.snapshot = snapshot;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        String problem = snapshot.problem();
        if (problem != null) {
            builder.message(problem).down();
            return;
        }
        builder.detail("open", snapshot.values().open());
        builder.up();
    }
}

package id.ktpbridge.ops;

import java.util.Map;

import id.ktpbridge.ledger.Ledger;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/** Ready and live only while the ledger database answers. */
public class LedgerHealthCheck extends AbstractHealthCheck {

    private final Ledger ledger;

    public LedgerHealthCheck(Ledger ledger) {
        super("ktp", "ledger");
        this.ledger = ledger;
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

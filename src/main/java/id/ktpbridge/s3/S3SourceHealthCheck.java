package id.ktpbridge.s3;

import java.util.Map;

import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Not ready from a failed listing of the S3 source's bucket until a listing works again, as
 * {@link S3PollGate} counts them. Camel's consumer check of {@code ingest-s3} counts failed polls
 * from 0 again when a back-off ends, before the next poll is made: while that poll waited on a
 * store that does not answer (the read timeout, for each of the client's attempts), the replica
 * was ready, once every back-off. Readiness only, as for the ledger: a restart does not bring a
 * store back.
 */
public class S3SourceHealthCheck extends AbstractHealthCheck {

    private final S3PollGate gate;

    public S3SourceHealthCheck(S3PollGate gate) {
        super("ktp", "s3-source");
        this.gate = gate;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        int failures = gate.failuresInARow();
        if (failures == 0) {
            builder.up();
            return;
        }
        // the error is shown by its kind only (SafeHealthErrors): its message may quote a key
        builder.message("S3 source: listing the bucket failed " + failures + " time(s) in a row; not ready until"
                + " a listing works").detail("failure.error.count", failures).error(gate.lastFailure()).down();
    }
}

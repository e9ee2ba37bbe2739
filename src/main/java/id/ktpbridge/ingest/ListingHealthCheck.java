package id.ktpbridge.ingest;

import java.util.Map;

import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Not ready from a failed listing of a source until a listing works again, as its
 * {@link ListingFailures} counts them ({@code s3-source}, {@code sftp-source}). Camel's consumer
 * check of the source's route counts failed polls from 0 again when a back-off ends, before the
 * next poll is made: while that poll waited on a server or store that does not answer (the S3
 * client's read timeout, an SFTP login's connect timeout), the replica was ready, once every
 * back-off. Readiness only, as for the ledger: a restart does not bring a server back.
 */
public class ListingHealthCheck extends AbstractHealthCheck {

    private final String listing;
    private final ListingFailures failures;

    /** @param listing what is listed, for the message: {@code S3 source: listing the bucket} */
    public ListingHealthCheck(String id, String listing, ListingFailures failures) {
        super("ktp", id);
        this.listing = listing;
        this.failures = failures;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        int failed = failures.inARow();
        if (failed == 0) {
            builder.up();
            return;
        }
        // the error is shown by its kind only (SafeHealthErrors): its message may quote a key or a file name
        builder.message(listing + " failed " + failed + " time(s) in a row; not ready until a listing works")
                .detail("failure.error.count", failed).error(failures.last()).down();
    }
}

package id.ktpbridge.sftp;

import id.ktpbridge.ledger.LedgerIdempotentRepository;
import org.apache.camel.Consumer;
import org.apache.camel.Endpoint;
import org.apache.camel.spi.PollingConsumerPollStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SFTP consumers' poll strategy. Camel claims each file in the ledger as it lists it
 * ({@code idempotentEager}); a listing that then breaks off (the ledger refuses a later claim, a
 * sub-folder cannot be read) abandons the poll, and only the files' in-progress marks are dropped.
 * Their ledger claims had no exchange to settle them: in cluster mode this instance would renew
 * them for as long as it runs, so no instance took those files. They are given back here.
 */
public class SftpListingClaims implements PollingConsumerPollStrategy {

    private static final Logger LOG = LoggerFactory.getLogger(SftpListingClaims.class);

    private final LedgerIdempotentRepository claims;

    public SftpListingClaims(LedgerIdempotentRepository claims) {
        this.claims = claims;
    }

    @Override
    public boolean begin(Consumer consumer, Endpoint endpoint) {
        claims.listingBegins();
        return true;
    }

    @Override
    public void commit(Consumer consumer, Endpoint endpoint, int polledMessages) {
        claims.listingDone();
    }

    @Override
    public boolean rollback(Consumer consumer, Endpoint endpoint, int retryCounter, Exception cause) {
        int given = claims.listingBrokeOff();
        if (given > 0) {
            LOG.info("SFTP source: a listing broke off; the {} file(s) it had claimed are taken again at a later poll",
                    given);
        }
        // no retry at once: the consumer's exception handler logs the failure and the back-off applies
        return false;
    }
}

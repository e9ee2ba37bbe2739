package id.ktpbridge.ingest;

import org.apache.camel.Consumer;
import org.apache.camel.Endpoint;
import org.apache.camel.spi.PollingConsumerPollStrategy;

/**
 * A consumer's poll strategy that counts whether each poll worked ({@link ListingFailures}, for
 * readiness) and leaves the rest to the source's own strategy.
 */
public class CountingPollStrategy implements PollingConsumerPollStrategy {

    private final PollingConsumerPollStrategy strategy;
    private final ListingFailures failures = new ListingFailures();

    public CountingPollStrategy(PollingConsumerPollStrategy strategy) {
        this.strategy = strategy;
    }

    public ListingFailures failures() {
        return failures;
    }

    @Override
    public boolean begin(Consumer consumer, Endpoint endpoint) {
        return strategy.begin(consumer, endpoint);
    }

    @Override
    public void commit(Consumer consumer, Endpoint endpoint, int polledMessages) {
        strategy.commit(consumer, endpoint, polledMessages);
        failures.worked();
    }

    @Override
    public boolean rollback(Consumer consumer, Endpoint endpoint, int retryCounter, Exception cause)
            throws Exception {
        boolean retry;
        try {
            retry = strategy.rollback(consumer, endpoint, retryCounter, cause);
        } catch (Exception e) {
            // the consumer counts the poll failed then too
            failures.failed(cause);
            throw e;
        }
        if (!retry) {
            // a poll tried again at once is counted by how that try ends
            failures.failed(cause);
        }
        return retry;
    }
}

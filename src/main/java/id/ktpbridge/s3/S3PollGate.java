package id.ktpbridge.s3;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import id.ktpbridge.ingest.ListingFailures;
import id.ktpbridge.ingest.SourceErrorHandler;
import org.apache.camel.Consumer;
import org.apache.camel.Endpoint;
import org.apache.camel.Exchange;
import org.apache.camel.Ordered;
import org.apache.camel.component.aws2.s3.AWS2S3Endpoint;
import org.apache.camel.spi.PollingConsumerPollStrategy;
import org.apache.camel.support.SynchronizationAdapter;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Poll strategy and exception handler of the S3 consumer ({@code ingest-s3}).
 * <ul>
 * <li>A poll lists the bucket only once every object of the previous poll is done (submitted and
 * moved, or quarantined, its release written and its in-progress mark gone). The objects of one poll are submitted in parallel, but a listing never
 * sees an object that is still being worked on or is just being moved away.</li>
 * <li>A failing poll (store unreachable, credentials revoked) is logged as one line when it starts
 * failing, then at most once per {@code repeatEvery} while it keeps failing, and once more when it
 * works again: an outage does not flood the log. The consumer's back-off
 * ({@code backoffErrorThreshold}, {@code backoffMultiplier}) spaces the attempts out. The failures
 * in a row are what readiness reports ({@code s3-source}, {@link id.ktpbridge.ingest.ListingHealthCheck}).</li>
 * </ul>
 */
public class S3PollGate extends SourceErrorHandler implements PollingConsumerPollStrategy {

    private static final Logger LOG = LoggerFactory.getLogger(S3PollGate.class);

    private final AtomicInteger inFlight = new AtomicInteger();
    private final Object monitor = new Object();
    private final long repeatEveryNanos;
    private final ListingFailures failures = new ListingFailures();
    private long lastReportNanos;

    public S3PollGate(Duration repeatEvery) {
        this.repeatEveryNanos = repeatEvery.toNanos();
    }

    /**
     * Counts the exchange as in flight until it is done; called on the consumer's thread, before
     * the route hands the exchange to a worker.
     *
     * <p>Counted down as the exchange's last completion step: Camel runs steps of equal order in
     * the reverse of their registration, so this one, {@link Ordered#LOWEST} and registered before
     * {@link id.ktpbridge.ingest.SourceRelease}'s, runs after that, and after the consumer's own
     * (no order), which drops the key's in-progress mark. Counted down before them, the next
     * listing could begin in between: it skipped an object left for a retry as still in progress,
     * and took the same bytes put back for the earlier input, whose release was not written yet.
     */
    public void track(Exchange exchange) {
        inFlight.incrementAndGet();
        exchange.getExchangeExtension().addOnCompletion(new Done());
    }

    private final class Done extends SynchronizationAdapter implements Ordered {

        @Override
        public int getOrder() {
            return Ordered.LOWEST;
        }

        @Override
        public void onDone(Exchange done) {
            if (inFlight.decrementAndGet() == 0) {
                synchronized (monitor) {
                    monitor.notifyAll();
                }
            }
        }
    }

    int inFlight() {
        return inFlight.get();
    }

    @Override
    public boolean begin(Consumer consumer, Endpoint endpoint) {
        synchronized (monitor) {
            while (inFlight.get() > 0) {
                if (consumer instanceof ServiceSupport service && !service.isRunAllowed()) {
                    return false;
                }
                try {
                    monitor.wait(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return true;
    }

    @Override
    public synchronized void commit(Consumer consumer, Endpoint endpoint, int polledMessages) {
        int failed = failures.worked();
        if (failed > 0) {
            LOG.info("S3 source: listing the bucket works again after {} failed attempt(s)", failed);
        }
    }

    public ListingFailures failures() {
        return failures;
    }

    @Override
    public boolean rollback(Consumer consumer, Endpoint endpoint, int retryCounter, Exception cause) {
        if (endpoint instanceof AWS2S3Endpoint s3) {
            // Camel marks each listed key in progress before it fetches the object, and a fetch that fails
            // (a 5xx after the client's retries, a timeout) leaves its key marked: no later listing would take
            // that object again. Nothing of the failed listing was routed, and the previous listing's objects
            // were all done before it began (begin), so no mark belongs to work under way
            s3.getInProgressRepository().clear();
        }
        // no immediate retry: the next scheduled poll tries again (with back-off); handleException reports it
        return false;
    }

    @Override
    public synchronized void handleException(String message, Exchange exchange, Throwable exception) {
        if (exchange != null) {
            // the route handles every input failure itself; this is for the unexpected
            LOG.warn("S3 source: an object could not be processed: {}", S3BucketCheck.objectError(exception));
            return;
        }
        int failed = failures.failed(exception);
        long now = System.nanoTime();
        if (failed == 1 || now - lastReportNanos >= repeatEveryNanos) {
            lastReportNanos = now;
            LOG.warn("S3 source: listing the bucket failed ({} time(s) in a row), retrying with back-off: {}",
                    failed, S3BucketCheck.objectError(exception));
        }
    }
}

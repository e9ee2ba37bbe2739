package id.ktpbridge.sandbox;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pushes result callbacks to the partner. Fully asynchronous (sendAsync + scheduled retries),
 * so neither request threads nor the processing scheduler wait on a slow partner.
 * Each duplicate copy is delivered after the previous copy finished, like a redelivery.
 */
final class CallbackSender {

    private static final Logger LOG = LoggerFactory.getLogger(CallbackSender.class);
    private static final long FIRST_BACKOFF_MILLIS = 100;
    private static final long MAX_BACKOFF_MILLIS = 2_000;
    private static final long DUPLICATE_GAP_MILLIS = 50;

    /**
     * Everything needed for one delivery, captured from the settings when the submission finished.
     * {@code lateMillis} holds back the first copy (fault injection: the poller may win the race).
     */
    record Delivery(String url, String authorization, String body, String submissionId,
                    int copies, int maxAttempts, long lateMillis) {

        /** Without the URL, its authorization and the body (a full-record callback carries the OCR data). */
        @Override
        public String toString() {
            return "Delivery[submissionId=" + submissionId + ", copies=" + copies + ", maxAttempts=" + maxAttempts
                    + ", lateMillis=" + lateMillis + "]";
        }
    }

    private final ScheduledExecutorService scheduler;
    private final HttpClient client;
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong attempts = new AtomicLong();

    CallbackSender(ScheduledExecutorService scheduler, ExecutorService httpExecutor) {
        this.scheduler = scheduler;
        this.client = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(2))
                .executor(httpExecutor)
                .build();
    }

    void send(Delivery delivery) {
        if (delivery.lateMillis() > 0) {
            schedule(() -> attempt(delivery, 1, 1), delivery.lateMillis());
        } else {
            attempt(delivery, 1, 1);
        }
    }

    long deliveredCount() { return delivered.get(); }

    long attemptCount() { return attempts.get(); }

    private void attempt(Delivery d, int copy, int attempt) {
        HttpRequest.Builder request;
        try {
            request = HttpRequest.newBuilder(URI.create(d.url()))
                    .timeout(Duration.ofSeconds(5))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(d.body()));
        } catch (IllegalArgumentException e) {
            LOG.warn("Callback URL is invalid; callback for submission {} dropped", d.submissionId());
            return;
        }
        if (d.authorization() != null && !d.authorization().isBlank()) {
            request.header("Authorization", d.authorization());
        }
        attempts.incrementAndGet();
        client.sendAsync(request.build(), HttpResponse.BodyHandlers.discarding())
                .whenComplete((response, error) -> {
                    boolean ok = error == null && response.statusCode() / 100 == 2;
                    if (ok) {
                        delivered.incrementAndGet();
                        LOG.debug("Callback for submission {} delivered (copy {}, attempt {})", d.submissionId(), copy, attempt);
                        nextCopy(d, copy);
                    } else if (attempt < d.maxAttempts()) {
                        long backoff = Math.min(MAX_BACKOFF_MILLIS, FIRST_BACKOFF_MILLIS << (attempt - 1));
                        LOG.debug("Callback for submission {} failed ({}), retrying in {} ms", d.submissionId(),
                                error != null ? error.getClass().getSimpleName() : "HTTP " + response.statusCode(), backoff);
                        schedule(() -> attempt(d, copy, attempt + 1), backoff);
                    } else {
                        LOG.warn("Callback for submission {} gave up after {} attempts", d.submissionId(), attempt);
                        nextCopy(d, copy);
                    }
                });
    }

    private void nextCopy(Delivery d, int copy) {
        if (copy < d.copies()) {
            schedule(() -> attempt(d, copy + 1, 1), DUPLICATE_GAP_MILLIS);
        }
    }

    private void schedule(Runnable task, long delayMillis) {
        try {
            scheduler.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.debug("Sandbox stopped; pending callback dropped");
        }
    }
}

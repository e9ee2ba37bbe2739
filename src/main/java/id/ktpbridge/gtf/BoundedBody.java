package id.ktpbridge.gtf;

import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A response body (UTF-8 text: OneKYC's JSON, the storage's XML) that must arrive whole within a
 * limit once the headers are in. The JDK's request timeout ends with the headers, so a server that
 * sends part of a body and stops would hold the calling thread for ever. Past the limit the body
 * is given up (its subscription cancelled, which closes the connection) and the call fails with
 * an {@link HttpTimeoutException}. The call itself stays on the caller's thread.
 */
final class BoundedBody {

    /**
     * One daemon thread for every limit: each only cancels a subscription. A limit is dropped from
     * its queue as soon as its body is in, so the queue holds only the answers under way.
     */
    private static final ScheduledExecutorService TIMER = timer();

    private static ScheduledExecutorService timer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "ktp-http-body-limit");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    private BoundedBody() {
    }

    static HttpResponse.BodyHandler<String> ofString(Duration limit) {
        return info -> new Subscriber(HttpResponse.BodySubscribers.ofString(StandardCharsets.UTF_8), limit);
    }

    private static final class Subscriber implements HttpResponse.BodySubscriber<String> {

        private final HttpResponse.BodySubscriber<String> delegate;
        private final Duration limit;
        private final CompletableFuture<String> body = new CompletableFuture<>();

        Subscriber(HttpResponse.BodySubscriber<String> delegate, Duration limit) {
            this.delegate = delegate;
            this.limit = limit;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            ScheduledFuture<?> giveUp = TIMER.schedule(() -> {
                if (body.completeExceptionally(new HttpTimeoutException("the body did not arrive whole within "
                        + limit.toMillis() + " ms of the headers"))) {
                    subscription.cancel();
                }
            }, limit.toMillis(), TimeUnit.MILLISECONDS);
            delegate.getBody().whenComplete((text, failure) -> {
                giveUp.cancel(false);
                if (failure != null) {
                    body.completeExceptionally(failure);
                } else {
                    body.complete(text);
                }
            });
            delegate.onSubscribe(subscription);
        }

        @Override
        public void onNext(List<ByteBuffer> item) {
            delegate.onNext(item);
        }

        @Override
        public void onError(Throwable throwable) {
            delegate.onError(throwable);
        }

        @Override
        public void onComplete() {
            delegate.onComplete();
        }

        @Override
        public CompletionStage<String> getBody() {
            return body;
        }
    }
}

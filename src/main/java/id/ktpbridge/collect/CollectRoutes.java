package id.ktpbridge.collect;

import org.apache.camel.ExchangePattern;
import org.apache.camel.builder.RouteBuilder;

/**
 * The two ways an outcome is collected. {@code direct:poll-due} is driven by the Quartz schedule
 * in {@code routes/poll-status.yaml}; {@code direct:receive-callback} by the HTTP route in
 * {@code routes/callback.yaml}. Both end in the {@link Collector}.
 */
public class CollectRoutes extends RouteBuilder {

    private static final String COLLECT_QUEUE = "seda:collect-callback?size={{ktp.callback.queue-size}}";

    @Override
    public void configure() {
        from("direct:poll-due").routeId("poll-due")
                .bean("poller", "dueBatch")
                .split(body()).parallelProcessing().executorService("pollWorkers").stopOnException(false)
                    .bean("poller", "pollOne")
                .end();

        from("direct:receive-callback").routeId("receive-callback")
                .bean("callbackReceiver", "receive")
                .filter(header(CallbackReceiver.SUBMISSION_ID).isNotNull())
                    // handed over, not waited for; a full queue refuses at once. The note made instead
                    // runs on a bounded pool of its own (see CallbackReceiver#noteLater), never on
                    // this request's thread: the answer does not wait on the ledger
                    .doTry()
                        .to(ExchangePattern.InOnly, COLLECT_QUEUE)
                    .doCatch(IllegalStateException.class)
                        .bean("callbackReceiver", "noteLater")
                    .end()
                .end()
                .removeHeader(CallbackReceiver.SUBMISSION_ID)
                .removeHeader(CallbackReceiver.RECORD)
                .removeHeader(CallbackReceiver.RECORD_BYTES)
                .removeHeader(CallbackReceiver.ERROR_REASON);

        // a short poll timeout: at shutdown Camel waits for each worker's current poll (1 s by default)
        from(COLLECT_QUEUE + "&concurrentConsumers={{ktp.callback.workers}}&pollTimeout=100")
                .routeId("collect-callback")
                .bean("callbackReceiver", "collect");
    }
}

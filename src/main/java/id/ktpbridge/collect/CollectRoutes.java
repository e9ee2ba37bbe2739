package id.ktpbridge.collect;

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
                    .wireTap("direct:queue-callback")
                .end()
                .removeHeader(CallbackReceiver.SUBMISSION_ID)
                .removeHeader(CallbackReceiver.RECORD)
                .removeHeader(CallbackReceiver.RECORD_BYTES)
                .removeHeader(CallbackReceiver.ERROR_REASON);

        // answered already: a callback the queue has no room for is noted in the ledger instead
        from("direct:queue-callback").routeId("queue-callback")
                .doTry()
                    .to(COLLECT_QUEUE)
                .doCatch(IllegalStateException.class)
                    .bean("callbackReceiver", "noteOnly")
                .end();

        // a short poll timeout: at shutdown Camel waits for each worker's current poll (1 s by default)
        from(COLLECT_QUEUE + "&concurrentConsumers={{ktp.callback.workers}}&pollTimeout=100")
                .routeId("collect-callback")
                .bean("callbackReceiver", "collect");
    }
}

package id.ktpbridge.collect;

import org.apache.camel.builder.RouteBuilder;

/**
 * The two ways an outcome is collected. {@code direct:poll-due} is driven by the Quartz schedule
 * in {@code routes/poll-status.yaml}; {@code direct:receive-callback} by the HTTP route in
 * {@code routes/callback.yaml}. Both end in the {@link Collector}.
 */
public class CollectRoutes extends RouteBuilder {

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
                    .wireTap("seda:collect-callback")
                .end()
                .removeHeader(CallbackReceiver.SUBMISSION_ID)
                .removeHeader(CallbackReceiver.RECORD);

        // a short poll timeout: at shutdown Camel waits for each worker's current poll (1 s by default)
        from("seda:collect-callback?concurrentConsumers={{ktp.callback.workers}}&size={{ktp.callback.queue-size}}&pollTimeout=100")
                .routeId("collect-callback")
                .bean("callbackReceiver", "collect");
    }
}

package id.ktpbridge.submit;

import org.apache.camel.builder.RouteBuilder;

/**
 * {@code direct:submit-ktp}: the core every source feeds. One input in, one confirmed submission
 * (or one REJECTED/FAILED result) out; the outcome arrives later by poll or callback.
 */
public class SubmitRoutes extends RouteBuilder {

    @Override
    public void configure() {
        from("direct:submit-ktp").routeId("submit-ktp")
                .onException(Exception.class)
                    .handled(false)
                    .logExhausted(false)
                    .process("failureRecorder")
                .end()
                .process("intake")
                // no work item: the input was already submitted (seen again after a restart)
                .filter(exchangeProperty(WorkItem.PROPERTY).isNotNull())
                    .bean("submitter", "presign")
                    .bean("submitter", "upload")
                    .bean("submitter", "confirm")
                .end();
    }
}

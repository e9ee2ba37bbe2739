package id.ktpbridge.submit;

import id.ktpbridge.ledger.LedgerException;
import org.apache.camel.LoggingLevel;
import org.apache.camel.builder.RouteBuilder;

/**
 * {@code direct:submit-ktp}: the core every source feeds. One input in, one confirmed submission
 * (or one REJECTED/FAILED result) out; the outcome arrives later by poll or callback.
 */
public class SubmitRoutes extends RouteBuilder {

    @Override
    public void configure() {
        from("direct:submit-ktp").routeId("submit-ktp")
                // an S3 object arrives as a stream: Intake spools it and stops past the size limit,
                // stream caching would first copy all of it into memory
                .noStreamCaching()
                // the ledger's database went away for a moment (restart, failover): the failed step is
                // tried again. Each step is safe to repeat: intake finds a row it already wrote and
                // resumes it, an upload goes to the same URL, a repeated confirm is answered 409
                .onException(LedgerException.class)
                    .onWhen(exchange -> exchange.getException(LedgerException.class).isTransient())
                    .maximumRedeliveries("{{ktp.db.retry-attempts}}")
                    .redeliveryDelay("{{ktp.db.retry-delay}}")
                    .useExponentialBackOff()
                    .maximumRedeliveryDelay(LedgerException.MAX_RETRY_DELAY_MILLIS)
                    .retryAttemptedLogLevel(LoggingLevel.WARN)
                    .handled(false)
                    .logExhausted(false)
                    .process("failureRecorder")
                .end()
                // never tried again: a rejection or a refusal stays one (without this, an exchange on
                // which the rule above fired once would take over its redelivery count)
                .onException(Exception.class)
                    .maximumRedeliveries(0)
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

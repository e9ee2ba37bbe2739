package id.ktpbridge.ops;

import org.apache.camel.CamelContext;
import org.apache.camel.spi.Tracer;
import org.apache.camel.support.processor.DefaultExchangeFormatter;

/**
 * Camel's switches that print exchanges into the log, made safe or refused: bodies are result
 * documents, callback records and sidecars (NIK, name, address), headers carry file names and
 * object keys, properties the bundle's work items.
 */
public final class TracingWithoutData {

    private TracingWithoutData() {
    }

    /**
     * Run once the context's settings are applied (a startup listener): Camel's tracer
     * ({@code camel.main.tracing}, or on standby) shows each step by route, node and body type
     * only; {@code camel.main.log-exhausted-message-body} is refused.
     */
    public static void apply(CamelContext context) {
        if (Boolean.TRUE.equals(context.isLogExhaustedMessageBody())) {
            throw new IllegalStateException("Setting 'camel.main.log-exhausted-message-body' must stay false: it"
                    + " prints the bodies and headers of failed exchanges (result documents, file names: NIKs and"
                    + " names) into the log; the bundle logs each failure by ledger id and reason");
        }
        // whether or not tracing is on for the context: a route can switch it on for itself (trace: true)
        Tracer tracer = context.getTracer();
        if (tracer != null) {
            tracer.setExchangeFormatter(stepsOnly());
        }
    }

    private static DefaultExchangeFormatter stepsOnly() {
        DefaultExchangeFormatter f = new DefaultExchangeFormatter();
        f.setShowBody(false);
        f.setShowHeaders(false);
        f.setShowProperties(false);
        f.setShowAllProperties(false);
        f.setShowVariables(false);
        f.setShowException(false);
        f.setShowCaughtException(false);
        f.setShowStackTrace(false);
        f.setShowFiles(false);
        f.setShowBodyType(true);
        f.setShowExchangeId(true);
        f.setShowRouteId(true);
        return f;
    }
}

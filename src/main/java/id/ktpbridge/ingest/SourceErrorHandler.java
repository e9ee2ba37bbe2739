package id.ktpbridge.ingest;

import org.apache.camel.spi.ExceptionHandler;

/**
 * Base of the sources' exception handlers: Camel calls the shorter forms for failures that belong
 * to no exchange (a failed poll), and each handler answers them in its one full form.
 */
public abstract class SourceErrorHandler implements ExceptionHandler {

    @Override
    public final void handleException(Throwable exception) {
        handleException(null, null, exception);
    }

    @Override
    public final void handleException(String message, Throwable exception) {
        handleException(message, null, exception);
    }
}

package id.ktpbridge.sftp;

import id.ktpbridge.ingest.InputHeaders;
import id.ktpbridge.ingest.SourceErrorHandler;
import id.ktpbridge.submit.WorkItem;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.component.file.GenericFileEndpoint;
import org.apache.camel.support.LoggingExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SFTP consumer's exception handler. A failed poll (server down, network gone) is one WARN
 * line with the root cause, not a stack trace; together with the consumer's back-off
 * ({@code backoffErrorThreshold}/{@code backoffMultiplier}) an outage logs a few lines a minute.
 * A file whose download failed gets its claim back, and one line without its name, and is left
 * out of listings for a while ({@link UnreadableFiles}), as is a sub-folder the server refuses to
 * list. Anything else goes to Camel's usual logging handler.
 */
public class SftpPollErrors extends SourceErrorHandler {

    private static final Logger LOG = LoggerFactory.getLogger(SftpPollErrors.class);

    private final LoggingExceptionHandler fallback;
    private final String server;
    private final long pauseMillis;

    /**
     * @param server      {@code sftp://host:port} for the log line
     * @param pauseMillis how long polling pauses after a failure (poll delay x back-off polls), for the log line
     */
    public SftpPollErrors(CamelContext context, String server, long pauseMillis, UnreadableFiles unreadable) {
        this.fallback = new LoggingExceptionHandler(context, SftpPollErrors.class);
        this.server = server;
        this.pauseMillis = pauseMillis;
        this.unreadable = unreadable;
    }

    private final UnreadableFiles unreadable;

    @Override
    public void handleException(String message, Exchange exchange, Throwable exception) {
        if (exchange != null && exchange.getProperty(WorkItem.LEDGER_ID) == null
                && exchange.getMessage().getHeader(InputHeaders.SOURCE_TYPE) == null) {
            // the route never took it: its download broke off. Camel has claimed the file already and
            // keeps the claim (until it expires; in cluster mode it is renewed), so it is given back
            releaseClaim(exchange);
            // left out of the next listings for a while: the consumer would list it again at once
            if (!unreadable.failed(exchange, exception)) {
                // not Camel's line: it names the file, and a file name may be a NIK
                // the kind of error only (or the SFTP status): a local work file's message holds its path
                Throwable root = root(exception);
                LOG.warn("SFTP source: a file could not be downloaded ({}); it is taken again in {} s",
                        root instanceof com.jcraft.jsch.SftpException ? SftpConnector.safe(root)
                                : root.getClass().getSimpleName(), UnreadableFiles.FAILED_PAUSE_MILLIS / 1000);
            }
            LOG.debug("SFTP download failure: {}", chain(exception));
            return;
        }
        if (exchange != null) {
            fallback.handleException(message, exchange, exception);
            return;
        }
        if (unreadable.listingFailed(exception)) {
            // a sub-folder the login may not list: left out from the next poll on, said once a minute
            LOG.debug("SFTP sub-folder listing refused: {}", chain(exception));
            return;
        }
        LOG.warn("SFTP source: polling {} failed: {}. Next attempt in about {} s.", server, rootCause(exception),
                Math.max(1, pauseMillis / 1000));
        LOG.debug("SFTP poll failure: {}", chain(exception));
    }

    private static void releaseClaim(Exchange exchange) {
        if (exchange.getFromEndpoint() instanceof GenericFileEndpoint<?> endpoint
                && endpoint.getIdempotentRepository() != null && endpoint.getIdempotentKey() != null) {
            String key = endpoint.getIdempotentKey().evaluate(exchange, String.class);
            if (key != null) {
                endpoint.getIdempotentRepository().remove(key);
            }
        }
    }

    /**
     * The exception's chain by class, with the SFTP status and where the innermost one was thrown,
     * for the DEBUG line: not the messages, as Camel's name the file or folder
     * ({@code Cannot retrieve file: inbox/<name>}) and a file name may be a NIK.
     */
    static String chain(Throwable e) {
        StringBuilder out = new StringBuilder();
        Throwable last = e;
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            out.append(out.length() == 0 ? "" : " caused by ").append(t.getClass().getName());
            if (t instanceof com.jcraft.jsch.SftpException) {
                out.append(" (").append(SftpConnector.safe(t)).append(')');
            }
            last = t;
        }
        StackTraceElement[] trace = last.getStackTrace();
        return trace.length == 0 ? out.toString() : out.append(" at ").append(trace[0]).toString();
    }

    /** The innermost message, e.g. {@code java.net.ConnectException: Connection refused}. */
    static String rootCause(Throwable e) {
        Throwable root = root(e);
        if (root instanceof com.jcraft.jsch.SftpException) {
            // its text may name a sub-folder's path (recursive listing): the status only
            return SftpConnector.safe(root);
        }
        String message = root.getMessage();
        return root.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    private static Throwable root(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }
}

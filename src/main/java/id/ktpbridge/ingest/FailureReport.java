package id.ktpbridge.ingest;

import java.nio.file.FileSystemException;
import java.time.Instant;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import id.ktpbridge.LogSafe;
import id.ktpbridge.gtf.GtfApiException;
import id.ktpbridge.gtf.StorageUploadException;
import id.ktpbridge.submit.WorkItem;
import org.apache.camel.Exchange;

/**
 * The {@code <name>.error.json} a source writes next to a quarantined input: which input, the
 * reason code and a message a person can act on.
 */
public class FailureReport {

    private final ObjectMapper json;

    public FailureReport(ObjectMapper json) {
        this.json = json;
    }

    /** Camel bean method: replaces the body with the report of the exception being handled. */
    public void describe(Exchange exchange) {
        exchange.getMessage().setBody(report(exchange));
    }

    /** The report of the exception being handled, as JSON text. */
    public String report(Exchange exchange) {
        Exception failure = failure(exchange);
        ObjectNode report = json.createObjectNode();
        report.put("sourceFile", exchange.getMessage().getHeader(InputHeaders.SOURCE_FILE, String.class));
        report.put("reasonCode", reasonCode(failure));
        report.put("message", message(failure));
        report.put("ledgerId", exchange.getProperty(WorkItem.LEDGER_ID, String.class));
        report.put("at", Instant.now().toString());
        return report.toPrettyString();
    }

    public static Exception failure(Exchange exchange) {
        return exchange.getException() != null ? exchange.getException()
                : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
    }

    public static String reasonCode(Exception e) {
        if (e instanceof InputRejectedException r) {
            return r.reason().name();
        }
        if (e instanceof InputAlreadyEndedException ended && ended.reasonCode() != null) {
            return ended.reasonCode();
        }
        if (e instanceof GtfApiException g) {
            return "GTF_" + g.endpoint().toUpperCase(java.util.Locale.ROOT).replace('-', '_') + "_FAILED";
        }
        if (e instanceof StorageUploadException) {
            return "GTF_UPLOAD_FAILED";
        }
        return "INTERNAL_ERROR";
    }

    private static String message(Exception e) {
        if (e instanceof InputRejectedException r) {
            return r.reason().description() + ": " + r.detail();
        }
        if (e instanceof InputAlreadyEndedException ended && ended.recordedMessage() != null) {
            // quarantined again (a stop between its report and its move): the reason stays the report's
            return ended.recordedMessage() + " (" + safeMessage(e) + ")";
        }
        return safeMessage(e);
    }

    /**
     * The message of a failure, fit for a result document, a report and the log. The bundle's own
     * exceptions word theirs with that in mind. Another library's message is cut at its first
     * quoted value: the JDK quotes a refused header value (a pass-key, a token), a database a value
     * (a result document), a parser a piece of its input; and at its first path or Camel file value,
     * which name a file. Runs of nine digits or more are masked.
     */
    /** A path after a space, or a file Camel prints with its name ({@code RemoteFile[...]}, {@code GenericFile[...]}). */
    private static final java.util.regex.Pattern UNQUOTED_VALUE = java.util.regex.Pattern.compile(" /|(?<=File)\\[");

    public static String safeMessage(Throwable e) {
        if (e == null) {
            return "unknown error";
        }
        String message = e.getMessage() == null ? "" : e.getMessage();
        if (e.getClass().getName().startsWith("id.ktpbridge.")) {
            return message;
        }
        if (e instanceof FileSystemException fs) {
            // its message is the path, whose file name may be a NIK: only the reason, if any
            return e.getClass().getSimpleName() + (fs.getReason() == null ? "" : ": " + fs.getReason());
        }
        int quote = -1;
        for (int i = 0; i < message.length() && quote < 0; i++) {
            char c = message.charAt(i);
            if (c == '\'' || c == '"' || c == '`') {
                quote = i;
            }
        }
        String text = quote < 0 ? message : message.substring(0, quote) + "…";
        // and at a path or a file, which are not quoted: Camel's "with value RemoteFile[inbox/<name>]",
        // an I/O error's "/data/.../<name>"
        java.util.regex.Matcher unquoted = UNQUOTED_VALUE.matcher(text);
        text = unquoted.find() ? text.substring(0, unquoted.start()) + " …" : text;
        text = LogSafe.text(text, 300);
        return e.getClass().getSimpleName() + (text.isBlank() ? "" : ": " + text);
    }
}

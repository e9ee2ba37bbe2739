package id.ktpbridge.ingest;

import java.time.Duration;

/**
 * An input that cannot go on now but can later, through no fault of its own: it gets no result
 * yet, stays in its source and is taken again (its ledger row is resumed then).
 */
public class InputDeferredException extends RuntimeException {

    private final transient Duration retryAfter;

    public InputDeferredException(String message) {
        this(message, null);
    }

    /**
     * @param retryAfter how long its source leaves the input before it is taken again (the file drop
     *     and SFTP honour it, see {@link PausedFiles}); null: as soon as the source comes round to it
     *     (SFTP: after a few seconds)
     */
    public InputDeferredException(String message, Duration retryAfter) {
        super(message);
        this.retryAfter = retryAfter;
    }

    /** The pause the deferral in {@code failure} or its causes asks for, or null. */
    public static Duration retryAfter(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof InputDeferredException deferred) {
                return deferred.retryAfter;
            }
        }
        return null;
    }
}

package id.ktpbridge.ingest;

/**
 * An input that cannot go on now but can later, through no fault of its own: it gets no result
 * yet, stays in its source and is taken again (its ledger row is resumed then).
 */
public class InputDeferredException extends RuntimeException {

    public InputDeferredException(String message) {
        super(message);
    }
}

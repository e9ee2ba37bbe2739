package id.ktpbridge.ingest;

/** An input refused locally. Its REJECTED record has been written before this is thrown. */
public class InputRejectedException extends RuntimeException {

    private final RejectReason reason;

    public InputRejectedException(RejectReason reason, String detail) {
        super(reason.name() + ": " + detail);
        this.reason = reason;
    }

    public RejectReason reason() {
        return reason;
    }

    public String detail() {
        String m = getMessage();
        return m.substring(m.indexOf(": ") + 2);
    }
}

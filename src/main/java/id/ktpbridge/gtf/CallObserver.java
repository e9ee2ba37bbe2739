package id.ktpbridge.gtf;

/** Told about every OneKYC call: which endpoint, the HTTP status (0 = no answer) and how long it took. */
@FunctionalInterface
public interface CallObserver {

    CallObserver NONE = (endpoint, status, nanos) -> { };

    void observe(String endpoint, int status, long nanos);
}

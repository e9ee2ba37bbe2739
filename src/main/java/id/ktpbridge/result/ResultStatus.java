package id.ktpbridge.result;

/** The {@code status} of a result document. */
public enum ResultStatus {
    /** OneKYC finished; see {@code result} (VALID/INVALID) and {@code reasonCode}. */
    COMPLETED,
    /** OneKYC finished with a technical error ({@code reasonCode}, e.g. VERIFICATION_FAILED). */
    ERROR,
    /** Refused locally before anything was sent; {@code reasonCode} says why. */
    REJECTED,
    /** Could not be submitted to OneKYC; {@code reasonCode} says at which step. */
    FAILED,
    /** Submitted, but no final outcome arrived before {@code ktp.poll.deadline}. */
    TIMED_OUT
}

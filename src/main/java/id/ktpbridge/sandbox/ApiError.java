package id.ktpbridge.sandbox;

/**
 * A OneKYC error response: HTTP status plus one {@code errors[]} entry. Thrown by endpoint
 * code and turned into the JSON envelope by {@link ApiRouter}, which decides whether
 * {@code code} is written as a string or an integer.
 */
final class ApiError extends Exception {

    private static final long serialVersionUID = 1L;
    static final String TOKEN_SERVICE = "ONEKYC_TOKEN_SERVICE";

    private final int httpStatus;
    private final int code;
    private final String errorCause;
    private final String entity;
    private final boolean nullData;

    ApiError(int httpStatus, int code, String errorCause) {
        this(httpStatus, code, errorCause, null, false);
    }

    ApiError(int httpStatus, int code, String errorCause, String entity, boolean nullData) {
        super(errorCause, null, false, false); // no stack trace: these are expected outcomes
        this.httpStatus = httpStatus;
        this.code = code;
        this.errorCause = errorCause;
        this.entity = entity;
        this.nullData = nullData;
    }

    /** Missing-header error in the observed {@code <HEADER_UPPER_SNAKE>_CAN_NOT_BE_EMPTY} style. */
    static ApiError missingHeader(String headerName) {
        return new ApiError(400, 1539, upperSnake(headerName) + "_CAN_NOT_BE_EMPTY");
    }

    static String upperSnake(String headerName) {
        return headerName.replace('-', '_').toUpperCase(java.util.Locale.ROOT);
    }

    int httpStatus() { return httpStatus; }
    int code() { return code; }
    String errorCause() { return errorCause; }
    String entity() { return entity; }
    boolean nullData() { return nullData; }
}

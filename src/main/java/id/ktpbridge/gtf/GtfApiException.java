package id.ktpbridge.gtf;

import java.util.List;
import java.util.Locale;

import id.ktpbridge.LogSafe;

/**
 * A OneKYC call that did not succeed: the HTTP status and the first error of the envelope (the
 * message also names the causes of further ones). The message never contains tokens, keys or URLs
 * with signatures.
 */
public class GtfApiException extends RuntimeException {

    static final String QUOTA_EXCEEDED = "SUBMISSION_QUOTA_EXCEEDED";
    /** Causes given to a 2xx whose body is not a JSON envelope. */
    static final String MALFORMED_JSON = "MALFORMED_JSON";
    static final String NOT_A_JSON_OBJECT = "NOT_A_JSON_OBJECT";
    static final String NOT_AN_ENVELOPE = "NOT_AN_ENVELOPE";
    /**
     * Causes given to a 2xx envelope that lacks what the call is for: a presign without its
     * submission id, a token answer without the token. Counted as no answer, as a body cut off or
     * rewritten on the way may look so, and asked again.
     */
    public static final String NO_SUBMISSION_ID = "NO_SUBMISSION_ID_IN_RESPONSE";
    public static final String NO_TOKEN = "NO_TOKEN_IN_RESPONSE";
    /**
     * A token answer whose token could not be sent as a header value (see {@link
     * GtfClient#isHeaderValue}): counted as no answer too, like one without a token.
     */
    public static final String UNUSABLE_TOKEN = "UNUSABLE_TOKEN_IN_RESPONSE";
    /**
     * A presign that names its submission but gives no place to upload to. Not asked again: each
     * presign may make a submission, and one that keeps answering so would leave a trail of them
     * (and use up the user's quota) over the retry window.
     */
    public static final String NO_DOCUMENTS = "NO_DOCUMENTS_IN_RESPONSE";
    public static final String NO_DOCUMENT_URL = "NO_DOCUMENT_URL_IN_RESPONSE";
    /**
     * A presign answered with a submission in a state past {@code INITIATED} ({@code IN_PROGRESS},
     * {@code PARTIALLY_COMPLETED}, {@code COMPLETED}, {@code ERROR}) that is not this input's (reference
     * 4: a presign hands out an INITIATED one): uploading to it and reading its 409 as "confirmed"
     * would report another image's outcome. Counted as no answer too: the next presign may do better.
     */
    public static final String NOT_INITIATED = "SUBMISSION_NOT_INITIATED";
    private static final List<String> INCOMPLETE = List.of(NO_SUBMISSION_ID, NO_TOKEN, UNUSABLE_TOKEN, NOT_INITIATED);

    private final String endpoint;
    private final int httpStatus;
    private final String code;
    private final String errorCause;
    /** See {@link #retryAfterMillis()}. Set once, by the call that throws this. */
    private volatile long retryAfterMillis = -1;
    /** Never sent: see {@link #unsendable}. */
    private final boolean unsendable;
    /** Stopped without having been applied: see {@link #stoppedUnapplied}. */
    private final boolean unapplied;
    /** See {@link #afterUnansweredAttempt()}. */
    private final boolean afterUnansweredAttempt;

    public GtfApiException(String endpoint, int httpStatus, String code, String errorCause) {
        this(endpoint, httpStatus, code, errorCause, List.of());
    }

    /** @param furtherCauses causes of the envelope's further errors, shown in the message only */
    public GtfApiException(String endpoint, int httpStatus, String code, String errorCause,
                           List<String> furtherCauses) {
        // code and causes as the server sent them, but fit for a log line: an error text that echoes
        // a request value (a partner user id, often a NIK) loses its digits
        super(endpoint + " answered HTTP " + httpStatus
                + (code != null || errorCause != null ? " (code " + LogSafe.text(code, 40) + ", "
                + LogSafe.text(errorCause, 120) + (furtherCauses.isEmpty() ? "" : "; also "
                + LogSafe.text(String.join(", ", furtherCauses.subList(0, Math.min(5, furtherCauses.size()))), 300))
                + ")" : ""));
        this.endpoint = endpoint;
        this.httpStatus = countsAs(httpStatus, code, errorCause);
        this.code = code;
        this.errorCause = errorCause;
        this.unsendable = false;
        this.unapplied = false;
        this.afterUnansweredAttempt = false;
    }

    /**
     * The status an answer counts as. A 2xx that carries a refusal ({@code success: false}) counts
     * as the status its error stands for in the reference's catalogue (2.4), e.g. code 900 as a
     * 500; one without any error, as a server error. A 2xx whose body is no JSON envelope counts as
     * no answer (0): a proxy may have written it, or it was cut off, and the request may or may not
     * have been applied.
     */
    static int countsAs(int status, String code, String cause) {
        if (status / 100 != 2) {
            return status;
        }
        String c = cause == null ? "" : cause.toUpperCase(Locale.ROOT);
        if (code == null && (c.equals(MALFORMED_JSON) || c.equals(NOT_A_JSON_OBJECT) || c.equals(NOT_AN_ENVELOPE)
                || INCOMPLETE.contains(c))) {
            return 0;
        }
        switch (c) {
            case "UNAUTHORIZED": return 401;
            case "FORBIDDEN": return 403;
            case QUOTA_EXCEEDED, "TOO_MANY_REQUESTS": return 429;
            case "SERVICE_UNAVAILABLE": return 503;
            case "SUBMISSION_STATE_CONFLICT": return 409;
            case "INVALID_UPLOAD_ARTIFACT": return 422;
            default: break;
        }
        if (code == null) {
            return c.isEmpty() ? 500 : 400;
        }
        return switch (code) {
            case "900" -> 500;
            case "903" -> 503;
            case "110" -> 401;
            case "404", "1543" -> 404;
            case "409", "422", "429" -> Integer.parseInt(code);
            default -> 400;
        };
    }

    public GtfApiException(String endpoint, String problem, Throwable cause) {
        this(endpoint, problem, cause, false, false);
    }

    private GtfApiException(String endpoint, String problem, Throwable cause, boolean unsendable,
                            boolean unapplied) {
        super(endpoint + " failed: " + problem, cause);
        this.endpoint = endpoint;
        this.httpStatus = 0;
        this.code = null;
        this.errorCause = problem;
        this.unsendable = unsendable;
        this.unapplied = unapplied;
        this.afterUnansweredAttempt = false;
    }

    /** The same failure, following an unanswered attempt or not (a copy: the original may be shared). */
    private GtfApiException(GtfApiException original, boolean afterUnansweredAttempt) {
        super(original.getMessage(), original.getCause());
        setStackTrace(original.getStackTrace());
        this.endpoint = original.endpoint;
        this.httpStatus = original.httpStatus;
        this.code = original.code;
        this.errorCause = original.errorCause;
        this.unsendable = original.unsendable;
        this.unapplied = original.unapplied;
        this.afterUnansweredAttempt = afterUnansweredAttempt;
        this.retryAfterMillis = original.retryAfterMillis;
    }

    /**
     * A request that could not be sent at all (a header value HTTP does not allow): it fails the
     * same way every time, so it is not retried. No cause is kept: the JDK's message quotes the
     * refused value, which can be the pass-key or a token.
     */
    public static GtfApiException unsendable(String endpoint, String problem) {
        return new GtfApiException(endpoint, problem, null, true, false);
    }

    /**
     * A call stopped (its thread interrupted, as a shutdown does) where OneKYC cannot have applied
     * it: before its first sending, or while waiting to try again after attempts that were all
     * answered with a refusal (a 429, say). A passing failure like any call without an answer (the
     * caller tries again later), but not one that {@linkplain #mayHaveBeenApplied may have been
     * applied}: a confirm so stopped is not taken as confirmed.
     */
    static GtfApiException stoppedUnapplied(String endpoint, String problem, Throwable cause) {
        return new GtfApiException(endpoint, problem, cause, false, true);
    }

    /**
     * An attempt that made no connection (refused, not resolved, connect timed out): no byte of it
     * went out. A passing failure, tried again, but not one that {@linkplain #mayHaveBeenApplied
     * may have been applied}, as {@link #stoppedUnapplied}.
     */
    static GtfApiException notSent(String endpoint, String problem, Throwable cause) {
        return new GtfApiException(endpoint, problem, cause, false, true);
    }

    public String endpoint() {
        return endpoint;
    }

    /**
     * How long the last answer asked the caller to stay away ({@code Retry-After}), which the call
     * did not wait out; -1 when it did not ask.
     */
    public long retryAfterMillis() {
        return retryAfterMillis;
    }

    GtfApiException retryAfter(long millis) {
        this.retryAfterMillis = millis;
        return this;
    }

    /**
     * This answer again, for a call not made because the wait it asked for has {@code leftMillis}
     * to go (a copy: the original is shared).
     */
    GtfApiException stillWaiting(long leftMillis) {
        return new GtfApiException(this, false).retryAfter(leftMillis);
    }

    /**
     * The HTTP status, or what a 2xx answer that refused the call counts as (see {@link #countsAs});
     * 0 when no usable answer arrived (connect/read failure, a 2xx that is no JSON envelope).
     */
    public int httpStatus() {
        return httpStatus;
    }

    public String code() {
        return code;
    }

    public String errorCause() {
        return errorCause;
    }

    /**
     * An earlier attempt of the same call got no answer or a server error (5xx), so the server may
     * have acted on it although this last answer refuses the call: a confirm whose reply was lost
     * and whose retry then met a refused token may still have been applied.
     */
    public boolean afterUnansweredAttempt() {
        return afterUnansweredAttempt;
    }

    /**
     * This failure as following an unanswered attempt of the same call (see {@link
     * #afterUnansweredAttempt()}): a copy, as a token fetch's failure reaches every caller waiting for
     * that fetch, and only this one followed an unanswered attempt.
     */
    GtfApiException followingUnansweredAttempt() {
        return afterUnansweredAttempt ? this : new GtfApiException(this, true);
    }

    /**
     * This failure as following no unanswered attempt of the call at hand: a token fetch's failure
     * that stops another call before it is sent carries the token call's own attempts, which say
     * nothing about whether that call (a confirm, say) was applied: it never went out.
     */
    GtfApiException notFollowingUnansweredAttempt() {
        return afterUnansweredAttempt ? new GtfApiException(this, false) : this;
    }

    /**
     * A 4xx without OneKYC's envelope: a gateway's or proxy's own page (a route missing for a
     * moment during a rollout), which says nothing about the request itself. A 3xx without it too:
     * redirects are not followed (a token-carrying request is not sent on to another host), and one
     * sent by something in between (a login page of a proxy, a host moved for a while) is no
     * answer about the request either.
     */
    public boolean isBareRefusal() {
        return (httpStatus / 100 == 4 || httpStatus / 100 == 3) && !isEnveloped();
    }

    /**
     * Whether the failed call {@code call} may still have been applied: it was sent and got no
     * answer or a server error, now or in an earlier attempt. Not when it was refused (a 4xx such
     * as 429), or never sent (its token could not be had, or a stop came before it went out or
     * while it waited to try again after refusals only: {@link #stoppedUnapplied}).
     */
    public boolean mayHaveBeenApplied(String call) {
        return afterUnansweredAttempt || call.equals(endpoint) && isUnanswered();
    }

    /** No answer, or a server error: the server may or may not have acted on the request. */
    boolean isUnanswered() {
        return httpStatus == 0 && !unsendable && !unapplied || httpStatus >= 500;
    }

    /**
     * Whether the refusal came in OneKYC's envelope (an error code or cause). A status without one
     * (a gateway's HTML page, a proxy's {@code {"message": ...}}) may come from anything between
     * here and OneKYC, e.g. a route missing for a moment during a rollout. A request never sent
     * ({@link #unsendable}) is not either: its cause is this side's text, and OneKYC said nothing.
     */
    public boolean isEnveloped() {
        return !unsendable && (code != null || errorCause != null);
    }

    public boolean isUnauthorized() {
        return httpStatus == 401;
    }

    /**
     * The token the call carried was refused, so a fresh one may do: a 401, or a 403 with code
     * {@code 110}, which the reference's glossary names "unauthorized / invalid token in headers"
     * (confirm lists {@code 403 110 FORBIDDEN}). Not a 403 from a token endpoint: those calls carry
     * no token, and their refusal is of the bundle's own credentials. Other 403s (details' {@code
     * 903}, a bare one) say nothing about the token.
     */
    public boolean refusesToken() {
        return isUnauthorized() || httpStatus == 403 && "110".equals(code) && !isTokenEndpoint();
    }

    private boolean isTokenEndpoint() {
        return endpoint.equals("user-token") || endpoint.equals("partner-token");
    }

    /**
     * 401 or 403: the call's credentials were refused (after the token refresh), or the token
     * endpoint refused the bundle's own (a pass-key rotated, an address not allowed). Nothing about
     * the image: an operator can put it right, and until then every input is refused alike.
     */
    public boolean refusesCredentials() {
        return httpStatus == 401 || httpStatus == 403;
    }

    /** A token endpoint refused the bundle's credentials: every call needing a new token fails so. */
    public boolean isTokenRefusal() {
        return refusesCredentials() && isTokenEndpoint();
    }

    /**
     * Worth another try later: no answer, a request timeout (408), throttled, or a server-side
     * failure. A presign refused with {@code SUBMISSION_QUOTA_EXCEEDED} is not counted here: the
     * user's submission attempts are used up, for a window the reference does not state, so whether
     * it is tried again is a setting of its own ({@code gtf.retry.quota-exceeded}, see
     * {@link #isQuotaExceeded()}).
     */
    public boolean isTransient() {
        return httpStatus == 0 && !unsendable || httpStatus == 408 || httpStatus == 429 && !isQuotaExceeded()
                || httpStatus >= 500;
    }

    /** The call's {@code x-partner-session-id} was refused as one already used ({@code DUPLICATE_PARTNER_SESSION_ID}). */
    public boolean refusesRepeatedSessionId() {
        return "DUPLICATE_PARTNER_SESSION_ID".equalsIgnoreCase(errorCause);
    }

    /**
     * A retry refused as {@code DUPLICATE_PARTNER_SESSION_ID} after an attempt whose answer was
     * lost: the retry carried that attempt's session id, so the refusal says that attempt reached
     * OneKYC (a confirm: it was taken), not that the call was refused.
     */
    public boolean earlierAttemptArrived() {
        return afterUnansweredAttempt && refusesRepeatedSessionId();
    }

    /**
     * OneKYC says the submission does not exist (status 404/1543, details 400/1552, confirm 404/404).
     * By code too, not only by cause: the reference leaves the causes open, and a cause has come as a
     * sentence. Only with OneKYC's envelope (a code): a gateway's bare 404 page knows nothing of it.
     */
    public boolean isSubmissionNotFound() {
        return "SUBMISSION_DOES_NOT_EXIST".equalsIgnoreCase(errorCause) || "1543".equals(code) || "1552".equals(code)
                || httpStatus == 404 && "404".equals(code);
    }

    /**
     * OneKYC's own 409 (code {@code 409}, or cause {@code SUBMISSION_STATE_CONFLICT}): the submission
     * is past {@code INITIATED}, which to a confirm means it was confirmed already. A 409 without the
     * envelope (a proxy's or gateway's page) says nothing about the submission, nor does one with
     * another cause.
     */
    public boolean isStateConflict() {
        return httpStatus == 409 && ("409".equals(code) || "SUBMISSION_STATE_CONFLICT".equalsIgnoreCase(errorCause));
    }

    /** 429 {@code SUBMISSION_QUOTA_EXCEEDED}: this user may not start more submissions for now. */
    public boolean isQuotaExceeded() {
        return httpStatus == 429 && QUOTA_EXCEEDED.equalsIgnoreCase(errorCause);
    }
}

package id.ktpbridge.ingest;

/**
 * The neutral message every source hands to {@code direct:submit-ktp}: the image as the body (a
 * file, or any stream Camel can convert to an {@code InputStream}) plus these headers. Sources
 * only translate their world into this; the core never asks where a message came from.
 */
public final class InputHeaders {

    /** Required: {@code file}, {@code sftp}, {@code s3}, ... */
    public static final String SOURCE_TYPE = "KtpSourceType";
    /** Required: a stable, unique reference of the input inside its source (path, key, URI). */
    public static final String SOURCE_REF = "KtpSourceRef";
    /** Required: the input's file name; its base name is the default partner user id. */
    public static final String SOURCE_FILE = "KtpSourceFile";
    /** Optional: partner user id given by the source (sidecar, object metadata); wins over the name rules. */
    public static final String PARTNER_USER_ID = "KtpPartnerUserId";
    /** Optional: partner user id type given by the source; else {@code gtf.partner-user-id-type}. */
    public static final String PARTNER_USER_ID_TYPE = "KtpPartnerUserIdType";
    /** Optional: JSON object passed as {@code metadata} on confirm. */
    public static final String METADATA = "KtpMetadata";
    /** Set by a source when the input's side information (sidecar) was unusable: the input is rejected. */
    public static final String SIDECAR_ERROR = "KtpSidecarError";
    /** Set by a source when the input is a symbolic link, saying where: rejected as such, never read. */
    public static final String SYMBOLIC_LINK = "KtpSymbolicLink";
    /** Set by a source when the input itself cannot be read, saying why: the input is rejected. */
    public static final String UNREADABLE = "KtpUnreadable";
    /**
     * Set by a source when the input cannot be taken in now for a passing reason (its server did
     * not answer), saying why: nothing is recorded, and the input stays in its source for a later attempt.
     */
    public static final String NOT_NOW = "KtpNotNow";
    /** With {@link #NOT_NOW}: how long (ms) the source should leave the input before it is taken again. */
    public static final String NOT_NOW_PAUSE = "KtpNotNowPause";

    private InputHeaders() {
    }
}

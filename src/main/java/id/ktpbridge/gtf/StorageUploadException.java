package id.ktpbridge.gtf;

/**
 * The presigned storage refused an upload. 403 (and a 400 about the URL's credentials, see
 * {@link #isUrlRejected()}) means the URL expired or its signature no longer holds.
 */
public class StorageUploadException extends RuntimeException {

    private final int httpStatus;
    private final String storageCode;
    private final boolean unanswered;
    private final boolean expired;

    public StorageUploadException(int httpStatus, String storageCode) {
        super("Presigned storage refused the upload: HTTP " + httpStatus
                + (storageCode == null ? "" : " (" + storageCode + ")"));
        this.httpStatus = httpStatus;
        this.storageCode = storageCode;
        this.unanswered = false;
        this.expired = false;
    }

    public StorageUploadException(String problem, Throwable cause) {
        this(problem, cause, false);
    }

    private StorageUploadException(String problem, Throwable cause, boolean unanswered) {
        this(problem, cause, unanswered, false);
    }

    private StorageUploadException(String problem, Throwable cause, boolean unanswered, boolean expired) {
        super("Upload to presigned storage failed: " + problem, cause);
        this.httpStatus = 0;
        this.storageCode = null;
        this.unanswered = unanswered;
        this.expired = expired;
    }

    /** The URL's lifetime ran out (or nearly) before an attempt: not sent, as storage would refuse it. */
    public static StorageUploadException expiredBeforeSending() {
        return new StorageUploadException("the presigned URL has expired (not sent)", null, false, true);
    }

    /** The storage did not answer (connection refused or cut, a timeout). */
    public static StorageUploadException unanswered(String problem) {
        return new StorageUploadException(problem, null, true);
    }

    public int httpStatus() {
        return httpStatus;
    }

    public String storageCode() {
        return storageCode;
    }

    /**
     * The URL is no use any more: storage refused it (403), or it expired before an attempt, or
     * storage answered 400 about the credentials inside it: {@code ExpiredToken} (the temporary
     * security token the URL was signed with ran out before {@code X-Amz-Expires}) or
     * {@code AuthorizationQueryParametersError} (its signing parameters are not usable). A fresh
     * presign brings a URL signed anew.
     */
    public boolean isUrlRejected() {
        return httpStatus == 403 || expired
                || httpStatus == 400 && ("ExpiredToken".equals(storageCode)
                        || "AuthorizationQueryParametersError".equals(storageCode));
    }

    /** No answer, too slow (408, S3's 400 RequestTimeout), throttled or a server error: worth another try later. */
    public boolean isTransient() {
        return unanswered || httpStatus == 408 || httpStatus == 400 && "RequestTimeout".equals(storageCode)
                || httpStatus == 429 || httpStatus >= 500;
    }
}

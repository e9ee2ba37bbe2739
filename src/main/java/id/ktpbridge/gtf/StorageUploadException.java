package id.ktpbridge.gtf;

import java.util.Locale;

/**
 * The presigned storage refused an upload. 403 (and a 400 about the URL's credentials, see
 * {@link #isUrlRejected()}) means the URL expired, its signature no longer holds or a policy
 * refuses it; {@link #isUrlExpired()} tells the first apart.
 */
public class StorageUploadException extends RuntimeException {

    private final int httpStatus;
    private final String storageCode;
    private final boolean unanswered;
    /** Expired before sending, or storage's 403 said the request has expired. */
    private final boolean expired;

    public StorageUploadException(int httpStatus, String storageCode) {
        this(httpStatus, storageCode, null);
    }

    /**
     * @param storageMessage the {@code <Message>} of the storage's error body, or null: only read
     *        for whether it says the request expired, and not kept (it comes from outside and is
     *        not for logs)
     */
    public StorageUploadException(int httpStatus, String storageCode, String storageMessage) {
        super("Presigned storage refused the upload: HTTP " + httpStatus
                + (storageCode == null ? "" : " (" + storageCode + ")"));
        this.httpStatus = httpStatus;
        this.storageCode = storageCode;
        this.unanswered = false;
        // S3 and Alibaba OSS answer an expired presigned URL 403 AccessDenied "Request has expired",
        // the same code as a bucket policy's refusal: only the message tells them apart
        this.expired = httpStatus == 403 && storageMessage != null
                && storageMessage.toLowerCase(Locale.ROOT).contains("expired");
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

    /**
     * The URL's lifetime ran out: it expired before an attempt, storage's 403 says the request has
     * expired, or storage answered 400 {@code ExpiredToken} (the credentials signed into it ran out
     * first). A server that now and then hands out URLs already expired does so again only by
     * chance, so this is worth waiting out; any other refusal (a bucket policy's "Access Denied",
     * a signature a proxy broke) answers every fresh URL the same.
     */
    public boolean isUrlExpired() {
        return expired || httpStatus == 400 && "ExpiredToken".equals(storageCode);
    }

    /** No answer, too slow (408, S3's 400 RequestTimeout), throttled or a server error: worth another try later. */
    public boolean isTransient() {
        return unanswered || httpStatus == 408 || httpStatus == 400 && "RequestTimeout".equals(storageCode)
                || httpStatus == 429 || httpStatus >= 500;
    }
}

package id.ktpbridge.gtf;

/** The presigned storage refused an upload. 403 means the URL expired or its signature no longer holds. */
public class StorageUploadException extends RuntimeException {

    private final int httpStatus;
    private final String storageCode;
    private final boolean unanswered;

    public StorageUploadException(int httpStatus, String storageCode) {
        super("Presigned storage refused the upload: HTTP " + httpStatus
                + (storageCode == null ? "" : " (" + storageCode + ")"));
        this.httpStatus = httpStatus;
        this.storageCode = storageCode;
        this.unanswered = false;
    }

    public StorageUploadException(String problem, Throwable cause) {
        this(problem, cause, false);
    }

    private StorageUploadException(String problem, Throwable cause, boolean unanswered) {
        super("Upload to presigned storage failed: " + problem, cause);
        this.httpStatus = 0;
        this.storageCode = null;
        this.unanswered = unanswered;
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

    public boolean isUrlRejected() {
        return httpStatus == 403;
    }

    /** No answer, throttled or a server error: worth another try later. */
    public boolean isTransient() {
        return unanswered || httpStatus == 429 || httpStatus >= 500;
    }
}

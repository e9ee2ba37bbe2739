package id.ktpbridge.gtf;

/** The presigned storage refused an upload. 403 means the URL expired or its signature no longer holds. */
public class StorageUploadException extends RuntimeException {

    private final int httpStatus;
    private final String storageCode;

    public StorageUploadException(int httpStatus, String storageCode) {
        super("Presigned storage refused the upload: HTTP " + httpStatus
                + (storageCode == null ? "" : " (" + storageCode + ")"));
        this.httpStatus = httpStatus;
        this.storageCode = storageCode;
    }

    public StorageUploadException(String problem, Throwable cause) {
        super("Upload to presigned storage failed: " + problem, cause);
        this.httpStatus = 0;
        this.storageCode = null;
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
}

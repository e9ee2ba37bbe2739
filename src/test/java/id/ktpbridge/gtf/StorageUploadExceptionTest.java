package id.ktpbridge.gtf;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Which refusals of the presigned storage are worth another try. */
class StorageUploadExceptionTest {

    @Test
    void aStorageThatGaveUpOnASlowBodyIsAskedAgain() {
        assertTrue(new StorageUploadException(408, null).isTransient());
        assertTrue(new StorageUploadException(400, "RequestTimeout").isTransient(), "S3's answer to a slow body");
        assertTrue(new StorageUploadException(503, "SlowDown").isTransient());
        assertFalse(new StorageUploadException(400, "InvalidArgument").isTransient());
        assertFalse(new StorageUploadException(403, "AccessDenied").isTransient());
        assertTrue(new StorageUploadException(403, "AccessDenied").isUrlRejected());
    }
}

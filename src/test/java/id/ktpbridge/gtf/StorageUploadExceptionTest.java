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

    @Test
    void aBadRequestAboutTheUrlsCredentialsRejectsTheUrlSoItIsPresignedAgain() {
        // the STS token inside the presigned URL ran out before X-Amz-Expires, or its signing
        // parameters are malformed: a new presign brings a URL signed anew
        for (String code : new String[] {"ExpiredToken", "AuthorizationQueryParametersError"}) {
            StorageUploadException e = new StorageUploadException(400, code);
            assertTrue(e.isUrlRejected(), code);
            assertFalse(e.isTransient(), code);
        }
        // other 400s say nothing about the URL
        assertFalse(new StorageUploadException(400, "InvalidArgument").isUrlRejected());
        assertFalse(new StorageUploadException(400, "RequestTimeout").isUrlRejected());
        assertFalse(new StorageUploadException(400, null).isUrlRejected());
        assertFalse(new StorageUploadException(401, "ExpiredToken").isUrlRejected());
    }
}

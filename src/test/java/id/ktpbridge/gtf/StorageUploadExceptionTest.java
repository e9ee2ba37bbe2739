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

    @Test
    void onlyARefusalThatSaysTheUrlExpiredCountsAsExpired() {
        // S3 and Alibaba OSS answer an expired presigned URL so
        assertTrue(new StorageUploadException(403, "AccessDenied", "Request has expired").isUrlExpired());
        assertTrue(new StorageUploadException(403, "AccessDenied", "Request has expired.").isUrlExpired(), "OSS");
        assertTrue(new StorageUploadException(403, "AccessDenied", "Request has EXPIRED").isUrlExpired());
        assertTrue(new StorageUploadException(400, "ExpiredToken", "The provided token has expired.").isUrlExpired());
        assertTrue(new StorageUploadException(400, "ExpiredToken").isUrlExpired());
        assertTrue(StorageUploadException.expiredBeforeSending().isUrlExpired());
        // a bucket policy, a signature a proxy broke, a 403 without a body: every fresh URL alike
        assertFalse(new StorageUploadException(403, "AccessDenied", "Access Denied").isUrlExpired());
        assertFalse(new StorageUploadException(403, "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.").isUrlExpired());
        assertFalse(new StorageUploadException(403, null, null).isUrlExpired());
        assertFalse(new StorageUploadException(403, "AccessDenied").isUrlExpired());
        // only the message of a 403 says so, not the code
        assertFalse(new StorageUploadException(403, "ExpiredRequest", "Access Denied").isUrlExpired());
        assertFalse(new StorageUploadException(400, "AuthorizationQueryParametersError",
                "X-Amz-Expires must be less than a week").isUrlExpired());
        assertFalse(new StorageUploadException(400, "InvalidArgument", "Request has expired").isUrlExpired());
        assertFalse(new StorageUploadException(503, "SlowDown", null).isUrlExpired());
        assertFalse(StorageUploadException.unanswered("timeout").isUrlExpired());
        // all of them are worth fresh presigns within a take
        assertTrue(new StorageUploadException(403, "AccessDenied", "Access Denied").isUrlRejected());
        assertTrue(new StorageUploadException(403, "AccessDenied", "Request has expired").isUrlRejected());
    }
}

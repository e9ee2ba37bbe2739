package id.ktpbridge.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.services.s3.model.CopyObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** The KMS settings an object's copies carry, and which refusals are the key's. */
class ObjectEncryptionTest {

    private static final String KEY = "arn:aws:kms:ap-southeast-3:111122223333:key/0b1c2d3e-ktp-test";

    private static CopyObjectRequest copyOf(Boolean bucketKey) {
        CopyObjectRequest.Builder copy = CopyObjectRequest.builder();
        ObjectEncryption.of(GetObjectResponse.builder().serverSideEncryption("aws:kms").ssekmsKeyId(KEY)
                .bucketKeyEnabled(bucketKey).build()).applyTo(copy);
        return copy.build();
    }

    @Test
    void aBucketKeyIsAskedForOnlyWhenTheObjectHasOne() {
        // false would override a target bucket whose default encryption uses a Bucket Key
        assertEquals(null, copyOf(false).bucketKeyEnabled());
        assertEquals(null, copyOf(null).bucketKeyEnabled());
        assertEquals(Boolean.TRUE, copyOf(true).bucketKeyEnabled());
        assertEquals("aws:kms", copyOf(false).serverSideEncryptionAsString());
        assertEquals(KEY, copyOf(false).ssekmsKeyId());
    }

    private static S3Exception refusal(int status, String code) {
        return (S3Exception) S3Exception.builder().statusCode(status)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).build()).build();
    }

    @Test
    void aRefusalOfTheKeyIsToldFromOneThatPasses() {
        assertTrue(ObjectEncryption.keyRefused(refusal(403, "AccessDenied")));
        assertTrue(ObjectEncryption.keyRefused(refusal(400, "KMS.NotFoundException")));
        assertTrue(ObjectEncryption.keyRefused(refusal(400, "KMS.DisabledException")));
        assertFalse(ObjectEncryption.keyRefused(refusal(400, "KMS.ThrottlingException")));
        assertFalse(ObjectEncryption.keyRefused(refusal(503, "SlowDown")));
        assertFalse(ObjectEncryption.keyRefused(refusal(412, "PreconditionFailed")));
        assertFalse(ObjectEncryption.keyRefused(refusal(400, "InvalidRequest")));
    }
}

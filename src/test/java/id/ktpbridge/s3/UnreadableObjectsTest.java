package id.ktpbridge.s3;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/** Which refusals of a read are the object's own (it gets a result), and which fail the listing as before. */
class UnreadableObjectsTest {

    private static final S3Object DEEP = S3Object.builder().key("inbox/a.png").storageClass("DEEP_ARCHIVE").build();

    private static S3Exception refusal(int status, String code, String message) {
        return (S3Exception) S3Exception.builder().statusCode(status)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage(message).build()).build();
    }

    @Test
    void archivedOrEncryptedWithACustomerProvidedKey() {
        assertTrue(UnreadableObjects.reason(refusal(403, "InvalidObjectState", "The operation is not valid for the"
                + " object's storage class"), DEEP).contains("archived (storage class DEEP_ARCHIVE)"));
        assertTrue(UnreadableObjects.reason(refusal(400, "InvalidRequest", "The object was stored using a form of"
                + " Server Side Encryption. The correct parameters must be provided to retrieve the object."), DEEP)
                .contains("SSE-C"));
    }

    @Test
    void refusalsThatMayHitEveryObjectStillFailTheListing() {
        assertNull(UnreadableObjects.reason(refusal(403, "AccessDenied", "Access Denied"), DEEP));
        // a KMS key disabled, or a role without kms:Decrypt, refuses every object under that key
        assertNull(UnreadableObjects.reason(refusal(400, "KMS.DisabledException", "arn:aws:kms:... is disabled."), DEEP));
        assertNull(UnreadableObjects.reason(refusal(403, "AccessDenied", "User: arn:aws:iam::1:user/x is not"
                + " authorized to perform: kms:Decrypt on resource: arn:aws:kms:..."), DEEP));
        assertNull(UnreadableObjects.reason(refusal(403, "SignatureDoesNotMatch", "..."), DEEP));
        assertNull(UnreadableObjects.reason(refusal(404, "NoSuchKey", "The specified key does not exist."), DEEP));
        assertNull(UnreadableObjects.reason(refusal(400, "InvalidRequest", "Missing required header"), DEEP));
        assertNull(UnreadableObjects.reason(refusal(503, "SlowDown", "Please reduce your request rate."), DEEP));
        assertNull(UnreadableObjects.reason((S3Exception) S3Exception.builder().statusCode(500).build(), DEEP));
    }
}

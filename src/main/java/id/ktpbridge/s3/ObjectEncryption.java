package id.ktpbridge.s3;

import software.amazon.awssdk.services.s3.model.CopyObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The KMS key an object is encrypted with, which its copies to the processed and failed prefixes
 * keep. A copy sent without encryption settings is encrypted as its target bucket's default says
 * (SSE-S3 unless set otherwise): an image a partner put under its own KMS key would leave that
 * key's protection. Objects under SSE-S3 need nothing; those under a customer-provided key
 * (SSE-C) are rejected unread and never copied. A target that may not use the key (see {@link
 * #keyRefused}) gets the copy under its default encryption instead ({@code S3Source}).
 *
 * @param algorithm {@code aws:kms} or {@code aws:kms:dsse}
 * @param keyId the key's ARN as S3 names it, the account's AWS managed key ({@code aws/s3}) included,
 *              which no other account may use; null only when the store did not name it
 * @param bucketKey whether the object uses an S3 Bucket Key, or null when S3 did not say
 */
record ObjectEncryption(String algorithm, String keyId, Boolean bucketKey) {

    /** No KMS key: the copy is sent without encryption settings. */
    static final ObjectEncryption NONE = new ObjectEncryption(null, null, null);

    /** The object's KMS encryption, or {@link #NONE}. */
    static ObjectEncryption of(GetObjectResponse response) {
        return response == null ? NONE
                : of(response.serverSideEncryptionAsString(), response.ssekmsKeyId(), response.bucketKeyEnabled());
    }

    /** The object's KMS encryption, or {@link #NONE} (also when there is no object). */
    static ObjectEncryption of(HeadObjectResponse response) {
        return response == null ? NONE
                : of(response.serverSideEncryptionAsString(), response.ssekmsKeyId(), response.bucketKeyEnabled());
    }

    private static ObjectEncryption of(String algorithm, String keyId, Boolean bucketKey) {
        return algorithm != null && algorithm.startsWith("aws:kms") ? new ObjectEncryption(algorithm, keyId, bucketKey)
                : NONE;
    }

    /**
     * The copy is encrypted as the object is. A Bucket Key is asked for only when the object has one:
     * {@code false} would override a target bucket whose default uses one (a KMS call per object).
     */
    void applyTo(CopyObjectRequest.Builder copy) {
        copy.serverSideEncryption(algorithm).ssekmsKeyId(keyId)
                .bucketKeyEnabled(Boolean.TRUE.equals(bucketKey) ? Boolean.TRUE : null);
    }

    /**
     * Whether a copy sent with a KMS key was refused for that key: {@code 403 AccessDenied} (the key
     * policy does not let the role encrypt under it into the target; the AWS managed key of another
     * account) or a {@code 400}/{@code 403 KMS.*} (a key S3 cannot find or use there), but not KMS
     * throttling or a KMS failure that passes, which must not cost the copy its key.
     */
    static boolean keyRefused(S3Exception e) {
        String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
        return (e.statusCode() == 400 || e.statusCode() == 403) && code != null
                && (code.startsWith("AccessDenied") || (code.startsWith("KMS.") && !PASSING_KMS_CODES.contains(code)));
    }

    private static final java.util.Set<String> PASSING_KMS_CODES = java.util.Set.of("KMS.ThrottlingException",
            "KMS.LimitExceededException", "KMS.KMSInternalException", "KMS.DependencyTimeoutException");
}

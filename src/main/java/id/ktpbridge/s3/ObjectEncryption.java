package id.ktpbridge.s3;

import software.amazon.awssdk.services.s3.model.CopyObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

/**
 * The KMS key an object is encrypted with, which its copies to the processed and failed prefixes
 * keep. A copy sent without encryption settings is encrypted as its target bucket's default says
 * (SSE-S3 unless set otherwise): an image a partner put under its own KMS key would leave that
 * key's protection. Objects under SSE-S3 need nothing; those under a customer-provided key
 * (SSE-C) are rejected unread and never copied.
 *
 * @param algorithm {@code aws:kms} or {@code aws:kms:dsse}
 * @param keyId the key's ARN as S3 names it, or null (the account's AWS managed key)
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

    /** The copy is encrypted as the object is. */
    void applyTo(CopyObjectRequest.Builder copy) {
        copy.serverSideEncryption(algorithm).ssekmsKeyId(keyId).bucketKeyEnabled(bucketKey);
    }
}

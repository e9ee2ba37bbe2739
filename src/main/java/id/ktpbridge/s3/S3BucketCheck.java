package id.ktpbridge.s3;

import java.time.Duration;

import id.ktpbridge.Settings;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The start-up check of a bucket: one {@code HeadBucket} with a short overall timeout. Turns
 * whatever goes wrong (no such bucket, store unreachable, credentials refused, wrong region) into
 * an {@link IllegalStateException} whose message names the setting to fix, so a misconfigured
 * bundle stops at once with one clear line instead of failing every poll. The results bucket is
 * the exception for a store that is down ({@link #requireResultsBucket}).
 */
final class S3BucketCheck {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(S3BucketCheck.class);

    /** Buckets names as S3, MinIO and OSS accept them (lower case, 3 to 63 characters). */
    private static final String BUCKET_NAME = "[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]";

    private S3BucketCheck() {
    }

    static void requireValidName(String bucketKey, String bucket) {
        if (!bucket.matches(BUCKET_NAME)) {
            throw new IllegalStateException(bucketKey + " '" + bucket + "' is not a valid bucket name ("
                    + Settings.envName(bucketKey) + "): 3 to 63 lower-case letters, digits, dots and hyphens");
        }
    }

    /**
     * @param bucketKey the property that named the bucket, e.g. {@code ktp.source.s3.bucket}
     * @param connection the settings the client was built from (for the names in the messages)
     */
    static void requireBucket(S3Client client, S3Connection connection, String bucketKey, String bucket,
                              Duration timeout) {
        requireBucket(client, connection, bucketKey, bucket, timeout, false);
    }

    /**
     * As {@link #requireBucket(S3Client, S3Connection, String, String, Duration)}, for a bucket the
     * bundle only writes to ({@code writtenOnly}: the processed, failed and results buckets). A role
     * kept to what it needs may put objects there without being allowed to look at the bucket
     * ({@code s3:ListBucket}), and is answered 403: when a listing is refused as {@code AccessDenied}
     * too (not for wrong credentials), that is a WARN, not a refused start, and the writes tell
     * whether they are allowed.
     */
    static void requireBucket(S3Client client, S3Connection connection, String bucketKey, String bucket,
                              Duration timeout, boolean writtenOnly) {
        requireBucket(client, connection, bucketKey, bucket, timeout, writtenOnly, false);
    }

    /**
     * As {@link #requireBucket(S3Client, S3Connection, String, String, Duration, boolean)} for the
     * results bucket, which only the outbox writes to, and retries: a store that does not answer
     * (unreachable, no answer in time) or answers a server error (5xx) is a WARN, and the bundle
     * starts; the deliveries wait until it is back. What is a setting (a bucket that does not exist,
     * credentials refused or missing, another region) still stops the start.
     */
    static void requireResultsBucket(S3Client client, S3Connection connection, String bucketKey, String bucket,
                                     Duration timeout) {
        requireBucket(client, connection, bucketKey, bucket, timeout, true, true);
    }

    private static void requireBucket(S3Client client, S3Connection connection, String bucketKey, String bucket,
                                      Duration timeout, boolean writtenOnly, boolean mayBeDown) {
        requireValidName(bucketKey, bucket);
        String named = bucketKey + " '" + bucket + "'";
        try {
            client.headBucket(r -> r.bucket(bucket).overrideConfiguration(o -> o.apiCallTimeout(timeout)));
        } catch (S3Exception e) {
            int status = e.statusCode();
            if (status == 404) {
                throw new IllegalStateException(named + " does not exist (" + Settings.envName(bucketKey) + ")");
            }
            if (status == 403 && writtenOnly && mayOnlyWrite(client, bucket, timeout)) {
                LOG.warn("{} could not be looked at (HTTP 403 AccessDenied: no s3:ListBucket there); the bundle"
                        + " starts, and its writes there tell whether they are allowed", named);
                return;
            }
            if (status == 401 || status == 403) {
                throw new IllegalStateException("Access to " + named + " was denied (HTTP " + status + "): check "
                        + connection.credentialsDescription() + " and the bucket's permissions");
            }
            String bucketRegion = e.awsErrorDetails() == null || e.awsErrorDetails().sdkHttpResponse() == null ? null
                    : e.awsErrorDetails().sdkHttpResponse().firstMatchingHeader("x-amz-bucket-region").orElse(null);
            if (bucketRegion != null && !bucketRegion.equals(connection.region())) {
                throw new IllegalStateException(named + " is in region '" + bucketRegion + "', not in "
                        + connection.key("region") + " '" + connection.region() + "' ("
                        + Settings.envName(connection.key("region")) + ")");
            }
            if (mayBeDown && status >= 500) {
                storeDown(named, "HTTP " + status);
                return;
            }
            throw new IllegalStateException("Checking " + named + " failed: the store answered HTTP " + status
                    + " (" + Settings.envName(bucketKey) + ", " + connection.setting("region") + ", "
                    + connection.setting("endpoint") + ")");
        } catch (SdkClientException e) {
            if (mayBeDown && !missingCredentials(e)) {
                storeDown(named, unreachable(connection, e));
                return;
            }
            // the message carries the root cause; the SDK's chain of attempts would only bury it
            throw new IllegalStateException(unreachable(connection, e));
        } catch (SdkException e) {
            throw new IllegalStateException("Checking " + named + " failed: " + rootMessage(e));
        }
    }

    /**
     * A HeadBucket's 403 has no body: a role without {@code s3:ListBucket} and wrong credentials look
     * alike. A listing's refusal says which ({@code AccessDenied}, or {@code InvalidAccessKeyId} /
     * {@code SignatureDoesNotMatch}).
     */
    private static boolean mayOnlyWrite(S3Client client, String bucket, Duration timeout) {
        try {
            client.listObjectsV2(r -> r.bucket(bucket).maxKeys(1).overrideConfiguration(o -> o.apiCallTimeout(timeout)));
            return true;
        } catch (S3Exception e) {
            return e.awsErrorDetails() != null && "AccessDenied".equals(e.awsErrorDetails().errorCode());
        } catch (SdkException e) {
            // no answer to the listing (a timeout): the 403 stands as it came, a WARN
            return true;
        }
    }

    private static void storeDown(String named, String why) {
        LOG.warn("{} could not be checked ({}); the bundle starts, and the results for s3 wait in the outbox until"
                + " the store answers", named, why);
    }

    private static boolean missingCredentials(SdkClientException e) {
        return mentions(e, "Unable to load credentials");
    }

    private static String unreachable(S3Connection connection, SdkClientException e) {
        String cause = rootMessage(e);
        if (missingCredentials(e)) {
            return "No AWS credentials found for " + connection.key("use-default-credentials")
                    + "=true: provide them to the default AWS chain (environment, profile, web identity, instance role)"
                    + " or set " + connection.key("access-key") + " / " + connection.key("secret-key");
        }
        String why = e instanceof ApiCallTimeoutException ? "no answer in time" : cause;
        if (connection.endpoint() != null) {
            return connection.key("endpoint") + " '" + connection.endpoint() + "' cannot be reached ("
                    + Settings.envName(connection.key("endpoint")) + "): " + why;
        }
        return "S3 in " + connection.key("region") + " '" + connection.region() + "' cannot be reached ("
                + Settings.envName(connection.key("region")) + "; set " + connection.key("endpoint")
                + " for an S3-compatible store): " + why;
    }

    private static boolean mentions(Throwable t, String text) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c.getMessage() != null && c.getMessage().contains(text)) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@link #rootMessage} for a line about one object: an error may quote its key, whose file name
     * is often a NIK (long digit runs are masked, see {@link id.ktpbridge.LogSafe}).
     */
    static String objectError(Throwable t) {
        return id.ktpbridge.LogSafe.text(rootMessage(t), 500);
    }

    static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() != null ? root.getMessage() : t.getMessage();
        return message == null ? root.getClass().getSimpleName() : message;
    }
}

package id.ktpbridge.s3;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The delete that ends an object's move (or takes its place, {@code after-success=delete}), only
 * if the key still holds the version that was processed. A scanner putting a new version under the same name while the earlier one is copied
 * would otherwise lose it unseen (on a versioned bucket, hidden behind a delete marker). Known by
 * its ETag, as the copy knows it: the same bytes put again go with the earlier version.
 *
 * <p>The delete names the version's ETag ({@code If-Match}): AWS S3 (general purpose buckets since
 * September 2025), S3Proxy and Ceph judge it with the delete itself. A store that answers {@code 501
 * NotImplemented} to it is asked first ({@code HeadObject}), and remembered per bucket: a new version
 * put in the milliseconds between the look and the delete is still lost there. A store that ignores
 * the condition (MinIO, as of this writing) deletes as before.
 */
final class ConditionalDelete {

    private static final Logger LOG = LoggerFactory.getLogger(ConditionalDelete.class);

    private final S3Client client;
    /** Buckets whose store answered a conditional delete {@code 501 NotImplemented}. */
    private final Set<String> unconditional = ConcurrentHashMap.newKeySet();

    ConditionalDelete(S3Client client) {
        this.client = client;
    }

    /**
     * Deletes {@code key} if it still holds the version {@code etag} names (any version when there
     * is no ETag); a key holding nothing any more counts as deleted.
     *
     * @return false when another version is there now, which stays
     */
    boolean deleteIfUnchanged(String bucket, String key, String etag) {
        if (etag == null || etag.isBlank()) {
            client.deleteObject(r -> r.bucket(bucket).key(key));
            return true;
        }
        if (!unconditional.contains(bucket)) {
            try {
                client.deleteObject(r -> r.bucket(bucket).key(key).ifMatch(etag));
                return true;
            } catch (S3Exception e) {
                if (e.statusCode() == 412) {
                    return false;
                }
                // AWS answers a conditional delete of a key that holds nothing so; a plain one succeeds
                if (noSuchKey(e)) {
                    return true;
                }
                // 409 ConditionalRequestConflict: a write to the key was under way at that moment (a new
                // version coming in, most likely): this once, the key is looked at instead
                boolean conflict = e.statusCode() == 409;
                if (!conflict && e.statusCode() != 501 && !(e.awsErrorDetails() != null
                        && "NotImplemented".equals(e.awsErrorDetails().errorCode()))) {
                    throw e;
                }
                if (!conflict && unconditional.add(bucket)) {
                    LOG.info("S3 source: the store of bucket {} does not take conditional deletes ({}); an object is"
                            + " looked at just before it is deleted instead", bucket, S3BucketCheck.objectError(e));
                }
            }
        }
        try {
            String now = client.headObject(r -> r.bucket(bucket).key(key)).eTag();
            if (!stripQuotes(now).equals(stripQuotes(etag))) {
                return false;
            }
        } catch (NoSuchKeyException e) {
            return true;
        }
        client.deleteObject(r -> r.bucket(bucket).key(key));
        return true;
    }

    static boolean noSuchKey(S3Exception e) {
        return e instanceof NoSuchKeyException || e.statusCode() == 404 && e.awsErrorDetails() != null
                && "NoSuchKey".equals(e.awsErrorDetails().errorCode());
    }

    private static String stripQuotes(String etag) {
        return etag == null ? "" : etag.replace("\"", "");
    }
}

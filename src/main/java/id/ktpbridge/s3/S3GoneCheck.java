package id.ktpbridge.s3;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import id.ktpbridge.submit.GoneCheck;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Whether the objects of S3 inputs left waiting are still in their bucket: a {@code HeadObject}
 * each with the S3 source's client. An object is gone only on a 404 while its bucket answers a
 * {@code HeadBucket} (a HEAD's 404 has no body to tell a missing key from a missing bucket). A
 * refusal (403), any other answer, or none tells nothing; a store that does not answer, or fails
 * (5xx, throttling), ends the look for this sweep.
 */
public final class S3GoneCheck implements GoneCheck {

    private static final Logger LOG = LoggerFactory.getLogger(S3GoneCheck.class);

    private final S3Client client;
    private final Duration timeout;

    /** @param timeout longest a call may take, all the client's attempts together */
    public S3GoneCheck(S3Client client, Duration timeout) {
        this.client = client;
        this.timeout = timeout;
    }

    @Override
    public String sourceType() {
        return "s3";
    }

    @Override
    public String goneMessage() {
        return "its object left the S3 bucket before its upload";
    }

    @Override
    public String place() {
        return "the S3 bucket";
    }

    @Override
    public Answer look(List<String> sourceRefs) {
        Set<String> answered = new HashSet<>();
        Set<String> gone = new HashSet<>();
        Map<String, Boolean> buckets = new HashMap<>();
        Map<Integer, Integer> refused = new java.util.TreeMap<>();
        for (String ref : sourceRefs) {
            int slash = ref == null || !ref.startsWith("s3://") ? -1 : ref.indexOf('/', "s3://".length());
            if (slash < 0 || slash == ref.length() - 1) {
                answered.add(ref);
                continue;
            }
            String bucket = ref.substring("s3://".length(), slash);
            String key = ref.substring(slash + 1);
            try {
                client.headObject(r -> r.bucket(bucket).key(key).overrideConfiguration(o -> o.apiCallTimeout(timeout)));
                answered.add(ref);
            } catch (S3Exception e) {
                if (e.statusCode() == 404) {
                    if (buckets.computeIfAbsent(bucket, this::bucketThere)) {
                        gone.add(ref);
                    }
                } else if (e.statusCode() >= 500 || e.statusCode() == 429 || e.statusCode() == 408) {
                    away(sourceRefs.size(), e);
                    break;
                } else {
                    // refused (403: the key's policy, no s3:ListBucket, credentials no longer valid) or
                    // asked otherwise: it may be there
                    refused.merge(e.statusCode(), 1, Integer::sum);
                }
                answered.add(ref);
            } catch (SdkException e) {
                away(sourceRefs.size(), e);
                break;
            }
        }
        if (!refused.isEmpty()) {
            // a missing key answers 403 without s3:ListBucket: such inputs would stay open unseen
            LOG.warn("S3 source: the look whether objects of inputs left waiting are still in the bucket was refused"
                    + " (HTTP status: count {}): they stay open until the store answers whether they are there; a"
                    + " missing object answers 403 without s3:ListBucket", refused);
        }
        return new Answer(answered, gone);
    }

    private boolean bucketThere(String bucket) {
        try {
            client.headBucket(r -> r.bucket(bucket).overrideConfiguration(o -> o.apiCallTimeout(timeout)));
            return true;
        } catch (SdkException e) {
            return false;
        }
    }

    private static void away(int inputs, SdkException e) {
        // status and code, or the kind of failure: never the key (a file name is often a NIK)
        LOG.warn("S3 source: could not look whether the objects of {} input(s) left waiting are still in the bucket"
                + " ({}); looked at again at the next sweep", inputs, UnreadableObjects.failure(e));
    }
}

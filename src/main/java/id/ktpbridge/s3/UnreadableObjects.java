package id.ktpbridge.s3;

import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import id.ktpbridge.LogSafe;
import id.ktpbridge.Lru;
import id.ktpbridge.ThrottledWarning;
import id.ktpbridge.ingest.PassingFailures;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.http.AbortableInputStream;
import software.amazon.awssdk.services.s3.DelegatingS3Client;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.EncodingType;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The S3 source's client. Camel's consumer fetches every object of a listing before it routes any
 * of them, and one failed fetch abandons the whole listing. An object the bundle can never read
 * (archived in a Glacier storage class, encrypted with a customer-provided key) would fail its
 * listing at every pass and get no result. Such a fetch is answered with an empty object instead,
 * its version taken from the listing, and the reason is kept for {@link S3Source#describe}, which
 * has the input rejected ({@code UNREADABLE_SOURCE}) and quarantined like any other bad input.
 *
 * <p>An object gone since the listing (404: another instance took it, or the partner deleted it)
 * or refused on its own (403: owned by another account, encrypted with a key the role may not use)
 * is answered with an empty stand-in too, marked to be left where it is for this listing
 * ({@link #takeLeftForLater}): the rest of its listing goes on, and a later listing tries it again.
 *
 * <p>Any other failure (a 5xx after the client's own retries, a timeout, a KMS key disabled for a
 * while: {@code 400 KMS.DisabledException}) still fails the listing, as an outage, while it may
 * pass. A version of an object whose fetches fail {@value #FAILED_FETCHES} times in a row, the last
 * at least {@code ktp.source.s3.broken-read-window} after the first, is taken for one that cannot
 * be read: it is answered with the empty object and a reason, as above, and so at once at every
 * later listing. Otherwise it would fail every listing that reaches it, and neither it nor the
 * other objects of its page would ever get a result.
 */
final class UnreadableObjects extends DelegatingS3Client {

    private static final Logger LOG = LoggerFactory.getLogger(UnreadableObjects.class);
    /** Failed fetches in a row after which an object version counts as unreadable (as broken-off reads). */
    static final int FAILED_FETCHES = 5;

    /** The objects of the latest listing, by bucket and key: a stand-in object takes its version from there. */
    private final Map<String, S3Object> listed = new ConcurrentHashMap<>();
    /** Why an object version could not be read, until {@link #takeReason} hands it to its input. */
    private final Map<String, String> reasons = new ConcurrentHashMap<>();
    /** Object versions this listing could not fetch for now, until {@link #takeLeftForLater} is asked. */
    private final Set<String> leftForLater = ConcurrentHashMap.newKeySet();
    /** One line a minute at most: an object is refused again at every listing until someone mends it. */
    private final ThrottledWarning refusals = new ThrottledWarning(LOG, "An object under the S3 source's prefix could"
            + " not be read (HTTP {}{}): it stays in place and later listings try it again; the other objects go on",
            60_000);
    /** Fetches of each object version (bucket, key, ETag and time) that failed in a row, for a reason that may pass. */
    private final PassingFailures fetchesFailed;
    private final Duration window;
    /** Object versions whose fetches kept failing, with the reason they are rejected for: not fetched again. */
    private final Map<String, String> givenUp = Collections.synchronizedMap(Lru.map(10_000));

    /** @param window how long after the first of {@value #FAILED_FETCHES} failed fetches in a row, at least, the object counts as unreadable */
    UnreadableObjects(S3Client delegate, Duration window) {
        this(delegate, window, Clock.systemUTC());
    }

    UnreadableObjects(S3Client delegate, Duration window, Clock clock) {
        super(delegate);
        this.window = window;
        this.fetchesFailed = new PassingFailures(FAILED_FETCHES, window, clock);
    }

    @Override
    public ListObjectsResponse listObjects(ListObjectsRequest request) {
        // keys sent URL-encoded (the SDK decodes them): a key with a control character (what a wrong
        // character set leaves) is not valid in XML, and its page would fail to parse at every listing,
        // holding up every object sorting after it. A store that ignores the parameter sends keys as before
        ListObjectsResponse page = super.listObjects(request.encodingType() == null
                ? request.toBuilder().encodingType(EncodingType.URL).build() : request);
        // the S3 source lists again only once the previous listing's objects are done (S3PollGate);
        // a reason not taken by then belongs to a listing Camel dropped, and may be stale now
        listed.clear();
        reasons.clear();
        leftForLater.clear();
        for (S3Object object : page.contents()) {
            listed.put(request.bucket() + "/" + object.key(), object);
        }
        return page;
    }

    @Override
    public <T> T getObject(GetObjectRequest request, ResponseTransformer<GetObjectResponse, T> transformer) {
        S3Object object = listed.get(request.bucket() + "/" + request.key());
        String tries = object == null ? null : tries(request.bucket(), object);
        String givenUpFor = tries == null ? null : givenUp.get(tries);
        if (givenUpFor != null) {
            // rejected already: fetching it again would fail its listing for another round of tries
            reasons.put(version(request.bucket(), request.key(), object.eTag()), givenUpFor);
            return standIn(object, transformer);
        }
        T fetched;
        try {
            fetched = super.getObject(request, transformer);
        } catch (S3Exception e) {
            if (object == null) {
                throw e;
            }
            String why = reason(e, object);
            if (why != null) {
                reasons.put(version(request.bucket(), request.key(), object.eTag()), why);
            } else if (e.statusCode() == 404 || e.statusCode() == 403) {
                leftForLater.add(version(request.bucket(), request.key(), object.eTag()));
                if (e.statusCode() == 403) {
                    logRefusal(e);
                } else {
                    LOG.debug("An S3 object listed a moment ago is gone; its listing goes on without it");
                }
            } else {
                keptFailing(request, object, tries, e);
            }
            return standIn(object, transformer);
        } catch (SdkClientException e) {
            if (object == null) {
                throw e;
            }
            keptFailing(request, object, tries, e);
            return standIn(object, transformer);
        }
        if (tries != null) {
            fetchesFailed.passed(tries);
        }
        return fetched;
    }

    /**
     * Counts a failed fetch that may pass, and rethrows it (failing the listing) until the object's
     * fetches have failed {@value #FAILED_FETCHES} times in a row over the window; then notes why
     * the object cannot be read, for good.
     */
    private void keptFailing(GetObjectRequest request, S3Object object, String tries, SdkException e) {
        if (fetchesFailed.failed(tries) > 0) {
            throw e;
        }
        String why = "fetching it from the bucket failed at least " + FAILED_FETCHES + " times in a row, over at least "
                + window.toSeconds() + " s (the last time: " + failure(e) + "); put it again once that is mended to"
                + " have it taken again";
        givenUp.put(tries, why);
        reasons.put(version(request.bucket(), request.key(), object.eTag()), why);
        LOG.warn("An S3 object under the S3 source's prefix could not be fetched {} times in a row over {} s ({}):"
                + " it is rejected as unreadable, and the other objects of its listing go on", FAILED_FETCHES,
                window.toSeconds(), failure(e));
    }

    /** HTTP status and S3 error code, or the kind of failure when the store did not answer; never the key. */
    static String failure(SdkException e) {
        if (e instanceof S3Exception s3) {
            String code = s3.awsErrorDetails() == null ? null : s3.awsErrorDetails().errorCode();
            return "HTTP " + s3.statusCode() + (code == null ? "" : " " + LogSafe.text(code, 100));
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return "no answer, " + root.getClass().getSimpleName();
    }

    /**
     * An empty object in place of one that could not be fetched, its version taken from the listing.
     * It states the listed size, which an input on its way from this object is known by (Intake),
     * and its modification time in whole seconds, as a fetch gives it (HTTP {@code Last-Modified}):
     * the listings of some stores (MinIO, S3Proxy) give milliseconds, which would make another claim
     * key ({@link S3Source#inputKey}) for the same version.
     */
    private static <T> T standIn(S3Object object, ResponseTransformer<GetObjectResponse, T> transformer) {
        GetObjectResponse standIn = GetObjectResponse.builder()
                .eTag(object.eTag())
                .lastModified(object.lastModified() == null ? null
                        : object.lastModified().truncatedTo(ChronoUnit.SECONDS))
                .storageClass(object.storageClassAsString())
                .contentType("application/octet-stream")
                .contentLength(object.size())
                .build();
        try {
            return transformer.transform(standIn, AbortableInputStream.create(InputStream.nullInputStream()));
        } catch (Exception failed) {
            throw SdkClientException.create("the stand-in for an unreadable object could not be built", failed);
        }
    }

    /**
     * Why this version of the object could not be read, if it could not; asked once per input, so
     * the note does not outlive it.
     */
    String takeReason(String bucket, String key, String eTag) {
        return reasons.remove(version(bucket, key, eTag));
    }

    /**
     * Whether this version of the object could not be fetched for now (gone or refused), and is to
     * be left where it is; asked once per input.
     */
    boolean takeLeftForLater(String bucket, String key, String eTag) {
        return leftForLater.remove(version(bucket, key, eTag));
    }

    private void logRefusal(S3Exception e) {
        String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
        refusals.warn(e.statusCode(), code == null ? "" : " " + code);
    }

    /** Keys and ETags as S3 gives them; the key never goes into a log or a result from here. */
    private static String version(String bucket, String key, String eTag) {
        return bucket + "/" + key + "#" + eTag;
    }

    /**
     * The version whose failed fetches are counted: with its modification time, as the same bytes
     * put again later are a new input, tried afresh.
     */
    private static String tries(String bucket, S3Object object) {
        return version(bucket, object.key(), object.eTag()) + "@" + object.lastModified();
    }

    /** A failure of this one object that asking again cannot mend, or null. */
    static String reason(S3Exception e, S3Object object) {
        String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
        if (code == null) {
            return null;
        }
        if (code.equals("InvalidObjectState")) {
            return "the object is archived (storage class " + object.storageClassAsString() + ") and cannot be read;"
                    + " restore it and copy it to a readable storage class to have it taken again";
        }
        String message = e.awsErrorDetails().errorMessage() == null ? ""
                : e.awsErrorDetails().errorMessage().toLowerCase(Locale.ROOT);
        if (code.equals("InvalidRequest") && e.statusCode() == 400 && message.contains("server side encryption")) {
            return "the object is encrypted with a customer-provided key (SSE-C), which the bundle does not hold";
        }
        // not a KMS refusal: a key disabled for a while, or a role without kms:Decrypt, refuses every
        // object encrypted with it, and is mended in one place. A disabled key (400) fails the listing
        // as an outage until the object's fetches have failed long enough (getObject), a 403 is left
        // for a later listing
        return null;
    }
}

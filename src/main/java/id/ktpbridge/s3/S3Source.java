package id.ktpbridge.s3;

import java.io.FilterInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Pattern;

import id.ktpbridge.ThrottledWarning;
import id.ktpbridge.ingest.InputHeaders;
import id.ktpbridge.ingest.PassingFailures;
import id.ktpbridge.ingest.Settlement;
import id.ktpbridge.ingest.SourceRelease;
import id.ktpbridge.ledger.LedgerIdempotentRepository;
import id.ktpbridge.submit.WorkItem;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.aws2.s3.AWS2S3Constants;
import org.apache.camel.spi.IdempotentRepository;
import org.apache.camel.support.SynchronizationAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CopyObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * What the {@code ingest-s3} route needs from Java: turning an S3 object into the neutral input
 * message, the include rule, the idempotency key, and moving the object once its submission is
 * recorded (processed prefix or delete) or has failed (failed prefix plus {@code .error.json}).
 * Log lines name ledger ids, never object keys (keys may carry partner user ids).
 */
public class S3Source {

    /** User metadata ({@code x-amz-meta-partner-user-id}) that names the partner user; wins over the name rules. */
    public static final String META_PARTNER_USER_ID = "partner-user-id";
    /** User metadata ({@code x-amz-meta-partner-user-id-type}) that names the partner user id type. */
    public static final String META_PARTNER_USER_ID_TYPE = "partner-user-id-type";
    /** The idempotent repository of the route (bound by BridgeConfiguration). */
    static final String REPOSITORY = "s3ProcessedInputs";
    /** User metadata a moved object carries: the ledger id of its input ({@code x-amz-meta-ktp-ledger-id}). */
    static final String LEDGER_ID_METADATA = "ktp-ledger-id";
    /** Exchange property: the object could not be fetched by this listing and is left where it is. */
    static final String LEFT_FOR_LATER = "KtpS3LeftForLater";
    /** Exchange property: the {@link ObjectEncryption} the fetched object came with, which its copies keep. */
    static final String ENCRYPTION = "KtpS3Encryption";

    private static final Logger LOG = LoggerFactory.getLogger(S3Source.class);

    private final CamelContext context;
    private final S3Client client;
    private final ConditionalDelete deletes;
    private final S3PollGate gate;
    private final String prefix;
    private final Pattern include;
    private final boolean deleteAfterSuccess;
    private final String processedBucket;
    private final String processedPrefix;
    private final String failedBucket;
    private final String failedPrefix;
    /**
     * A move (to done or failed) that failed for a passing reason this many times in a row, the last
     * at least {@link #MOVE_RETRY_WINDOW} after the first, counts as refused.
     */
    static final int MAX_PASSING_MOVE_FAILURES = 10;
    /**
     * The object is taken again every listing ({@code poll-delay}, 2 s): the count alone would be
     * used up by some seconds of a write outage (503 SlowDown, KMS throttling), and leave the object
     * in place for good.
     */
    static final Duration MOVE_RETRY_WINDOW = Duration.ofMinutes(10);
    /** Moves (to done or failed) of one input that failed for a passing reason, in a row. */
    private volatile PassingFailures movesFailed = new PassingFailures(MAX_PASSING_MOVE_FAILURES, MOVE_RETRY_WINDOW,
            Clock.systemUTC());
    private volatile IdempotentRepository repository;
    /** Per target bucket: the warning that a copy there went without the object's KMS key, which it refused. */
    private final Map<String, ThrottledWarning> keyRefusedAt = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * @param processedBucket where submitted objects go ({@code null}: the object's own bucket)
     * @param failedBucket where failed objects go ({@code null}: the object's own bucket)
     */
    public S3Source(CamelContext context, S3Client client, S3PollGate gate, String prefix, Pattern include,
                    boolean deleteAfterSuccess, String processedBucket, String processedPrefix, String failedBucket,
                    String failedPrefix) {
        this.context = context;
        this.client = client;
        this.deletes = new ConditionalDelete(client);
        this.gate = gate;
        this.prefix = prefix;
        // read without regard to case, as Camel's file and SFTP consumers read theirs: u1.JPG is taken everywhere
        this.include = Pattern.compile(include.pattern(), include.flags() | Pattern.CASE_INSENSITIVE);
        this.deleteAfterSuccess = deleteAfterSuccess;
        this.processedBucket = processedBucket;
        this.processedPrefix = processedPrefix;
        this.failedBucket = failedBucket;
        this.failedPrefix = failedPrefix;
    }

    /** Measures the failed moves' {@link #MOVE_RETRY_WINDOW} by {@code clock} from now on (a test's). */
    void moveClock(Clock clock) {
        this.movesFailed = new PassingFailures(MAX_PASSING_MOVE_FAILURES, MOVE_RETRY_WINDOW, clock);
    }

    /**
     * Camel bean method, first step for every listed object: {@code KtpSourceFile}, why the object
     * could not be read (if so), the partner user from the object's user metadata, and a body that releases the object's connection
     * without downloading the rest when the object is skipped or only partly read.
     */
    public void describe(Exchange exchange) {
        gate.track(exchange);
        Message msg = exchange.getMessage();
        msg.setHeader(InputHeaders.SOURCE_FILE, fileName(msg.getHeader(AWS2S3Constants.KEY, String.class)));
        // the object's stated size: one over ktp.source.max-size is rejected without being read, and
        // recorded with that size, which a count of the bytes read before the limit would not repeat
        Long size = msg.getHeader(AWS2S3Constants.CONTENT_LENGTH, Long.class);
        if (size != null && size >= 0) {
            msg.setHeader(Exchange.FILE_LENGTH, size);
        }
        boolean standIn = false;
        if (client instanceof UnreadableObjects unreadable) {
            String why = unreadable.takeReason(msg.getHeader(AWS2S3Constants.BUCKET_NAME, String.class),
                    msg.getHeader(AWS2S3Constants.KEY, String.class), msg.getHeader(AWS2S3Constants.E_TAG, String.class));
            if (why != null) {
                msg.setHeader(InputHeaders.UNREADABLE, why);
            }
            if (unreadable.takeLeftForLater(msg.getHeader(AWS2S3Constants.BUCKET_NAME, String.class),
                    msg.getHeader(AWS2S3Constants.KEY, String.class), msg.getHeader(AWS2S3Constants.E_TAG, String.class))) {
                exchange.setProperty(LEFT_FOR_LATER, true);
                standIn = true;
            }
            standIn |= why != null;
        }
        if (!standIn && msg.getBody() instanceof ResponseInputStream<?> fetched
                && fetched.response() instanceof GetObjectResponse response) {
            // a stand-in's says nothing of the object: asked of it (lookAtUnread, copy)
            exchange.setProperty(ENCRYPTION, ObjectEncryption.of(response));
        }
        partnerUser(msg);
        if (msg.getBody() instanceof ResponseInputStream<?> stream) {
            ObjectBody body = new ObjectBody(stream);
            msg.setBody(body);
            exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
                @Override
                public void onDone(Exchange done) {
                    body.close();
                }
            });
        }
    }

    /** The partner user the object's user metadata names, if it names one. */
    private static void partnerUser(Message msg) {
        Map<?, ?> metadata = msg.getHeader(AWS2S3Constants.METADATA, Map.class);
        if (metadata != null) {
            String user = metadata(metadata, META_PARTNER_USER_ID);
            if (user != null) {
                msg.setHeader(InputHeaders.PARTNER_USER_ID, user);
            }
            String type = metadata(metadata, META_PARTNER_USER_ID_TYPE);
            if (type != null) {
                msg.setHeader(InputHeaders.PARTNER_USER_ID_TYPE, type);
            }
        }
    }

    /**
     * Camel bean method on the worker, before the submission: an object that could not be fetched
     * (a stand-in was read, with no user metadata or content headers of its own) is looked at
     * ({@code HeadObject}), so that its result names the partner user its metadata names, and its
     * copy to the failed prefix keeps its metadata, content headers and KMS key. Only if it is still
     * the version listed; if the look fails too, the result goes by the name rules and the copy
     * looks again.
     */
    public void lookAtUnread(Exchange exchange) {
        Message msg = exchange.getMessage();
        if (msg.getHeader(InputHeaders.UNREADABLE) == null || exchange.getProperty(ENCRYPTION) != null) {
            return;
        }
        String etag = msg.getHeader(AWS2S3Constants.E_TAG, String.class);
        HeadObjectResponse object;
        try {
            object = lookAt(msg.getHeader(AWS2S3Constants.BUCKET_NAME, String.class),
                    msg.getHeader(AWS2S3Constants.KEY, String.class));
        } catch (SdkException e) {
            LOG.debug("An S3 object that could not be read could not be looked at either ({})",
                    S3BucketCheck.objectError(e));
            return;
        }
        if (object == null || etag != null && !stripQuotes(etag).equals(stripQuotes(object.eTag()))) {
            return;
        }
        msg.setHeader(AWS2S3Constants.METADATA, object.metadata());
        setOrRemove(msg, AWS2S3Constants.CONTENT_TYPE, object.contentType());
        setOrRemove(msg, AWS2S3Constants.CONTENT_ENCODING, object.contentEncoding());
        setOrRemove(msg, AWS2S3Constants.CONTENT_DISPOSITION, object.contentDisposition());
        setOrRemove(msg, AWS2S3Constants.CACHE_CONTROL, object.cacheControl());
        exchange.setProperty(ENCRYPTION, ObjectEncryption.of(object));
        partnerUser(msg);
    }

    private static void setOrRemove(Message msg, String name, String value) {
        if (value == null) {
            msg.removeHeader(name);
        } else {
            msg.setHeader(name, value);
        }
    }

    /**
     * Camel predicate: the key names a file (not a folder) whose name matches {@code ktp.source.s3.include}
     * and is not hidden (a name starting with a dot, such as the {@code ._} file a Mac copies next to
     * each image: the file drop and SFTP never take those either), and the object could be fetched
     * (see {@link UnreadableObjects}).
     */
    public boolean included(Exchange exchange) {
        String key = exchange.getMessage().getHeader(AWS2S3Constants.KEY, String.class);
        if (key == null || key.endsWith("/") || Boolean.TRUE.equals(exchange.getProperty(LEFT_FOR_LATER, Boolean.class))) {
            return false;
        }
        String name = fileName(key);
        return !name.startsWith(".") && include.matcher(name).matches() && !repository().contains(legacyKey(exchange));
    }

    /**
     * The key versions before ledger schema 5 remembered an object by (bucket + key + ETag only): an
     * object one of them took and left in place (its move refused) stays taken, and so does one an
     * instance of such a version is taking during a rolling update.
     */
    String legacyKey(Exchange exchange) {
        Message msg = exchange.getMessage();
        String etag = msg.getHeader(AWS2S3Constants.E_TAG, String.class);
        if (etag == null || etag.isBlank()) {
            etag = msg.getHeader(AWS2S3Constants.CONTENT_LENGTH, String.class) + "@"
                    + msg.getHeader(AWS2S3Constants.LAST_MODIFIED, String.class);
        }
        String key = "s3://" + msg.getHeader(AWS2S3Constants.BUCKET_NAME, String.class) + "/"
                + msg.getHeader(AWS2S3Constants.KEY, String.class) + "#" + etag.replace("\"", "");
        return LedgerIdempotentRepository.storedKey(key);
    }

    /**
     * Camel expression: the idempotency key, bucket + key + ETag + modification time. A listing
     * that still shows an object being worked on gives the same key; the same bytes put back
     * later are a new version (another modification time), taken as a new input.
     */
    public String inputKey(Exchange exchange) {
        Message msg = exchange.getMessage();
        String etag = msg.getHeader(AWS2S3Constants.E_TAG, String.class);
        String version = (etag == null || etag.isBlank() ? msg.getHeader(AWS2S3Constants.CONTENT_LENGTH, String.class)
                : etag.replace("\"", "")) + "@" + msg.getHeader(AWS2S3Constants.LAST_MODIFIED, String.class);
        String key = "s3://" + msg.getHeader(AWS2S3Constants.BUCKET_NAME, String.class) + "/"
                + msg.getHeader(AWS2S3Constants.KEY, String.class) + "#" + version;
        return LedgerIdempotentRepository.storedKey(key);
    }

    /**
     * Camel bean method after the submission is recorded: moves the object to the processed prefix
     * or deletes it. A failure here does not touch the submission. A refusal the store will repeat
     * leaves the object where it is, remembered, so it is not taken again; a passing failure (a
     * timeout, a 5xx) gives up the object's claim, so a later listing takes it again, finds its
     * submission in the ledger and only moves it.
     */
    public void submitted(Exchange exchange) {
        String bucket = exchange.getMessage().getHeader(AWS2S3Constants.BUCKET_NAME, String.class);
        String key = exchange.getMessage().getHeader(AWS2S3Constants.KEY, String.class);
        String etag = exchange.getMessage().getHeader(AWS2S3Constants.E_TAG, String.class);
        try {
            if (replaced(bucket, key, etag)) {
                leaveReplaced(exchange, true);
                return;
            }
            if (!deleteAfterSuccess) {
                String toBucket = processedBucket == null ? bucket : processedBucket;
                copy(exchange, bucket, key, etag, toBucket, placed(exchange, toBucket, processedPrefix + relative(key)));
            }
            delete(bucket, key, etag);
            movesFailed.passed(inputKey(exchange));
            SourceRelease.letGo(exchange);
        } catch (ObjectReplaced e) {
            leaveReplaced(exchange, true);
        } catch (ObjectGone e) {
            leaveGone(exchange, "processed");
        } catch (SdkException e) {
            String ledgerId = exchange.getProperty(WorkItem.LEDGER_ID, String.class);
            String move = deleteAfterSuccess ? "deleted" : "moved to the processed prefix";
            if (refusedOrTooOften(exchange, e)) {
                LOG.warn("Ledger {}: submitted, but its S3 object could not be {}: {}. It stays in place and is not"
                        + " taken again.", ledgerId, move, S3BucketCheck.objectError(e));
                return;
            }
            repository().remove(inputKey(exchange));
            LOG.warn("Ledger {}: submitted, but its S3 object could not be {} yet: {}. A later listing tries again"
                    + " (without a second submission).", ledgerId, move, S3BucketCheck.objectError(e));
        }
    }

    /**
     * Camel bean method when the input was rejected or its submission failed (the body is the
     * failure report): copies the object to the failed prefix, writes {@code <key>.error.json}
     * next to it and deletes the original. A corrected copy put back is a new version, taken
     * again. If the store refuses, the object stays in place and is not taken again; if it fails for
     * a moment (a timeout, a 5xx), a later listing takes the object again for another try.
     */
    public void quarantine(Exchange exchange) {
        Message msg = exchange.getMessage();
        String bucket = msg.getHeader(AWS2S3Constants.BUCKET_NAME, String.class);
        String key = msg.getHeader(AWS2S3Constants.KEY, String.class);
        String toBucket = failedBucket == null ? bucket : failedBucket;
        String report = msg.getBody(String.class);
        String ledgerId = exchange.getProperty(WorkItem.LEDGER_ID, String.class);
        String etag = msg.getHeader(AWS2S3Constants.E_TAG, String.class);
        // the input is settled here, so the route's idempotent consumer keeps its key: Camel reads the
        // mark the failure recorder leaves (submit-ktp's onException) as a failure and would drop the
        // key, and an object whose move is refused below would be taken again at every listing
        exchange.getExchangeExtension().setFailureHandled(false);
        if (Settlement.staysInSource(exchange)) {
            // stopped before the outcome was recorded: the object stays, and is forgotten so it is taken again
            LOG.warn("Ledger {}: no outcome recorded yet; the S3 object stays in place and is taken"
                    + " again", ledgerId == null ? "-" : ledgerId);
            repository().remove(inputKey(exchange));
            return;
        }
        try {
            String target = placed(exchange, toBucket, failedPrefix + relative(key));
            copy(exchange, bucket, key, etag, toBucket, target);
            client.putObject(r -> r.bucket(toBucket).key(target + ".error.json").contentType("application/json"),
                    RequestBody.fromBytes((report == null ? "{}" : report).getBytes(StandardCharsets.UTF_8)));
            delete(bucket, key, etag);
            movesFailed.passed(inputKey(exchange));
            SourceRelease.letGo(exchange);
        } catch (ObjectReplaced e) {
            leaveReplaced(exchange, false);
        } catch (ObjectGone e) {
            leaveGone(exchange, "failed");
        } catch (SdkException e) {
            if (refusedOrTooOften(exchange, e)) {
                LOG.error("Ledger {}: its S3 object could not be moved to the failed prefix: {}. It stays in place and is"
                        + " not taken again.", ledgerId, S3BucketCheck.objectError(e));
                return;
            }
            // the store away for a moment: a later listing takes the object again and quarantines it
            // (its outcome is recorded, so without a second result)
            repository().remove(inputKey(exchange));
            LOG.warn("Ledger {}: its S3 object could not be moved to the failed prefix yet: {}. A later listing tries"
                    + " again.", ledgerId, S3BucketCheck.objectError(e));
        }
    }

    /**
     * Whether a failed move leaves the object in place for good: a refusal, or a passing failure met
     * by the same input {@link #MAX_PASSING_MOVE_FAILURES} times in a row over at least {@link
     * #MOVE_RETRY_WINDOW} (a store that fails one object's copy each time would otherwise have it
     * read and hashed again at every listing).
     */
    private boolean refusedOrTooOften(Exchange exchange, SdkException e) {
        return refused(e) || movesFailed.failed(inputKey(exchange)) == 0;
    }

    /**
     * A refusal the store will repeat (4xx other than timeouts and throttling), not a passing failure.
     * Some 4xx pass: a request the store timed out ({@code 400 RequestTimeout}), and credentials that
     * stopped working meanwhile (temporary ones expired, keys rotated, the clock drifted): the object
     * read a moment ago, so they are the bundle's, and a later listing, once they work, moves it.
     */
    static boolean refused(SdkException e) {
        return e instanceof S3Exception s3 && s3.statusCode() >= 400 && s3.statusCode() < 500
                && s3.statusCode() != 408 && s3.statusCode() != 429
                && !(s3.awsErrorDetails() != null && PASSING_CODES.contains(s3.awsErrorDetails().errorCode()));
    }

    /** S3 error codes of a 4xx that say nothing of the object or the target (see {@link #refused}). */
    private static final java.util.Set<String> PASSING_CODES = java.util.Set.of("RequestTimeout", "ExpiredToken",
            "TokenRefreshRequired", "RequestTimeTooSkewed", "InvalidAccessKeyId", "SignatureDoesNotMatch",
            "InvalidToken");

    /**
     * Copies the object only if it is still the version that was processed (its ETag): a partner
     * may have put a new version under the same key meanwhile, which must not be moved away unseen.
     * The copy keeps the object's content type, encoding, disposition, cache control, user
     * metadata and KMS key ({@link ObjectEncryption}), and adds the input's ledger id
     * ({@value #LEDGER_ID_METADATA}), by which a later try knows its own copy ({@link #placed}).
     * A target that refuses the key (another account, a key policy that leaves the role out) gets
     * the copy under its default encryption: the refusal would leave the object in place for good.
     */
    private void copy(Exchange exchange, String fromBucket, String fromKey, String etag, String toBucket, String toKey) {
        Message msg = exchange.getMessage();
        ObjectEncryption encryption = exchange.getProperty(ENCRYPTION, ObjectEncryption.class);
        if (encryption == null) {
            // the object could not be fetched (a stand-in was read) nor looked at (lookAtUnread): asked again
            encryption = ObjectEncryption.of(lookAt(fromBucket, fromKey));
        }
        Map<String, String> metadata = new java.util.HashMap<>();
        Map<?, ?> own = msg.getHeader(AWS2S3Constants.METADATA, Map.class);
        if (own != null) {
            own.forEach((k, v) -> {
                if (k != null && v != null) {
                    metadata.put(k.toString(), v.toString());
                }
            });
        }
        String ledgerId = exchange.getProperty(WorkItem.LEDGER_ID, String.class);
        if (ledgerId != null) {
            metadata.put(LEDGER_ID_METADATA, ledgerId);
        }
        Consumer<CopyObjectRequest.Builder> what = r -> r.sourceBucket(fromBucket).sourceKey(fromKey)
                .destinationBucket(toBucket).destinationKey(toKey)
                .copySourceIfMatch(etag == null || etag.isBlank() ? null : etag);
        try {
            try {
                copy(what, encryption, msg, metadata);
            } catch (S3Exception e) {
                if (encryption.equals(ObjectEncryption.NONE) || !ObjectEncryption.keyRefused(e)) {
                    throw e;
                }
                // once more under the target's default encryption; should that fail too, it is handled as any failure
                copy(what, ObjectEncryption.NONE, msg, metadata);
                keyRefusedAt.computeIfAbsent(toBucket, b -> new ThrottledWarning(LOG, "S3 source: a KMS key was"
                        + " refused for copies to bucket {} ({}); copies there go under the bucket's default"
                        + " encryption", 60_000)).warn(toBucket, UnreadableObjects.failure(e));
            }
        } catch (S3Exception e) {
            if (e.statusCode() == 412) {
                throw new ObjectReplaced();
            }
            // the copy's source is not there (a copy names no other key that must exist)
            if (ConditionalDelete.noSuchKey(e)) {
                throw new ObjectGone();
            }
            throw e;
        }
    }

    /** One copy of the object under {@code as}. */
    private void copy(Consumer<CopyObjectRequest.Builder> what, ObjectEncryption as, Message msg,
                      Map<String, String> metadata) {
        try {
            client.copyObject(r -> {
                what.accept(r);
                as.applyTo(r.metadataDirective(MetadataDirective.REPLACE).metadata(metadata)
                        .contentType(header(msg, AWS2S3Constants.CONTENT_TYPE))
                        .contentEncoding(header(msg, AWS2S3Constants.CONTENT_ENCODING))
                        .contentDisposition(header(msg, AWS2S3Constants.CONTENT_DISPOSITION))
                        .cacheControl(header(msg, AWS2S3Constants.CACHE_CONTROL)));
            });
        } catch (S3Exception e) {
            if (e.awsErrorDetails() == null || !"MetadataTooLarge".equals(e.awsErrorDetails().errorCode())) {
                throw e;
            }
            // its own metadata leaves no room for the ledger id (2 KB in all): copied as it is
            client.copyObject(r -> {
                what.accept(r);
                as.applyTo(r);
            });
        }
    }

    /**
     * Where the object goes: {@code key}, or {@code <ledger id>-<name>} beside it when another object
     * (an earlier one of that name: a scanner reusing names, a corrected image put back) or a report
     * is there already, so that one's bytes and report are kept, as the file drop and SFTP keep them.
     * A copy of this very object there (an earlier try whose delete failed) is taken as its own place.
     */
    private String placed(Exchange exchange, String bucket, String key) {
        // known by the ledger id its copy carries: an ETag does not say (a copy's differs from its source's
        // under SSE-KMS or after a multipart upload, and other inputs may have had the same bytes)
        String ledgerId = exchange.getProperty(WorkItem.LEDGER_ID, String.class);
        HeadObjectResponse there = lookAt(bucket, key);
        boolean own = there != null && ledgerId != null && ledgerId.equals(there.metadata().get(LEDGER_ID_METADATA));
        if (own || there == null && lookAt(bucket, key + ".error.json") == null) {
            return key;
        }
        String name = fileName(key);
        return key.substring(0, key.length() - name.length()) + Settlement.asideName(exchange, name);
    }

    /**
     * The object at {@code key}, or null when there is none, or when the role may write there but
     * not look (403: a write-only archive), which leaves the object its own name as before.
     */
    private HeadObjectResponse lookAt(String bucket, String key) {
        try {
            return client.headObject(r -> r.bucket(bucket).key(key));
        } catch (NoSuchKeyException e) {
            return null;
        } catch (S3Exception e) {
            if (e.statusCode() == 404 || e.statusCode() == 403) {
                return null;
            }
            throw e;
        }
    }

    private static String header(Message msg, String name) {
        String value = msg.getHeader(name, String.class);
        return value == null || value.isBlank() ? null : value;
    }

    /**
     * Deletes the object once it is copied (or instead of a move), only if it is still the version
     * that was processed: a new version put under its key meanwhile stays ({@link ConditionalDelete}).
     */
    private void delete(String bucket, String key, String etag) {
        if (!deletes.deleteIfUnchanged(bucket, key, etag)) {
            throw new ObjectReplaced();
        }
    }

    /**
     * Whether the key now holds another version than the one processed, checked before a delete
     * without a move, for a store that ignores the delete's own condition ({@link ConditionalDelete}).
     */
    private boolean replaced(String bucket, String key, String etag) {
        if (!deleteAfterSuccess || etag == null || etag.isBlank()) {
            return false;
        }
        try {
            return !stripQuotes(client.headObject(r -> r.bucket(bucket).key(key)).eTag()).equals(stripQuotes(etag));
        } catch (NoSuchKeyException e) {
            return false;
        }
    }

    private static String stripQuotes(String etag) {
        return etag == null ? "" : etag.replace("\"", "");
    }

    /**
     * The object was replaced while its earlier version was worked on: the new version stays in
     * place and is taken on its own (its ETag differs, so it is a new input). Only on a store that
     * does not judge a delete's condition ({@link ConditionalDelete}) can one put in the few
     * milliseconds between its look and the delete still be lost.
     */
    private static void leaveReplaced(Exchange exchange, boolean submitted) {
        SourceRelease.replacedWhileProcessed(exchange, "in the bucket");
        if (submitted) {
            // its outcome comes from OneKYC and its version is gone from the bucket: the same bytes put
            // back later are a new drop, not this input met again (a failed one is let go of above
            // once its result is recorded)
            SourceRelease.letGo(exchange);
        }
    }

    /** The source object changed between reading and moving it. */
    private static final class ObjectReplaced extends RuntimeException {
        ObjectReplaced() {
            super(null, null, false, false);
        }
    }

    /**
     * The object was deleted (by the partner, a lifecycle rule) after it was taken, before it was
     * moved: there is nothing to move, and the input is let go of, so the same bytes put there
     * again are a new drop with a result of their own, not this input met again.
     */
    private void leaveGone(Exchange exchange, String prefix) {
        movesFailed.passed(inputKey(exchange));
        LOG.warn("Ledger {}: its S3 object was deleted from the bucket after it was taken, before it could be moved to"
                + " the {} prefix; nothing is left to move", exchange.getProperty(WorkItem.LEDGER_ID, String.class), prefix);
        SourceRelease.letGo(exchange);
    }

    /** The source object is no longer in the bucket. */
    private static final class ObjectGone extends RuntimeException {
        ObjectGone() {
            super(null, null, false, false);
        }
    }

    /** The key below the source prefix: {@code inbox/branch-1/u1.jpg} -> {@code branch-1/u1.jpg}. */
    String relative(String key) {
        return key.startsWith(prefix) ? key.substring(prefix.length()) : key;
    }

    static String fileName(String key) {
        return key == null ? null : key.substring(key.lastIndexOf('/') + 1);
    }

    private static String metadata(Map<?, ?> metadata, String name) {
        for (Map.Entry<?, ?> e : metadata.entrySet()) {
            if (e.getKey() != null && name.equalsIgnoreCase(e.getKey().toString()) && e.getValue() != null
                    && !e.getValue().toString().isBlank()) {
                return e.getValue().toString().trim();
            }
        }
        return null;
    }

    private IdempotentRepository repository() {
        IdempotentRepository r = repository;
        if (r == null) {
            r = context.getRegistry().lookupByNameAndType(REPOSITORY, IdempotentRepository.class);
            if (r == null) {
                throw new IllegalStateException("No idempotent repository '" + REPOSITORY + "' in the registry");
            }
            repository = r;
        }
        return r;
    }

    /**
     * The object's content as the message body. Closing it after the last byte releases the
     * connection for reuse; closing it earlier (object skipped, or rejected before the end) aborts
     * the connection instead of downloading the rest.
     */
    static final class ObjectBody extends FilterInputStream {

        private final ResponseInputStream<?> response;
        private boolean eof;
        private boolean closed;

        ObjectBody(ResponseInputStream<?> response) {
            super(response);
            this.response = response;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b < 0) {
                eof = true;
            }
            return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
            int n = super.read(buf, off, len);
            if (n < 0) {
                eof = true;
            }
            return n;
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            if (eof) {
                try {
                    response.close();
                } catch (IOException e) {
                    response.abort();
                }
            } else {
                response.abort();
            }
        }

        // mark/reset would hide the end of the stream from the count above
        @Override
        public boolean markSupported() {
            return false;
        }
    }
}

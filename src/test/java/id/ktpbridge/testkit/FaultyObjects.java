package id.ktpbridge.testkit;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.services.s3.model.CopyObjectRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadBucketRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;

/**
 * Faults of single objects that S3Proxy does not make, chosen by a word in the object's key, for
 * reads ({@code GetObject}), and one for copies:
 * <ul>
 * <li>{@code -breaks-off}: the first read of the object stops with a reset connection after 1,000
 * bytes (later reads are whole); {@code -breaks-off-often}: the first {@value #OFTEN_BROKEN_READS}
 * reads do; {@code -always-breaks-off}: every read does;</li>
 * <li>{@code -refused}: every read is refused, {@code 403 AccessDenied} (an object owned by another
 * account);</li>
 * <li>{@code -gone}: every read answers {@code 404 NoSuchKey} (deleted since it was listed);</li>
 * <li>{@code -unavailable}: the first {@value #UNAVAILABLE_ATTEMPTS} attempts to read the object answer
 * {@code 500 InternalError} (the store failing for a while: more than the client's own retries);
 * {@code -always-unavailable}: every attempt does;</li>
 * <li>{@code -kms-disabled}: every read answers {@code 400 KMS.DisabledException}, as AWS answers for
 * an object under a KMS key that is disabled, and every copy of it is refused so before it is sent
 * ({@link #kmsRefusals} counts the reads);</li>
 * <li>{@code -kms-denied}: a copy of the object that names a KMS key or algorithm is refused before it
 * is sent, {@code 403 AccessDenied}, as AWS refuses one into a bucket of another account or under a
 * key whose policy leaves the role out; one without encryption settings is made ({@link
 * #kmsDeniedCopies} counts the refusals);</li>
 * <li>{@code -move-fails}: the first {@value #UNAVAILABLE_ATTEMPTS} copies of the object elsewhere
 * ({@code CopyObject}, a move's first step) answer {@code 500 InternalError} (the copy was made);
 * {@code -move-always-fails}: every copy does ({@link #copiesFailed} counts them).</li>
 * </ul>
 * <p>A bucket whose name holds {@code -no-conditional-delete} answers every delete that names an ETag
 * ({@code If-Match}) {@code 501 NotImplemented} before it is sent, as a store without conditional
 * deletes does; one whose name holds {@code -conflicting-delete} answers them {@code 409
 * ConditionalRequestConflict}, as AWS does while another write to the key is under way
 * ({@link #conditionalDeletesRefused} counts both). An action set {@linkplain #whenCopied
 * for a copy} runs once that copy is made, before its caller goes on (a new version put meanwhile).
 * <p>A bucket {@linkplain #readsFail whose reads fail} answers every read of its objects with
 * {@code 500 InternalError}, and one {@linkplain #copiesFail whose copies fail} every copy from it,
 * until switched back (a store failing a while after an object was read, or moved).
 * <p>A bucket whose name holds {@code -write-only} refuses to be looked at ({@code HeadBucket},
 * {@code ListObjectsV2}: {@code 403 AccessDenied}), as for a role with {@code s3:PutObject} only;
 * a bucket {@linkplain #unavailable made unavailable} answers every {@code HeadBucket} with
 * {@code 503 Service Unavailable} until it is {@linkplain #available available} again (a store
 * failing for a while: the start-up check and the endpoint Camel makes for a delivery look there).
 * Loaded for every S3 client of the test JVM, as {@link ArchivedObjects} is; other keys pass untouched.
 */
public final class FaultyObjects implements ExecutionInterceptor {

    private static final Set<String> BROKEN_OFF = ConcurrentHashMap.newKeySet();
    private static final java.util.concurrent.atomic.AtomicInteger ALWAYS_FAILED_COPIES =
            new java.util.concurrent.atomic.AtomicInteger();

    private static final java.util.concurrent.atomic.AtomicInteger KMS_REFUSALS =
            new java.util.concurrent.atomic.AtomicInteger();

    /** Copies of {@code -move-always-fails} objects answered 500 so far, in this JVM. */
    public static int copiesFailed() {
        return ALWAYS_FAILED_COPIES.get();
    }

    /** Reads of {@code -kms-disabled} objects refused so far, in this JVM. */
    public static int kmsRefusals() {
        return KMS_REFUSALS.get();
    }

    private static final java.util.concurrent.atomic.AtomicInteger KMS_DENIED_COPIES =
            new java.util.concurrent.atomic.AtomicInteger();

    /** Copies of {@code -kms-denied} objects refused for their KMS settings so far, in this JVM. */
    public static int kmsDeniedCopies() {
        return KMS_DENIED_COPIES.get();
    }

    private static final String KMS_DISABLED = "arn:aws:kms:ap-southeast-3:111122223333:key/test is disabled.";

    /**
     * A copy of a {@code -kms-disabled} object, or of a {@code -kms-denied} one that carries KMS
     * settings, is refused before it is sent: S3Proxy would make it otherwise.
     */
    private static final java.util.Map<String, Runnable> WHEN_COPIED = new ConcurrentHashMap<>();
    private static final java.util.concurrent.atomic.AtomicInteger CONDITIONAL_DELETES_REFUSED =
            new java.util.concurrent.atomic.AtomicInteger();

    /** Runs {@code action} once, on the copying thread, when a copy of {@code bucket}/{@code key} was made. */
    public static void whenCopied(String bucket, String key, Runnable action) {
        WHEN_COPIED.put(bucket + "/" + key, action);
    }

    /** Deletes with {@code If-Match} answered 501 in {@code -no-conditional-delete} buckets so far, in this JVM. */
    public static int conditionalDeletesRefused() {
        return CONDITIONAL_DELETES_REFUSED.get();
    }

    @Override
    public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
        if (context.request() instanceof CopyObjectRequest copy && context.httpResponse().isSuccessful()) {
            String source = copy.sourceBucket() != null ? copy.sourceBucket() + "/" + copy.sourceKey()
                    : java.net.URLDecoder.decode(copy.copySource(), StandardCharsets.UTF_8);
            Runnable action = WHEN_COPIED.remove(source);
            if (action != null) {
                action.run();
            }
        }
    }

    @Override
    public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
        if (context.request() instanceof DeleteObjectRequest delete && delete.ifMatch() != null
                && delete.bucket().contains("-no-conditional-delete")) {
            CONDITIONAL_DELETES_REFUSED.incrementAndGet();
            throw refusal(501, "NotImplemented", "A header you provided implies functionality that is not implemented");
        }
        if (context.request() instanceof DeleteObjectRequest delete && delete.ifMatch() != null
                && delete.bucket().contains("-conflicting-delete")) {
            CONDITIONAL_DELETES_REFUSED.incrementAndGet();
            throw refusal(409, "ConditionalRequestConflict", "A conflicting operation occurred");
        }
        if (!(context.request() instanceof CopyObjectRequest copy)) {
            return;
        }
        // the key alone: the bucket's name may hold the word too
        String key = String.valueOf(copy.sourceKey() != null ? copy.sourceKey()
                : copy.copySource().substring(copy.copySource().indexOf('/') + 1));
        if (key.contains("-kms-disabled")) {
            throw refusal(400, "KMS.DisabledException", KMS_DISABLED);
        }
        if (key.contains("-kms-denied") && (copy.serverSideEncryptionAsString() != null || copy.ssekmsKeyId() != null
                || copy.bucketKeyEnabled() != null)) {
            KMS_DENIED_COPIES.incrementAndGet();
            throw refusal(403, "AccessDenied", "User: arn:aws:sts::111122223333:assumed-role/ktp-bridge/test is not"
                    + " authorized to perform: kms:GenerateDataKey on resource: " + copy.ssekmsKeyId());
        }
    }

    private static software.amazon.awssdk.services.s3.model.S3Exception refusal(int status, String code, String message) {
        return (software.amazon.awssdk.services.s3.model.S3Exception) software.amazon.awssdk.services.s3.model
                .S3Exception.builder().statusCode(status).message(message)
                .awsErrorDetails(software.amazon.awssdk.awscore.exception.AwsErrorDetails.builder()
                        .errorCode(code).errorMessage(message).serviceName("S3").build())
                .build();
    }

    private static final Set<String> READS_FAILING = ConcurrentHashMap.newKeySet();
    private static final Set<String> COPIES_FAILING = ConcurrentHashMap.newKeySet();
    private static final java.util.concurrent.atomic.AtomicInteger READS_FAILED =
            new java.util.concurrent.atomic.AtomicInteger();

    /** From now on every read of an object in {@code bucket} answers 500 while {@code fail}. */
    public static void readsFail(String bucket, boolean fail) {
        if (fail) {
            READS_FAILING.add(bucket);
        } else {
            READS_FAILING.remove(bucket);
        }
    }

    /** Reads answered 500 by {@link #readsFail} so far, in this JVM. */
    public static int readsFailed() {
        return READS_FAILED.get();
    }

    /** From now on every copy of an object in {@code bucket} answers 500 (the copy made) while {@code fail}. */
    public static void copiesFail(String bucket, boolean fail) {
        if (fail) {
            COPIES_FAILING.add(bucket);
        } else {
            COPIES_FAILING.remove(bucket);
        }
    }

    static final int UNAVAILABLE_ATTEMPTS = 10;
    /** Reads of a {@code -breaks-off-often} object that break off: more than the bundle's 5 in a row. */
    public static final int OFTEN_BROKEN_READS = 7;
    private static final Set<String> UNAVAILABLE_BUCKETS = ConcurrentHashMap.newKeySet();

    /** From now on, every {@code HeadBucket} of {@code bucket} answers {@code 503}. */
    public static void unavailable(String bucket) {
        UNAVAILABLE_BUCKETS.add(bucket);
    }

    public static void available(String bucket) {
        UNAVAILABLE_BUCKETS.remove(bucket);
    }

    private static final java.util.Map<String, java.util.concurrent.atomic.AtomicInteger> UNAVAILABLE =
            new ConcurrentHashMap<>();
    private static final ExecutionAttribute<String> ERROR = new ExecutionAttribute<>("KtpTestObjectError");
    private static final ExecutionAttribute<Boolean> BREAK_OFF = new ExecutionAttribute<>("KtpTestBreakOff");

    @Override
    public SdkHttpResponse modifyHttpResponse(Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
        String lookedAt = context.request() instanceof HeadBucketRequest head ? head.bucket()
                : context.request() instanceof ListObjectsV2Request list ? list.bucket() : "";
        if (lookedAt.contains("-write-only")) {
            attributes.putAttribute(ERROR, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied"
                    + "</Code><Message>Access Denied</Message><RequestId>test</RequestId></Error>");
            return context.httpResponse().toBuilder().statusCode(403).statusText("Forbidden")
                    .removeHeader("Content-Length").putHeader("Content-Type", "application/xml").build();
        }
        if (context.request() instanceof HeadBucketRequest head && UNAVAILABLE_BUCKETS.contains(head.bucket())) {
            // a HEAD answer has no body
            return context.httpResponse().toBuilder().statusCode(503).statusText("Service Unavailable").build();
        }
        if (context.request() instanceof CopyObjectRequest copy && context.httpResponse().isSuccessful()) {
            // the SDK has folded bucket and key into the copy source by now. The copy was made: the
            // source stays where it was, so a retry copies it again
            String source = String.valueOf(copy.copySource());
            if (COPIES_FAILING.stream().anyMatch(bucket -> source.startsWith(bucket + "/"))) {
                return internalError(context, attributes);
            }
            if (source.contains("-move-always-fails")) {
                ALWAYS_FAILED_COPIES.incrementAndGet();
                return internalError(context, attributes);
            }
            if (source.contains("-move-fails") && UNAVAILABLE.computeIfAbsent("copy:" + source,
                    k -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet() <= UNAVAILABLE_ATTEMPTS) {
                return internalError(context, attributes);
            }
            attributes.putAttribute(ERROR, "");
            return context.httpResponse();
        }
        if (!(context.request() instanceof GetObjectRequest get) || !context.httpResponse().isSuccessful()) {
            return context.httpResponse();
        }
        String key = get.key();
        // attributes outlive an attempt: a retry the store answers is not given an earlier attempt's error
        attributes.putAttribute(ERROR, "");
        if (READS_FAILING.contains(get.bucket())) {
            READS_FAILED.incrementAndGet();
            return internalError(context, attributes);
        }
        if (key.contains("-always-unavailable") || key.contains("-unavailable") && UNAVAILABLE.computeIfAbsent(
                get.bucket() + "/" + key, k -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet()
                <= UNAVAILABLE_ATTEMPTS) {
            return internalError(context, attributes);
        }
        if (key.contains("-kms-disabled")) {
            KMS_REFUSALS.incrementAndGet();
            attributes.putAttribute(ERROR, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>KMS.DisabledException"
                    + "</Code><Message>" + KMS_DISABLED + "</Message><RequestId>test</RequestId></Error>");
            return context.httpResponse().toBuilder().statusCode(400).statusText("Bad Request")
                    .removeHeader("Content-Length").putHeader("Content-Type", "application/xml").build();
        }
        if (key.contains("-refused") || key.contains("-gone")) {
            boolean refused = key.contains("-refused");
            attributes.putAttribute(ERROR, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>"
                    + (refused ? "AccessDenied</Code><Message>Access Denied" : "NoSuchKey</Code><Message>The specified"
                    + " key does not exist.") + "</Message><RequestId>test</RequestId></Error>");
            return context.httpResponse().toBuilder().statusCode(refused ? 403 : 404)
                    .statusText(refused ? "Forbidden" : "Not Found").removeHeader("Content-Length")
                    .putHeader("Content-Type", "application/xml").build();
        }
        boolean often = key.contains("-breaks-off-often");
        if (key.contains("-always-breaks-off")
                || often && UNAVAILABLE.computeIfAbsent("read:" + get.bucket() + "/" + key,
                        k -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet() <= OFTEN_BROKEN_READS
                || !often && key.contains("-breaks-off") && BROKEN_OFF.add(get.bucket() + "/" + key)) {
            attributes.putAttribute(BREAK_OFF, true);
        }
        return context.httpResponse();
    }

    private static SdkHttpResponse internalError(Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
        attributes.putAttribute(ERROR, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InternalError"
                + "</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>test"
                + "</RequestId></Error>");
        return context.httpResponse().toBuilder().statusCode(500).statusText("Internal Server Error")
                .removeHeader("Content-Length").putHeader("Content-Type", "application/xml").build();
    }

    @Override
    public Optional<InputStream> modifyHttpResponseContent(Context.ModifyHttpResponse context,
                                                           ExecutionAttributes attributes) {
        String error = attributes.getAttribute(ERROR);
        if (error != null && !error.isEmpty()) {
            return Optional.of(new ByteArrayInputStream(error.getBytes(StandardCharsets.UTF_8)));
        }
        if (Boolean.TRUE.equals(attributes.getAttribute(BREAK_OFF)) && context.responseBody().isPresent()) {
            return Optional.of(new BreaksOff(context.responseBody().get(), 1_000));
        }
        return context.responseBody();
    }

    /** Passes the first bytes on, then fails as a connection the store reset. */
    private static final class BreaksOff extends FilterInputStream {

        private long left;

        BreaksOff(InputStream in, long bytes) {
            super(in);
            this.left = bytes;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                throw new SocketException("Connection reset");
            }
            left--;
            return super.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                throw new SocketException("Connection reset");
            }
            int n = super.read(b, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }
    }
}

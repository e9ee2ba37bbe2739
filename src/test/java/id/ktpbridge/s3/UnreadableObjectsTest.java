package id.ktpbridge.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import id.ktpbridge.testkit.ManualClock;
import id.ktpbridge.testkit.S3ProxyServer;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.http.AbortableInputStream;
import software.amazon.awssdk.services.s3.DelegatingS3Client;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsResponse;
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

    @Test
    void anObjectWhoseFetchesKeepFailingIsAnsweredWithAStandInOnlyAfterFiveInARowOverTheWindow() throws Exception {
        ManualClock clock = new ManualClock(0);
        Store store = new Store();
        UnreadableObjects client = new UnreadableObjects(store, Duration.ofSeconds(60), clock);
        S3Object a = S3Object.builder().key("inbox/a.png").eTag("\"a\"").lastModified(Instant.EPOCH).build();
        store.listed = a;
        store.failing.set(true);
        // five failures within seconds: the store away for a moment, each fails its listing
        for (int i = 0; i < UnreadableObjects.FAILED_FETCHES; i++) {
            client.listObjects(r -> r.bucket("b"));
            assertThrows(S3Exception.class, () -> fetch(client, a));
            clock.advance(Duration.ofSeconds(1));
        }
        assertNull(client.takeReason("b", a.key(), a.eTag()));
        // one more once the window has passed since the first: the object's own
        clock.advance(Duration.ofSeconds(60));
        client.listObjects(r -> r.bucket("b"));
        assertEquals(0, fetch(client, a).length, "an empty stand-in");
        String why = client.takeReason("b", a.key(), a.eTag());
        assertTrue(why.contains("failed at least 5 times in a row, over at least 60 s (the last time: HTTP 500"
                + " InternalError)"), why);
        // later listings answer for it at once, with its reason, and leave the store alone
        int calls = store.calls.get();
        client.listObjects(r -> r.bucket("b"));
        assertEquals(0, fetch(client, a).length);
        assertEquals(why, client.takeReason("b", a.key(), a.eTag()));
        assertEquals(calls, store.calls.get());

        // another object: a fetch that works between the failures starts their count again
        S3Object b = S3Object.builder().key("inbox/b.png").eTag("\"b\"").lastModified(Instant.EPOCH).build();
        store.listed = b;
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < UnreadableObjects.FAILED_FETCHES - 1; i++) {
                client.listObjects(r -> r.bucket("b"));
                assertThrows(S3Exception.class, () -> fetch(client, b));
                clock.advance(Duration.ofSeconds(61));
            }
            store.failing.set(false);
            client.listObjects(r -> r.bucket("b"));
            assertEquals(3, fetch(client, b).length);
            store.failing.set(true);
        }
        assertNull(client.takeReason("b", b.key(), b.eTag()));
    }

    @Test
    void aStandInStatesTheObjectsSizeAndItsModificationTimeAsAFetchGivesThem(@TempDir Path dir) throws Exception {
        try (S3ProxyServer s3 = S3ProxyServer.startTransient(dir)) {
            String bucket = s3.newBucket("ktp-stand-in");
            byte[] image = SampleImages.card("u5991", "png");
            s3.put(bucket, "inbox/u5991.png", image);
            AtomicBoolean failing = new AtomicBoolean();
            S3Client store = new DelegatingS3Client(s3.client()) {
                /** As MinIO lists objects: with milliseconds (S3Proxy lists whole seconds, as AWS does). */
                @Override
                public ListObjectsResponse listObjects(ListObjectsRequest request) {
                    ListObjectsResponse page = super.listObjects(request);
                    return page.toBuilder().contents(page.contents().stream().map(o -> o.toBuilder()
                            .lastModified(o.lastModified().plusMillis(891)).build()).toList()).build();
                }

                @Override
                public <T> T getObject(GetObjectRequest request, ResponseTransformer<GetObjectResponse, T> transformer) {
                    if (failing.get()) {
                        throw refusal(500, "InternalError", "We encountered an internal error. Please try again.");
                    }
                    return super.getObject(request, transformer);
                }
            };
            UnreadableObjects client = new UnreadableObjects(store, Duration.ZERO);
            client.listObjects(r -> r.bucket(bucket).prefix("inbox/"));
            GetObjectResponse fetched = response(client, bucket, "inbox/u5991.png");
            failing.set(true);
            for (int i = 1; i < UnreadableObjects.FAILED_FETCHES; i++) {
                client.listObjects(r -> r.bucket(bucket).prefix("inbox/"));
                assertThrows(S3Exception.class, () -> response(client, bucket, "inbox/u5991.png"));
            }
            client.listObjects(r -> r.bucket(bucket).prefix("inbox/"));
            GetObjectResponse standIn = response(client, bucket, "inbox/u5991.png");
            assertNotNull(client.takeReason(bucket, "inbox/u5991.png", fetched.eTag()), "a stand-in");

            // the listed size, by which an input on its way from this object is known
            assertEquals(image.length, standIn.contentLength());
            // the version as a fetch names it (its Last-Modified, whole seconds), of which the claim key is made
            assertEquals(fetched.eTag(), standIn.eTag());
            assertEquals(fetched.lastModified(), standIn.lastModified());
        }
    }

    private static GetObjectResponse response(S3Client client, String bucket, String key) {
        try (ResponseInputStream<GetObjectResponse> in = client.getObject(r -> r.bucket(bucket).key(key),
                ResponseTransformer.toInputStream())) {
            in.readAllBytes();
            return in.response();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] fetch(S3Client client, S3Object object) {
        try (ResponseInputStream<GetObjectResponse> in = client.getObject(r -> r.bucket("b").key(object.key()),
                ResponseTransformer.toInputStream())) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A store listing one object, whose fetches answer 500 while {@link #failing}. */
    private static final class Store implements S3Client {

        volatile S3Object listed;
        final AtomicBoolean failing = new AtomicBoolean();
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public ListObjectsResponse listObjects(ListObjectsRequest request) {
            return ListObjectsResponse.builder().contents(listed).build();
        }

        @Override
        public <T> T getObject(GetObjectRequest request, ResponseTransformer<GetObjectResponse, T> transformer) {
            calls.incrementAndGet();
            if (failing.get()) {
                throw refusal(500, "InternalError", "We encountered an internal error. Please try again.");
            }
            try {
                return transformer.transform(GetObjectResponse.builder().eTag(listed.eTag()).build(),
                        AbortableInputStream.create(new ByteArrayInputStream(new byte[] {1, 2, 3})));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public String serviceName() {
            return "s3";
        }

        @Override
        public void close() {
        }
    }
}

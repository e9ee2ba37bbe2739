package id.ktpbridge.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

import id.ktpbridge.ingest.InputHeaders;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.component.aws2.s3.AWS2S3Constants;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.spi.IdempotentRepository;
import org.apache.camel.support.processor.idempotent.MemoryIdempotentRepository;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.http.AbortableInputStream;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/** The parts of the S3 source that need no S3: message headers, include rule, idempotency key, body release. */
class S3SourcePartsTest {

    private final CamelContext camel = new DefaultCamelContext();
    private final IdempotentRepository taken = MemoryIdempotentRepository.memoryIdempotentRepository();

    {
        camel.getRegistry().bind(S3Source.REPOSITORY, taken);
    }
    private final S3Source source = new S3Source(camel, OfflineS3Client.create("test"),
            new S3PollGate(java.time.Duration.ofMinutes(1)), "inbox/", Pattern.compile("(?i).*\\.(jpe?g|png)"), false,
            null, "processed/", null, "failed/");

    @AfterEach
    void stop() throws Exception {
        camel.close();
    }

    private Exchange object(String key, String etag, Map<String, String> metadata, byte[] content, AtomicInteger aborts) {
        Exchange exchange = new DefaultExchange(camel);
        exchange.getMessage().setHeader(AWS2S3Constants.BUCKET_NAME, "ktp-in");
        exchange.getMessage().setHeader(AWS2S3Constants.KEY, key);
        exchange.getMessage().setHeader(AWS2S3Constants.E_TAG, etag);
        exchange.getMessage().setHeader(AWS2S3Constants.LAST_MODIFIED, "Thu, 26 Nov 2026 08:00:00 GMT");
        exchange.getMessage().setHeader(AWS2S3Constants.METADATA, metadata);
        exchange.getMessage().setBody(new ResponseInputStream<>(GetObjectResponse.builder().build(),
                AbortableInputStream.create(new ByteArrayInputStream(content), aborts::incrementAndGet)));
        return exchange;
    }

    @Test
    void anErrorAboutOneObjectIsLoggedWithoutTheNiksItsKeyMayHold() {
        RuntimeException e = new IllegalStateException("get failed", new java.io.IOException(
                "Cannot get object inbox/3201234567890001.jpg\nfrom the store"));
        assertEquals("Cannot get object inbox/#.jpg from the store", S3BucketCheck.objectError(e));
        assertEquals("IllegalStateException", S3BucketCheck.objectError(new IllegalStateException()));
    }

    @Test
    void describesTheObjectAsANeutralInput() {
        Exchange e = object("inbox/branch-1/scan 7.JPG", "\"abc\"",
                Map.of("Partner-User-Id", "cust-1", "partner-user-id-type", "CLIENT_X"), new byte[] {1}, new AtomicInteger());
        source.describe(e);
        assertEquals("scan 7.JPG", e.getMessage().getHeader(InputHeaders.SOURCE_FILE));
        assertEquals("cust-1", e.getMessage().getHeader(InputHeaders.PARTNER_USER_ID));
        assertEquals("CLIENT_X", e.getMessage().getHeader(InputHeaders.PARTNER_USER_ID_TYPE));
        assertTrue(source.included(e));
        // taken by a version that remembered objects without their modification time
        taken.add("s3://ktp-in/inbox/branch-1/scan 7.JPG#abc");
        assertFalse(source.included(e), "an object an earlier version took stays taken");
        assertEquals("s3://ktp-in/inbox/branch-1/scan 7.JPG#abc@Thu, 26 Nov 2026 08:00:00 GMT", source.inputKey(e));
        // the same bytes put back later: another version of the object, another key
        String first = source.inputKey(e);
        e.getMessage().setHeader(AWS2S3Constants.LAST_MODIFIED, "Thu, 26 Nov 2026 08:00:07 GMT");
        assertNotEquals(first, source.inputKey(e));
        assertEquals("branch-1/scan 7.JPG", source.relative("inbox/branch-1/scan 7.JPG"));
    }

    @Test
    void foldersAndOtherNamesAreNotIncludedAndNoMetadataMeansNoPartnerUser() {
        Exchange folder = object("inbox/a.jpg/", "\"x\"", Map.of(), new byte[0], new AtomicInteger());
        Exchange text = object("inbox/notes.txt", "\"x\"", Map.of("partner-user-id", " "), new byte[0], new AtomicInteger());
        source.describe(folder);
        source.describe(text);
        assertFalse(source.included(folder));
        assertFalse(source.included(text));
        assertFalse(text.getMessage().getHeaders().containsKey(InputHeaders.PARTNER_USER_ID));
    }

    @Test
    void theIncludeRuleIsReadWithoutRegardToCaseAndHiddenNamesAreNeverTaken() {
        // a custom rule without (?i), as a partner may write it
        S3Source custom = new S3Source(camel, OfflineS3Client.create("test"), new S3PollGate(java.time.Duration.ofMinutes(1)),
                "inbox/", Pattern.compile(".*\\.jpg"), false, null, "processed/", null, "failed/");
        Exchange upper = object("inbox/u1.JPG", "\"a\"", Map.of(), new byte[0], new AtomicInteger());
        Exchange appleDouble = object("inbox/._u2.jpg", "\"b\"", Map.of(), new byte[0], new AtomicInteger());
        custom.describe(upper);
        custom.describe(appleDouble);
        assertTrue(custom.included(upper));
        assertFalse(custom.included(appleDouble));
    }

    @Test
    void aVeryLongKeyIsHashedToFitTheRepository() {
        Exchange e = object("inbox/" + "k".repeat(1100) + ".png", "\"e\"", Map.of(), new byte[0], new AtomicInteger());
        String key = source.inputKey(e);
        assertTrue(key.matches("sha256:[0-9a-f]{64}"), key);
        assertEquals(key, source.inputKey(e));
    }

    @Test
    void aBodyReadToTheEndIsReleasedOthersAreAborted() throws Exception {
        AtomicInteger aborts = new AtomicInteger();
        Exchange read = object("inbox/a.png", "\"a\"", Map.of(), new byte[] {1, 2, 3}, aborts);
        source.describe(read);
        try (var in = read.getMessage().getBody(java.io.InputStream.class)) {
            assertArrayEquals(new byte[] {1, 2, 3}, in.readAllBytes());
        }
        assertEquals(0, aborts.get(), "a fully read object keeps its connection");

        Exchange partly = object("inbox/b.png", "\"b\"", Map.of(), new byte[100], aborts);
        source.describe(partly);
        var in = partly.getMessage().getBody(java.io.InputStream.class);
        assertEquals(0, in.read());
        in.close();
        in.close();
        assertEquals(1, aborts.get(), "a partly read object is aborted, once");

        Exchange skipped = object("inbox/notes.txt", "\"c\"", Map.of(), new byte[100], aborts);
        source.describe(skipped);
        skipped.getExchangeExtension().handoverCompletions().forEach(s -> s.onComplete(skipped));
        assertEquals(2, aborts.get(), "a skipped object is aborted when its exchange is done");
    }
    @Test
    void credentialsThatStoppedWorkingAndTimeoutsAreNoRefusalOfTheObject() {
        assertTrue(S3Source.refused(s3Error(403, "AccessDenied")), "a policy that forbids the target repeats");
        assertTrue(S3Source.refused(s3Error(404, "NoSuchBucket")));
        assertTrue(S3Source.refused(s3Error(400, "InvalidArgument")));
        for (String passing : new String[] {"ExpiredToken", "TokenRefreshRequired", "InvalidAccessKeyId",
                "SignatureDoesNotMatch", "RequestTimeTooSkewed"}) {
            assertFalse(S3Source.refused(s3Error(403, passing)), passing);
        }
        assertFalse(S3Source.refused(s3Error(400, "RequestTimeout")));
        assertFalse(S3Source.refused(s3Error(400, "ExpiredToken")));
        assertFalse(S3Source.refused(s3Error(429, "SlowDown")));
        assertFalse(S3Source.refused(s3Error(503, "SlowDown")));
    }

    private static software.amazon.awssdk.services.s3.model.S3Exception s3Error(int status, String code) {
        return (software.amazon.awssdk.services.s3.model.S3Exception) software.amazon.awssdk.services.s3.model
                .S3Exception.builder().statusCode(status)
                .awsErrorDetails(software.amazon.awssdk.awscore.exception.AwsErrorDetails.builder().errorCode(code)
                        .build())
                .build();
    }
}

package id.ktpbridge.s3;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.FaultyObjects;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.ManualClock;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.S3ProxyServer;
import id.ktpbridge.testkit.SampleImages;
import org.apache.camel.model.ModelCamelContext;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;
import software.amazon.awssdk.services.s3.model.StorageClass;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The S3 source against a real S3 API (S3Proxy, signatures checked), through the whole application. */
class S3SourceTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String KMS_KEY = "arn:aws:kms:ap-southeast-3:111122223333:key/0b1c2d3e-ktp-test";

    private static S3ProxyServer s3;

    @TempDir
    Path dataDir;

    @BeforeAll
    static void startS3(@TempDir Path s3Dir) {
        s3 = S3ProxyServer.startTransient(s3Dir);
    }

    @AfterAll
    static void stopS3() {
        if (s3 != null) {
            s3.close();
        }
    }

    private static Map<String, String> sourceOn(String bucket) {
        Map<String, String> p = s3.sourceProperties(bucket);
        p.put("ktp.source.s3.poll-delay", "200");
        return p;
    }

    @Test
    void imagesAreSubmittedAndMovedBadOnesQuarantinedOthersLeftAlone() throws Exception {
        String bucket = s3.newBucket("ktp-inbox");
        byte[] u1 = SampleImages.card("u5001", "png");
        byte[] u2 = SampleImages.card("u5002", "jpg");
        byte[] u3 = SampleImages.card("u5003", "jpg");
        byte[] scan = SampleImages.card("scan", "png");
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, sourceOn(bucket))) {
            s3.put(bucket, "inbox/u5001.png", u1);
            s3.put(bucket, "inbox/u5002.jpg", u2);
            s3.put(bucket, "inbox/branch-7/u5003.jpeg", u3);
            s3.put(bucket, "inbox/scan-0001.PNG", scan,
                    Map.of("partner-user-id", "cust-5004", "partner-user-id-type", "CLIENT_X_USER_ID"));
            s3.put(bucket, "inbox/u5005-text.jpg", "this is not a picture\n".getBytes(StandardCharsets.UTF_8));
            s3.put(bucket, "inbox/notes.txt", "not an image name".getBytes(StandardCharsets.UTF_8));
            // the file drop source keeps running next to the S3 source
            Results.drop(app.inbox(), "u5006.png", SampleImages.card("u5006", "png"));

            await().atMost(WAIT).until(() -> Results.count(app.results()) == 6);
            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            for (String name : List.of("u5001.png", "u5002.jpg", "u5003.jpeg", "scan-0001.PNG")) {
                assertEquals("s3", results.get(name).path("sourceType").asText(), name);
                assertEquals("COMPLETED", results.get(name).path("status").asText(), name);
            }
            assertEquals("u5001", results.get("u5001.png").path("partnerUserId").asText());
            assertEquals("u5003", results.get("u5003.jpeg").path("partnerUserId").asText());
            // the file name alone does not say which prefix it came from: the reference does
            assertEquals("s3://" + bucket + "/inbox/branch-7/u5003.jpeg", results.get("u5003.jpeg").path("sourceRef").asText());
            // the object's user metadata names the partner user and wins over the name
            assertEquals("cust-5004", results.get("scan-0001.PNG").path("partnerUserId").asText());
            assertEquals("CLIENT_X_USER_ID", results.get("scan-0001.PNG").path("partnerUserIdType").asText());
            JsonNode rejected = results.get("u5005-text.jpg");
            assertEquals("s3", rejected.path("sourceType").asText());
            assertEquals("REJECTED", rejected.path("status").asText());
            assertEquals("UNSUPPORTED_FORMAT", rejected.path("reasonCode").asText());
            assertEquals("file", results.get("u5006.png").path("sourceType").asText());
            assertEquals(5, app.sandbox().submissionCount(), "four S3 images and one file, nothing for the rejected");

            // submitted objects moved to the processed prefix (sub-folders kept), the bad one to the
            // failed prefix with its report, the non-image left alone
            await().atMost(WAIT).until(() -> s3.keys(bucket, "inbox/").equals(List.of("inbox/notes.txt")));
            assertEquals(List.of("processed/branch-7/u5003.jpeg", "processed/scan-0001.PNG", "processed/u5001.png",
                    "processed/u5002.jpg"), s3.keys(bucket, "processed/"));
            assertArrayEquals(u3, s3.get(bucket, "processed/branch-7/u5003.jpeg").orElseThrow());
            assertEquals(List.of("failed/u5005-text.jpg", "failed/u5005-text.jpg.error.json"), s3.keys(bucket, "failed/"));
            JsonNode report = new ObjectMapper().readTree(s3.get(bucket, "failed/u5005-text.jpg.error.json").orElseThrow());
            assertEquals("UNSUPPORTED_FORMAT", report.path("reasonCode").asText());
            assertEquals("u5005-text.jpg", report.path("sourceFile").asText());
            assertEquals(rejected.path("ledgerId").asText(), report.path("ledgerId").asText());
            assertEquals("application/json",
                    s3.client().headObject(r -> r.bucket(bucket).key("failed/u5005-text.jpg.error.json")).contentType());

            // put back (say, after a fix elsewhere), a quarantined object is a new version (a later
            // modification time): it is taken again
            s3.put(bucket, "inbox/u5005-text.jpg", "this is not a picture\n".getBytes(StandardCharsets.UTF_8));
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 7);
            assertEquals(2, Results.read(app.results()).stream()
                    .filter(r -> r.path("sourceFile").asText().equals("u5005-text.jpg")).count());

            assertFalse(logs.text().contains(S3ProxyServer.SECRET_KEY), "the secret key is in the log");
            assertFalse(logs.text().contains("scan-0001"), "an object key is in the log");
        }
    }

    @Test
    void anObjectOverTheSizeLimitIsRejectedAndNeverCopiedIntoMemory() throws Exception {
        String bucket = s3.newBucket("ktp-big");
        Map<String, String> props = sourceOn(bucket);
        props.put("ktp.source.max-size", String.valueOf(1 << 20));
        byte[] big = new byte[8 << 20];
        big[0] = (byte) 0xFF;
        big[1] = (byte) 0xD8;
        big[2] = (byte) 0xFF;
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            // Camel's stream caching would read a whole object into the heap before Intake's size
            // check (a 300 MB object ran a 192 MB heap out of memory): both routes it passes go without
            ModelCamelContext model = (ModelCamelContext) app.context();
            assertEquals("false", model.getRouteDefinition("ingest-s3").getStreamCache());
            assertEquals("false", model.getRouteDefinition("submit-ktp").getStreamCache());

            s3.put(bucket, "inbox/u5801.jpg", big);
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("REJECTED", result.path("status").asText());
            assertEquals("FILE_TOO_LARGE", result.path("reasonCode").asText());
            // the size the object's listing states, not how far the reading got: the same on every read, so
            // an object taken again (its quarantine cut off) is found ended, not taken for a new input
            assertEquals(big.length, result.path("sourceSize").asLong());
            await().atMost(WAIT).until(() -> s3.keys(bucket, "failed/").size() == 2);
            assertArrayEquals(big, s3.get(bucket, "failed/u5801.jpg").orElseThrow(), "quarantined whole");
        }
    }

    @Test
    void anArchivedObjectGetsARejectedResultAndTheOthersOfItsListingGoThrough() throws Exception {
        String bucket = s3.newBucket("ktp-archived");
        // AWS refuses to read or copy such an object until it is restored (testkit ArchivedObjects)
        s3.client().putObject(r -> r.bucket(bucket).key("inbox/u5701.png").storageClass(StorageClass.GLACIER),
                RequestBody.fromBytes(SampleImages.card("u5701", "png")));
        s3.put(bucket, "inbox/u5702.png", SampleImages.card("u5702", "png"));
        s3.put(bucket, "inbox/u5703.png", SampleImages.card("u5703", "png"));
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, sourceOn(bucket))) {
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 3);
            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            JsonNode archived = results.get("u5701.png");
            assertEquals("REJECTED", archived.path("status").asText());
            assertEquals("UNREADABLE_SOURCE", archived.path("reasonCode").asText());
            assertTrue(archived.path("errorMessage").asText().contains("archived (storage class GLACIER)"),
                    archived.toString());
            assertEquals("COMPLETED", results.get("u5702.png").path("status").asText());
            assertEquals("COMPLETED", results.get("u5703.png").path("status").asText());
            assertEquals(2, app.sandbox().submissionCount());
            // its copy to the failed prefix is refused as well: it stays, and later listings (every
            // 200 ms here) leave it alone
            await().during(Duration.ofSeconds(2)).atMost(WAIT).until(() -> Results.count(app.results()) == 3);
            assertEquals(List.of("inbox/u5701.png"), s3.keys(bucket, "inbox/"));
            assertEquals(1, logs.count("could not be moved to the failed prefix"), logs.text());
            assertFalse(logs.text().contains("u5701"), "the key (it may hold a NIK) is in the log");
        }
    }

    @Test
    void aReadThatBreaksOffIsTakenAgainNotRejected() throws Exception {
        String bucket = s3.newBucket("ktp-broken-read");
        // the first read of this object stops after 1,000 bytes (testkit FaultyObjects)
        s3.put(bucket, "inbox/u5811-breaks-off.png", SampleImages.card("u5811", "png"));
        s3.put(bucket, "inbox/u5812.png", SampleImages.card("u5812", "png"));
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, sourceOn(bucket))) {
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 2);
            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            assertEquals("COMPLETED", results.get("u5811-breaks-off.png").path("status").asText(),
                    results.get("u5811-breaks-off.png").toString());
            assertEquals("COMPLETED", results.get("u5812.png").path("status").asText());
            assertEquals(2, app.sandbox().submissionCount());
            assertEquals(2, app.ledger().createdSince(0).size(), "the broken-off read left no row of its own");
            assertTrue(logs.text().contains("reading it from its source broke off"), logs.text());
            await().atMost(WAIT).until(() -> s3.keys(bucket, "inbox/").isEmpty());
            assertEquals(List.of(), s3.keys(bucket, "failed/"));
        }
    }

    @Test
    void aReadThatBreaksOffMoreThanFiveTimesWithinSecondsIsStillTakenAgain() throws Exception {
        String bucket = s3.newBucket("ktp-often-broken");
        // its first 7 reads stop after 1,000 bytes (testkit FaultyObjects), one listing after the other
        // (every 200 ms here): connection resets for a few seconds, not an object that cannot be read
        s3.put(bucket, "inbox/u5814-breaks-off-often.png", SampleImages.card("u5814", "png"));
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, sourceOn(bucket))) {
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            // more broken reads in a row than the 5 after which it used to be rejected
            assertTrue(logs.count("reading it from its source broke off") >= FaultyObjects.OFTEN_BROKEN_READS,
                    logs.text());
            assertEquals(1, app.sandbox().submissionCount());
            await().atMost(WAIT).until(() -> s3.keys(bucket, "inbox/").isEmpty());
        }
    }

    @Test
    void anObjectWhoseReadBreaksOffEveryTimeIsRejectedAfterItsTries() throws Exception {
        String bucket = s3.newBucket("ktp-always-broken");
        // every read of this object stops after 1,000 bytes (testkit FaultyObjects)
        s3.put(bucket, "inbox/u5813-always-breaks-off.png", SampleImages.card("u5813", "png"));
        Map<String, String> props = sourceOn(bucket);
        props.put("ktp.source.s3.broken-read-window", "3s");
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 1);
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("REJECTED", result.path("status").asText(), result.toString());
            assertEquals("UNREADABLE_SOURCE", result.path("reasonCode").asText());
            assertTrue(result.path("errorMessage").asText().contains("at least 5 times in a row, over at least 3 s"),
                    result.toString());
            assertEquals(0, app.sandbox().submissionCount());
            await().atMost(WAIT).until(() -> s3.keys(bucket, "failed/").size() == 2);
        }
    }

    @Test
    void objectsThatCannotBeFetchedStayInPlaceAndTheRestOfTheirListingGoesOn() throws Exception {
        String bucket = s3.newBucket("ktp-unfetchable");
        // every read of these is refused (403) or finds nothing (404) (testkit FaultyObjects)
        s3.put(bucket, "inbox/u5821-refused.png", SampleImages.card("u5821", "png"));
        s3.put(bucket, "inbox/u5822-gone.png", SampleImages.card("u5822", "png"));
        s3.put(bucket, "inbox/u5823.png", SampleImages.card("u5823", "png"));
        s3.put(bucket, "inbox/u5824.png", SampleImages.card("u5824", "png"));
        Map<String, String> props = sourceOn(bucket);
        // one listing holds all four: Camel fetches every object of it before routing any
        props.put("ktp.source.s3.batch-size", "10");
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, props)) {
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 2);
            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            assertEquals("COMPLETED", results.get("u5823.png").path("status").asText());
            assertEquals("COMPLETED", results.get("u5824.png").path("status").asText());
            await().atMost(WAIT).until(() -> s3.keys(bucket, "inbox/").size() == 2);
            // later listings (every 200 ms) try them again, and still leave them without a result
            await().during(Duration.ofSeconds(2)).atMost(WAIT).until(() -> Results.count(app.results()) == 2);
            assertEquals(List.of("inbox/u5821-refused.png", "inbox/u5822-gone.png"), s3.keys(bucket, "inbox/"));
            assertEquals(2, app.sandbox().submissionCount());
            assertEquals(2, app.ledger().createdSince(0).size());
            assertEquals(1, logs.count("could not be read (HTTP 403 AccessDenied)"), logs.text());
            assertFalse(logs.text().contains("u5821"), "the key (it may hold a NIK) is in the log");
            // Camel's own answer to a failed fetch would drop the listing: a failed poll
            assertFalse(logs.text().contains("listing the bucket failed"), logs.text());
        }
    }

    @Test
    void anObjectUnderADisabledKmsKeyIsRejectedAfterItsTriesAndTheRestOfItsListingGoesOn() throws Exception {
        String bucket = s3.newBucket("ktp-kms-disabled");
        // every read and copy of this one is refused 400 KMS.DisabledException (testkit FaultyObjects)
        s3.put(bucket, "inbox/u5871-kms-disabled.png", SampleImages.card("u5871", "png"));
        s3.put(bucket, "inbox/u5872.png", SampleImages.card("u5872", "png"));
        s3.put(bucket, "inbox/u5873.png", SampleImages.card("u5873", "png"));
        Map<String, String> props = sourceOn(bucket);
        // one listing holds all three: Camel fetches every object of it before routing any
        props.put("ktp.source.s3.batch-size", "10");
        props.put("ktp.source.s3.broken-read-window", "3s");
        props.put("ktp.source.s3.backoff-multiplier", "2");
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, props)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 3);
            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            JsonNode refused = results.get("u5871-kms-disabled.png");
            assertEquals("REJECTED", refused.path("status").asText(), refused.toString());
            assertEquals("UNREADABLE_SOURCE", refused.path("reasonCode").asText());
            assertTrue(refused.path("errorMessage").asText().contains("at least 5 times in a row, over at least 3 s"
                    + " (the last time: HTTP 400 KMS.DisabledException)"), refused.toString());
            assertEquals("COMPLETED", results.get("u5872.png").path("status").asText());
            assertEquals("COMPLETED", results.get("u5873.png").path("status").asText());
            assertEquals(2, app.sandbox().submissionCount());
            // its move to the failed prefix is refused for the same reason: it stays, and later listings
            // (every 200 ms) go on without fetching it again, so they no longer fail
            await().atMost(WAIT).until(() -> s3.keys(bucket, "inbox/").equals(List.of("inbox/u5871-kms-disabled.png")));
            int refusals = FaultyObjects.kmsRefusals();
            s3.put(bucket, "inbox/u5874.png", SampleImages.card("u5874", "png"));
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 4);
            await().during(Duration.ofSeconds(2)).atMost(WAIT).until(() -> Results.count(app.results()) == 4);
            assertEquals(refusals, FaultyObjects.kmsRefusals(), "fetched again once it was rejected");
            assertFalse(logs.text().contains("u5871"), "the key (it may hold a NIK) is in the log");
        }
    }

    @Test
    void anObjectWhoseFetchFailsEveryTimeIsRejectedAfterItsTriesAndKeepsItsMetadataAndKmsKeyInTheFailedPrefix()
            throws Exception {
        String bucket = s3.newBucket("ktp-always-unavailable");
        // every read of this one answers 500 (testkit FaultyObjects); it is put under a KMS key, with
        // user metadata that names its partner user
        s3.client().putObject(r -> r.bucket(bucket).key("inbox/u5875-always-unavailable.png")
                        .serverSideEncryption(ServerSideEncryption.AWS_KMS).ssekmsKeyId(KMS_KEY)
                        .contentType("image/png").metadata(Map.of("partner-user-id", "cust-5875")),
                RequestBody.fromBytes(SampleImages.card("u5875", "png")));
        s3.put(bucket, "inbox/u5876.png", SampleImages.card("u5876", "png"));
        Map<String, String> props = sourceOn(bucket);
        props.put("ktp.source.s3.batch-size", "10");
        props.put("ktp.source.s3.broken-read-window", "3s");
        props.put("ktp.source.s3.backoff-multiplier", "2");
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 2);
            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            JsonNode unreadable = results.get("u5875-always-unavailable.png");
            assertEquals("REJECTED", unreadable.path("status").asText(), unreadable.toString());
            assertEquals("UNREADABLE_SOURCE", unreadable.path("reasonCode").asText());
            assertTrue(unreadable.path("errorMessage").asText().contains("(the last time: HTTP 500 InternalError)"),
                    unreadable.toString());
            // never fetched, its metadata is asked of the object: it names the partner user, not the name rules
            assertEquals("cust-5875", unreadable.path("partnerUserId").asText(), unreadable.toString());
            assertEquals("COMPLETED", results.get("u5876.png").path("status").asText());
            await().atMost(WAIT).until(() -> s3.keys(bucket, "inbox/").isEmpty());
            // and its copy keeps them, with its content type and KMS key
            HeadObjectResponse failed = s3.client().headObject(r -> r.bucket(bucket)
                    .key("failed/u5875-always-unavailable.png"));
            assertEquals(ServerSideEncryption.AWS_KMS, failed.serverSideEncryption());
            assertEquals(KMS_KEY, failed.ssekmsKeyId());
            assertEquals("cust-5875", failed.metadata().get("partner-user-id"), failed.metadata().toString());
            assertEquals("image/png", failed.contentType());
        }
    }

    @Test
    void objectsUnderAKmsKeyAreMovedAndQuarantinedUnderTheirOwnKey() throws Exception {
        String bucket = s3.newBucket("ktp-kms");
        s3.client().putObject(r -> r.bucket(bucket).key("inbox/u5877.png").serverSideEncryption(ServerSideEncryption.AWS_KMS)
                .ssekmsKeyId(KMS_KEY).bucketKeyEnabled(true), RequestBody.fromBytes(SampleImages.card("u5877", "png")));
        s3.client().putObject(r -> r.bucket(bucket).key("inbox/u5878.png").serverSideEncryption(ServerSideEncryption.AWS_KMS)
                .ssekmsKeyId(KMS_KEY), RequestBody.fromString("not an image"));
        s3.put(bucket, "inbox/u5879.png", SampleImages.card("u5879", "png"));
        try (BridgeApp app = BridgeApp.start(dataDir, sourceOn(bucket))) {
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 3 && s3.keys(bucket, "inbox/").isEmpty());
            HeadObjectResponse processed = s3.client().headObject(r -> r.bucket(bucket).key("processed/u5877.png"));
            assertEquals(ServerSideEncryption.AWS_KMS, processed.serverSideEncryption());
            assertEquals(KMS_KEY, processed.ssekmsKeyId());
            assertEquals(Boolean.TRUE, processed.bucketKeyEnabled());
            HeadObjectResponse failed = s3.client().headObject(r -> r.bucket(bucket).key("failed/u5878.png"));
            assertEquals(ServerSideEncryption.AWS_KMS, failed.serverSideEncryption());
            assertEquals(KMS_KEY, failed.ssekmsKeyId());
            // one under the bucket's own default stays so
            HeadObjectResponse plain = s3.client().headObject(r -> r.bucket(bucket).key("processed/u5879.png"));
            assertEquals(null, plain.ssekmsKeyId());
        }
    }

    @Test
    void objectsWhoseKmsKeyTheTargetRefusesAreMovedAndQuarantinedUnderItsDefaultEncryption() throws Exception {
        String bucket = s3.newBucket("ktp-kms-denied");
        // a copy of these that names their KMS key is refused 403 AccessDenied, one without is made
        // (testkit FaultyObjects): a target in another account, a key policy that leaves the role out
        s3.client().putObject(r -> r.bucket(bucket).key("inbox/u5881-kms-denied.png")
                        .serverSideEncryption(ServerSideEncryption.AWS_KMS).ssekmsKeyId(KMS_KEY),
                RequestBody.fromBytes(SampleImages.card("u5881", "png")));
        s3.client().putObject(r -> r.bucket(bucket).key("inbox/u5882-kms-denied.png")
                .serverSideEncryption(ServerSideEncryption.AWS_KMS).ssekmsKeyId(KMS_KEY), RequestBody.fromString("not an image"));
        int denied = FaultyObjects.kmsDeniedCopies();
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, sourceOn(bucket))) {
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 2 && s3.keys(bucket, "inbox/").isEmpty());
            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            assertEquals("COMPLETED", results.get("u5881-kms-denied.png").path("status").asText());
            assertEquals("REJECTED", results.get("u5882-kms-denied.png").path("status").asText());
            assertEquals(List.of("processed/u5881-kms-denied.png"), s3.keys(bucket, "processed/"));
            assertEquals(List.of("failed/u5882-kms-denied.png", "failed/u5882-kms-denied.png.error.json"),
                    s3.keys(bucket, "failed/"));
            assertEquals(null, s3.client().headObject(r -> r.bucket(bucket).key("processed/u5881-kms-denied.png"))
                    .ssekmsKeyId());
            assertEquals(null, s3.client().headObject(r -> r.bucket(bucket).key("failed/u5882-kms-denied.png"))
                    .ssekmsKeyId());
            assertEquals(denied + 2, FaultyObjects.kmsDeniedCopies(), "each copy tried under its key first");
            await().during(Duration.ofSeconds(1)).atMost(WAIT).until(() -> Results.count(app.results()) == 2);
            // one line for the bucket, however many copies
            assertEquals(1, logs.count("a KMS key was refused for copies to bucket " + bucket + " (HTTP 403 AccessDenied);"
                    + " copies there go under the bucket's default encryption"), logs.text());
            assertFalse(logs.text().contains("not taken again"), logs.text());
            assertFalse(logs.text().contains("u588"), "an object key is in the log");
            assertFalse(logs.text().contains(KMS_KEY), "the key's ARN is in the log");
        }
    }

    @Test
    void anObjectWhoseFetchFailsForAWhileIsTakenOnceTheStoreAnswersAgain() throws Exception {
        String bucket = s3.newBucket("ktp-fetch-fails");
        // the first reads of this one answer 500, more than the client's own retries (testkit FaultyObjects)
        s3.put(bucket, "inbox/u5831-unavailable.png", SampleImages.card("u5831", "png"));
        s3.put(bucket, "inbox/u5832.png", SampleImages.card("u5832", "png"));
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, sourceOn(bucket))) {
            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 2);
            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            assertEquals("COMPLETED", results.get("u5831-unavailable.png").path("status").asText(),
                    results.get("u5831-unavailable.png").toString());
            assertEquals("COMPLETED", results.get("u5832.png").path("status").asText());
            assertEquals(2, app.sandbox().submissionCount());
            await().atMost(WAIT).until(() -> s3.keys(bucket, "inbox/").isEmpty());
            assertTrue(logs.text().contains("listing the bucket failed"), logs.text());
            assertFalse(logs.text().contains("at software.amazon.awssdk"), "a stack trace was logged");
        }
    }

    @Test
    void aSubmittedObjectWhoseMoveFailsForAWhileIsMovedLaterWithoutASecondSubmission() throws Exception {
        String bucket = s3.newBucket("ktp-move-fails");
        // its first copies to the processed prefix find no store (testkit FaultyObjects)
        s3.put(bucket, "inbox/u5841-move-fails.png", SampleImages.card("u5841", "png"));
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, sourceOn(bucket))) {
            await().atMost(Duration.ofSeconds(60)).until(() -> s3.keys(bucket, "inbox/").isEmpty());
            assertEquals(List.of("processed/u5841-move-fails.png"), s3.keys(bucket, "processed/"));
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 1);
            assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
            assertEquals(1, app.sandbox().submissionCount(), "taken again, but submitted once");
            assertEquals(1, app.ledger().createdSince(0).size());
            assertTrue(logs.text().contains("could not be moved to the processed prefix yet"), logs.text());
            await().during(Duration.ofSeconds(1)).atMost(WAIT).until(() -> Results.count(app.results()) == 1);
        }
    }

    @Test
    void aSubmittedObjectWhoseMoveFailedAndThenItsReadsIsOnlyMovedWithoutASecondResult() throws Exception {
        String bucket = s3.newBucket("ktp-moved-unread");
        byte[] image = SampleImages.card("u5891", "png");
        Map<String, String> props = sourceOn(bucket);
        props.put("ktp.source.s3.broken-read-window", "3s");
        props.put("ktp.source.s3.backoff-multiplier", "2");
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, props)) {
            // its moves fail for a passing reason (testkit FaultyObjects): later listings take it again
            FaultyObjects.copiesFail(bucket, true);
            s3.put(bucket, "inbox/u5891.png", image);
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 1
                    && logs.text().contains("could not be moved to the processed prefix yet"));
            assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
            // then its reads fail, until it is taken for one that cannot be read; once a listing met
            // that, no exchange that read it is left to move it, and moves work again
            FaultyObjects.readsFail(bucket, true);
            int failedReads = FaultyObjects.readsFailed();
            await().atMost(WAIT).until(() -> FaultyObjects.readsFailed() > failedReads);
            FaultyObjects.copiesFail(bucket, false);

            // the submission it was is found in the ledger: the object is only moved
            await().atMost(Duration.ofSeconds(60)).until(() -> s3.keys(bucket, "inbox/").isEmpty());
            assertTrue(logs.text().contains("could not be fetched 5 times in a row"), logs.text());
            assertEquals(List.of("processed/u5891.png"), s3.keys(bucket, "processed/"));
            assertEquals(List.of(), s3.keys(bucket, "failed/"));
            await().during(Duration.ofSeconds(1)).atMost(WAIT).until(() -> Results.count(app.results()) == 1);
            assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
            assertEquals(1, app.ledger().createdSince(0).size(), "no row of its own");
            assertEquals(1, app.sandbox().submissionCount());
        } finally {
            FaultyObjects.readsFail(bucket, false);
            FaultyObjects.copiesFail(bucket, false);
        }
    }

    @Test
    void anObjectWhoseMoveFailsAtEveryListingIsLeftInPlaceAfterABoundedNumberOfTriesAndTime() throws Exception {
        String bucket = s3.newBucket("ktp-move-always-fails");
        ManualClock clock = new ManualClock(System.currentTimeMillis());
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, sourceOn(bucket))) {
            app.bean("s3Source", S3Source.class).moveClock(clock);
            // every copy of it answers 500 (testkit FaultyObjects): a store failing this one object's copies
            s3.put(bucket, "inbox/u5843-move-always-fails.png", SampleImages.card("u5843", "png"));
            // more failed moves than the count alone allows, all within seconds (a listing every 200 ms):
            // a write outage of some seconds does not leave the object in place for good
            await().atMost(Duration.ofSeconds(90)).until(() -> logs.count(
                    "could not be moved to the processed prefix yet") > S3Source.MAX_PASSING_MOVE_FAILURES + 1);
            assertFalse(logs.text().contains("It stays in place"), logs.text());
            clock.advance(S3Source.MOVE_RETRY_WINDOW);
            await().atMost(Duration.ofSeconds(30)).until(() -> logs.text().contains(
                    "could not be moved to the processed prefix: ") && logs.text().contains("It stays in place"));
            int failed = FaultyObjects.copiesFailed();
            // the object is no longer taken, read and copied again at every listing
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5))
                    .until(() -> FaultyObjects.copiesFailed() == failed);
            assertEquals(List.of("inbox/u5843-move-always-fails.png"), s3.keys(bucket, "inbox/"));
            assertEquals(1, app.sandbox().submissionCount(), "taken again, but submitted once");
            assertEquals(1, Results.count(app.results()));
        }
    }

    @Test
    void anObjectDeletedBeforeItsMoveIsLetGoAndTheSameBytesPutBackGetAResultOfTheirOwn() throws Exception {
        String bucket = s3.newBucket("ktp-deleted");
        byte[] image = SampleImages.card("u5881", "png");
        Map<String, String> props = sourceOn(bucket);
        // slow OneKYC calls leave time to delete the object before it is moved
        props.put("gtf.sandbox.faults.latency", "700");
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, props)) {
            s3.put(bucket, "inbox/u5881.png", image);
            await().atMost(WAIT).until(() -> app.ledger().createdSince(0).size() == 1);
            // the partner (or a lifecycle rule) deletes it while it is submitted
            s3.client().deleteObject(r -> r.bucket(bucket).key("inbox/u5881.png"));
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 1);
            await().atMost(WAIT).until(() -> logs.text().contains("was deleted from the bucket after it was taken"));
            assertFalse(logs.text().contains("It stays in place"), logs.text());

            // the same bytes put back later are a new drop with a result of their own
            s3.put(bucket, "inbox/u5881.png", image);
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 2);
            assertEquals(1, Results.read(app.results()).stream()
                    .filter(r -> "DUPLICATE_CONTENT".equals(r.path("reasonCode").asText())).count());
            await().atMost(WAIT).until(() -> s3.keys(bucket, "inbox/").isEmpty());
            assertEquals(List.of("failed/u5881.png", "failed/u5881.png.error.json"), s3.keys(bucket, "failed/"));
            assertEquals(1, app.sandbox().submissionCount());
        }
    }

    @Test
    void aKeyWithAControlCharacterDoesNotHoldUpTheListing() throws Exception {
        String bucket = s3.newBucket("ktp-control-char");
        // what a scanner writing names in the wrong character set can leave: not valid in an XML listing
        s3.put(bucket, "inbox/u5851\u0001.png", SampleImages.card("u5851", "png"));
        s3.put(bucket, "inbox/u5852.png", SampleImages.card("u5852", "png"));
        try (BridgeApp app = BridgeApp.start(dataDir, sourceOn(bucket))) {
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 2);
            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            assertEquals("COMPLETED", results.get("u5852.png").path("status").asText());
            // its name makes no partner user id: rejected, with a result, and out of the inbox
            assertEquals("REJECTED", results.get("u5851\u0001.png").path("status").asText(), results.toString());
            await().atMost(WAIT).until(() -> s3.keys(bucket, "inbox/").isEmpty());
            assertTrue(s3.keys(bucket, "failed/").contains("failed/u5851\u0001.png"), s3.keys(bucket, "failed/").toString());
        }
    }

    @Test
    void aNameUsedAgainGoesInBesideTheEarlierObjectNotOverIt() throws Exception {
        String bucket = s3.newBucket("ktp-name-reused");
        byte[] first = SampleImages.card("u5861", "png");
        byte[] second = SampleImages.card("u5861-rescanned", "png");
        try (BridgeApp app = BridgeApp.start(dataDir, sourceOn(bucket))) {
            s3.put(bucket, "inbox/u5861.png", first);
            s3.put(bucket, "inbox/u5862.png", "not an image, first".getBytes(StandardCharsets.UTF_8));
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 2 && s3.keys(bucket, "inbox/").isEmpty());
            // the scanner uses the names again, for other bytes
            s3.put(bucket, "inbox/u5861.png", second);
            s3.put(bucket, "inbox/u5862.png", "not an image, second".getBytes(StandardCharsets.UTF_8));
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 4 && s3.keys(bucket, "inbox/").isEmpty());

            assertArrayEquals(first, s3.get(bucket, "processed/u5861.png").orElseThrow(), "the earlier one is kept");
            List<String> processed = s3.keys(bucket, "processed/");
            assertEquals(2, processed.size(), processed.toString());
            String aside = processed.stream().filter(k -> !k.equals("processed/u5861.png")).findFirst().orElseThrow();
            assertArrayEquals(second, s3.get(bucket, aside).orElseThrow());
            String ledgerId = aside.substring("processed/".length(), aside.length() - "-u5861.png".length());
            assertTrue(app.ledger().findById(ledgerId).isPresent(), "named by its ledger id: " + aside);

            List<String> failed = s3.keys(bucket, "failed/");
            assertEquals(4, failed.size(), failed.toString());
            assertEquals("not an image, first", new String(s3.get(bucket, "failed/u5862.png").orElseThrow(),
                    StandardCharsets.UTF_8));
            assertTrue(failed.contains("failed/u5862.png.error.json"), failed.toString());
            assertEquals(2, failed.stream().filter(k -> k.matches("failed/[0-9a-f-]{36}-u5862\\.png(\\.error\\.json)?"))
                    .count(), failed.toString());

            // the same bytes once more: another input, whose copy is not the earlier one's for having its bytes
            s3.put(bucket, "inbox/u5862.png", "not an image, first".getBytes(StandardCharsets.UTF_8));
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 5 && s3.keys(bucket, "inbox/").isEmpty());
            List<String> reports = s3.keys(bucket, "failed/").stream().filter(k -> k.endsWith(".error.json")).toList();
            assertEquals(3, reports.size(), "no report replaced: " + reports);
        }
    }

    @Test
    void anObjectReplacedWhileItIsSubmittedIsNotMovedAwayUnseen() throws Exception {
        String bucket = s3.newBucket("ktp-replaced");
        byte[] first = SampleImages.card("u5901", "png");
        byte[] second = SampleImages.card("u5901-corrected", "png");
        Map<String, String> props = sourceOn(bucket);
        // slow OneKYC calls leave time to put the new version before the first one is moved
        props.put("gtf.sandbox.faults.latency", "700");
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            s3.put(bucket, "inbox/u5901.png", first);
            await().atMost(WAIT).until(() -> app.ledger().createdSince(0).size() == 1);
            s3.put(bucket, "inbox/u5901.png", second);

            await().atMost(WAIT).until(() -> Results.count(app.results()) == 2);
            assertEquals(2, app.sandbox().submissionCount(), "each version submitted once");
            assertEquals(2, Results.read(app.results()).stream().map(r -> r.path("sourceSha256").asText())
                    .distinct().count());
            await().atMost(WAIT).until(() -> s3.keys(bucket, "inbox/").isEmpty());
            assertArrayEquals(second, s3.get(bucket, "processed/u5901.png").orElseThrow(), "the last version is kept");

            // the first bytes put back later are a new drop with a result of its own (the same content
            // as an earlier submission), not the first input met again and moved away without one
            s3.put(bucket, "inbox/u5901.png", first);
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 3);
            assertEquals(1, Results.read(app.results()).stream()
                    .filter(r -> "DUPLICATE_CONTENT".equals(r.path("reasonCode").asText())).count());
            assertEquals(2, app.sandbox().submissionCount());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ktp-put-in-copy", "ktp-put-in-copy-no-conditional-delete", "ktp-put-in-copy-conflicting-delete"})
    void aNewVersionPutWhileTheEarlierOneIsCopiedIsNotDeletedWithIt(String hint) throws Exception {
        // in a bucket named -no-conditional-delete a delete naming an ETag is answered 501 (testkit FaultyObjects)
        String bucket = s3.newBucket(hint);
        byte[] first = SampleImages.card("u5911", "png");
        byte[] second = SampleImages.card("u5911-rescanned", "png");
        byte[] bad = "not an image, first".getBytes(StandardCharsets.UTF_8);
        byte[] corrected = SampleImages.card("u5912", "png");
        int refusedBefore = FaultyObjects.conditionalDeletesRefused();
        // the scanner puts a new version under the name just as the earlier one is copied to the processed
        // prefix (or the failed prefix), before the earlier one is deleted
        FaultyObjects.whenCopied(bucket, "inbox/u5911.png", () -> s3.put(bucket, "inbox/u5911.png", second));
        FaultyObjects.whenCopied(bucket, "inbox/u5912.png", () -> s3.put(bucket, "inbox/u5912.png", corrected));
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, sourceOn(bucket))) {
            s3.put(bucket, "inbox/u5911.png", first);
            s3.put(bucket, "inbox/u5912.png", bad);

            await().atMost(WAIT).until(() -> Results.count(app.results()) == 4);
            Map<String, Long> outcomes = Results.read(app.results()).stream().collect(Collectors.groupingBy(
                    r -> r.path("sourceFile").asText() + " " + r.path("status").asText(), Collectors.counting()));
            assertEquals(Map.of("u5911.png COMPLETED", 2L, "u5912.png REJECTED", 1L, "u5912.png COMPLETED", 1L),
                    outcomes);
            assertEquals(3, app.sandbox().submissionCount(), "each version submitted once, the bad one not");
            assertEquals(2, logs.count("was replaced while it was processed"), logs.text());
            await().atMost(WAIT).until(() -> s3.keys(bucket, "inbox/").isEmpty());
            assertArrayEquals(first, s3.get(bucket, "processed/u5911.png").orElseThrow());
            assertArrayEquals(corrected, s3.get(bucket, "processed/u5912.png").orElseThrow());
            List<String> processed = s3.keys(bucket, "processed/");
            assertEquals(3, processed.size(), processed.toString());
            String aside = processed.stream().filter(k -> k.endsWith("-u5911.png")).findFirst().orElseThrow();
            assertArrayEquals(second, s3.get(bucket, aside).orElseThrow());
            assertArrayEquals(bad, s3.get(bucket, "failed/u5912.png").orElseThrow());
            // such a store is asked once, then the object is looked at before each delete; a conflict
            // has the object looked at that once, and each later delete asks again (four: both objects'
            // versions)
            assertEquals(hint.contains("-no-conditional-delete") ? 1 : hint.contains("-conflicting-delete") ? 4 : 0,
                    FaultyObjects.conditionalDeletesRefused() - refusedBefore);
        }
    }

    @Test
    void anOutageIsLoggedOnceNotOncePerPollAndTheSourceRecovers() {
        String bucket = s3.newBucket("ktp-outage");
        Map<String, String> props = sourceOn(bucket);
        props.put("ktp.source.s3.poll-delay", "100");
        // a short back-off, so that many polls fail while the bucket is gone
        props.put("ktp.source.s3.backoff-multiplier", "2");
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, props)) {
            s3.client().deleteBucket(r -> r.bucket(bucket));
            await().atMost(WAIT).until(() -> count(logs.text(), "listing the bucket failed") == 1);
            await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5))
                    .until(() -> count(logs.text(), "listing the bucket failed") == 1);
            assertFalse(logs.text().contains("at software.amazon.awssdk"), "a stack trace was logged");

            s3.client().createBucket(r -> r.bucket(bucket));
            await().atMost(WAIT).until(() -> logs.text().contains("listing the bucket works again"));
            s3.put(bucket, "inbox/u5501.png", SampleImages.card("u5501", "png"));
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 1);
        }
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + part.length())) {
            n++;
        }
        return n;
    }

    @Test
    void deleteAfterSuccessLeavesNothingBehind() {
        String bucket = s3.newBucket("ktp-delete");
        Map<String, String> props = sourceOn(bucket);
        props.put("ktp.source.s3.after-success", "delete");
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            s3.put(bucket, "inbox/u5101.png", SampleImages.card("u5101", "png"));
            s3.put(bucket, "inbox/u5102.jpg", SampleImages.card("u5102", "jpg"));

            await().atMost(WAIT).until(() -> Results.count(app.results()) == 2);
            Results.read(app.results()).forEach(r -> assertEquals("s3", r.path("sourceType").asText()));
            await().atMost(WAIT).until(() -> s3.keys(bucket, "").isEmpty());
        }
    }

    @Test
    void theSameObjectsPutBackAfterARestartAreRejectedAsDuplicatesNotSubmittedAgain() throws Exception {
        String bucket = s3.newBucket("ktp-restart");
        Map<String, byte[]> batch = new LinkedHashMap<>();
        batch.put("inbox/u5201.png", SampleImages.card("u5201", "png"));
        batch.put("inbox/u5202.jpg", SampleImages.card("u5202", "jpg"));
        batch.put("inbox/u5203.png", SampleImages.card("u5203", "png"));
        Map<String, String> props = sourceOn(bucket);
        long putSecond;

        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            batch.forEach((key, bytes) -> s3.put(bucket, key, bytes));
            putSecond = System.currentTimeMillis() / 1000;
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 3);
            await().atMost(WAIT).until(() -> s3.keys(bucket, "processed/").size() == 3);
            assertEquals(3, app.ledger().createdSince(0).size());
        }

        // same keys, same bytes, so the same ETags, in a later second (modification times are whole
        // seconds); plus one new object
        long firstPut = putSecond;
        await().atMost(Duration.ofSeconds(3)).until(() -> System.currentTimeMillis() / 1000 > firstPut);
        batch.forEach((key, bytes) -> s3.put(bucket, key, bytes));
        s3.put(bucket, "inbox/u5204.png", SampleImages.card("u5204", "png"));
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            await().atMost(WAIT).until(() -> Results.count(app.results()) == 7);
            Map<String, Long> outcomes = Results.read(app.results()).stream().collect(Collectors.groupingBy(
                    r -> r.path("status").asText() + " " + r.path("reasonCode").asText(""), Collectors.counting()));
            assertEquals(Map.of("COMPLETED ", 4L, "REJECTED DUPLICATE_CONTENT", 3L), outcomes);
            assertEquals(1, app.sandbox().submissionCount(), "only the new object was submitted");
            // every object put back has its result and leaves the inbox: none is listed for ever
            await().atMost(WAIT).until(() -> s3.keys(bucket, "inbox/").isEmpty());
            assertEquals(List.of("failed/u5201.png", "failed/u5201.png.error.json", "failed/u5202.jpg",
                    "failed/u5202.jpg.error.json", "failed/u5203.png", "failed/u5203.png.error.json"),
                    s3.keys(bucket, "failed/"));
            assertTrue(s3.keys(bucket, "processed/").contains("processed/u5204.png"));
            // a few more polls: nothing new
            await().during(Duration.ofMillis(1200)).atMost(Duration.ofSeconds(5))
                    .until(() -> app.ledger().createdSince(0).size() == 7 && Results.count(app.results()) == 7);
        }
    }
}

package id.ktpbridge.s3;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import id.ktpbridge.result.DeliveryStore;
import id.ktpbridge.result.Outbox;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.FaultyObjects;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import id.ktpbridge.testkit.S3ProxyServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A misconfigured S3 source or target stops the start-up with a message naming the setting; a
 * results store that is down at start does not.
 */
class S3MisconfigurationTest {

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
        return s3.sourceProperties(bucket);
    }

    /** The S3 result target on, into {@code bucket} of this S3Proxy, beside the file target. */
    private static Map<String, String> resultsOn(String bucket) {
        Map<String, String> props = new HashMap<>(s3.connectionProperties("ktp.results.s3"));
        props.put("ktp.results.targets", "file,s3");
        props.put("ktp.results.s3.bucket", bucket);
        return props;
    }

    private String startupError(Map<String, String> overrides) {
        return BridgeApp.startupError(dataDir, overrides);
    }

    @Test
    void unknownSourceBucket() {
        String error = startupError(sourceOn("no-such-bucket-5501"));
        assertTrue(error.contains("ktp.source.s3.bucket 'no-such-bucket-5501' does not exist (KTP_SOURCE_S3_BUCKET)"), error);
    }

    @Test
    void unreachableEndpoint() {
        // a source is checked at start (README, More sources); only the results store is let off when down
        String endpoint = "http://127.0.0.1:" + BridgeApp.freePort();
        Map<String, String> props = sourceOn("any-bucket");
        props.put("ktp.source.s3.endpoint", endpoint);
        // a hang guard, not a speed claim: the start must end in this failure, not wait on the store
        String error = assertTimeoutPreemptively(Duration.ofSeconds(120), () -> startupError(props));
        // the refused connection itself, not a timeout that was waited out
        assertTrue(error.contains("ktp.source.s3.endpoint '" + endpoint
                + "' cannot be reached (KTP_SOURCE_S3_ENDPOINT): Connection refused"), error);
    }

    @Test
    void wrongSecretKeyIsNamedButNotShown() {
        String bucket = s3.newBucket("ktp-creds");
        Map<String, String> props = sourceOn(bucket);
        props.put("ktp.source.s3.secret-key", "wrong-secret-5503");
        try (LogCapture logs = new LogCapture()) {
            String error = startupError(props);
            assertTrue(error.contains("Access to ktp.source.s3.bucket '" + bucket + "' was denied"), error);
            assertTrue(error.contains("KTP_SOURCE_S3_SECRET_KEY"), error);
            assertFalse(error.contains("wrong-secret-5503"), error);
            assertFalse(logs.text().contains("wrong-secret-5503"), "the secret key is in the log");
        }
    }

    @Test
    void aPrefixWithALeadingSlashIsNamedInAWarningAndTheStartGoesOn() throws Exception {
        String bucket = s3.newBucket("ktp-slash");
        Map<String, String> props = sourceOn(bucket);
        props.put("ktp.source.s3.prefix", "/inbox/");
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, props)) {
            assertTrue(logs.text().contains("ktp.source.s3.prefix (KTP_SOURCE_S3_PREFIX) '/inbox/' starts with a slash"),
                    logs.text());
        }
    }

    @Test
    void aResultsBucketTheRoleMayOnlyWriteToIsAWarningNotARefusedStart() throws Exception {
        // HeadBucket and listings refused (403 AccessDenied), as for a role with s3:PutObject only (testkit FaultyObjects)
        String bucket = s3.newBucket("ktp-results-write-only");
        Map<String, String> props = resultsOn(bucket);
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, props)) {
            assertTrue(logs.text().contains("ktp.results.s3.bucket '" + bucket + "' could not be looked at (HTTP 403"),
                    logs.text());
            Results.drop(app.inbox(), "u5506.png", SampleImages.card("u5506", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            String name;
            try (var files = java.nio.file.Files.list(app.results())) {
                name = files.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".json")).findFirst()
                        .orElseThrow();
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> s3.get(bucket, "results/" + name).isPresent());
        }
    }

    @Test
    void aResultsStoreAnswering503AtStartIsAWarningAndResultsArriveOnceItIsBack() throws Exception {
        String bucket = s3.newBucket("ktp-results-failing");
        Map<String, String> props = resultsOn(bucket);
        props.put("ktp.results.retry.interval", "200");
        props.put("ktp.results.retry.initial-backoff", "200");
        props.put("ktp.results.retry.max-backoff", "500");
        // every HeadBucket there answers 503 until the store is back (testkit FaultyObjects)
        FaultyObjects.unavailable(bucket);
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, props)) {
            assertTrue(logs.text().contains("ktp.results.s3.bucket '" + bucket + "' could not be checked (HTTP 503)"),
                    logs.text());
            Results.drop(app.inbox(), "u5507.png", SampleImages.card("u5507", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            DeliveryStore store = app.bean("outbox", Outbox.class).store();
            await().atMost(Duration.ofSeconds(30)).until(() -> Map.of(DeliveryStore.PENDING, 1)
                    .equals(store.counts().get("s3")) && logs.text().contains(" to s3 failed"));
            String name = resultName(app);
            assertFalse(s3.get(bucket, "results/" + name).isPresent());

            FaultyObjects.available(bucket);
            await().atMost(Duration.ofSeconds(30)).until(() -> s3.get(bucket, "results/" + name).isPresent());
            await().atMost(Duration.ofSeconds(10)).until(() -> Map.of(DeliveryStore.DELIVERED, 1)
                    .equals(store.counts().get("s3")));
        } finally {
            FaultyObjects.available(bucket);
        }
    }

    @Test
    void aResultsStoreThatCannotBeReachedAtStartHoldsUpOnlyItsOwnDeliveries() throws Exception {
        String endpoint = "http://127.0.0.1:" + BridgeApp.freePort();
        Map<String, String> props = resultsOn("ktp-results-unreachable");
        props.put("ktp.results.s3.endpoint", endpoint);
        props.put("ktp.results.retry.interval", "200");
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, props)) {
            assertTrue(logs.text().contains("ktp.results.s3.bucket 'ktp-results-unreachable' could not be checked"
                    + " (ktp.results.s3.endpoint '" + endpoint + "' cannot be reached"), logs.text());
            Results.drop(app.inbox(), "u5508.png", SampleImages.card("u5508", "png"));
            // the file target is not held up; the S3 delivery waits for the store, retried
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            DeliveryStore store = app.bean("outbox", Outbox.class).store();
            await().atMost(Duration.ofSeconds(30)).until(() -> Map.of(DeliveryStore.PENDING, 1)
                    .equals(store.counts().get("s3")) && logs.text().contains(" to s3 failed"));
            assertEquals(Map.of(DeliveryStore.DELIVERED, 1), store.counts().get("file"));
        }
    }

    private static String resultName(BridgeApp app) throws java.io.IOException {
        try (var files = java.nio.file.Files.list(app.results())) {
            return files.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".json")).findFirst()
                    .orElseThrow();
        }
    }

    @Test
    void wrongCredentialsForAResultsBucketStillStopTheStart() {
        // a HeadBucket's 403 has no body; the listing's refusal names the wrong secret (SignatureDoesNotMatch)
        String bucket = s3.newBucket("ktp-results-creds");
        Map<String, String> props = resultsOn(bucket);
        props.put("ktp.results.s3.secret-key", "wrong-secret-5505");
        try (LogCapture logs = new LogCapture()) {
            String error = startupError(props);
            assertTrue(error.contains("Access to ktp.results.s3.bucket '" + bucket + "' was denied"), error);
            assertFalse(error.contains("wrong-secret-5505"), error);
            assertFalse(logs.text().contains("wrong-secret-5505"), "the secret key is in the log");
        }
    }

    @Test
    void unknownResultsBucket() {
        Map<String, String> props = resultsOn("no-such-results-5504");
        String error = startupError(props);
        assertTrue(error.contains("ktp.results.s3.bucket 'no-such-results-5504' does not exist (KTP_RESULTS_S3_BUCKET)"),
                error);
    }

    @Test
    void missingBucketAndOverlappingPrefixesAreRefusedBeforeAnyCall() {
        Map<String, String> noBucket = sourceOn("x");
        noBucket.remove("ktp.source.s3.bucket");
        assertTrue(startupError(noBucket).contains("ktp.source.s3.bucket (KTP_SOURCE_S3_BUCKET)"));

        Map<String, String> overlap = sourceOn("some-bucket");
        overlap.put("ktp.source.s3.prefix", "");
        String error = startupError(overlap);
        assertTrue(error.contains("ktp.source.s3.processed-prefix 'processed/' and ktp.source.s3.prefix '' overlap"), error);

        Map<String, String> noCredentials = sourceOn("some-bucket");
        noCredentials.remove("ktp.source.s3.access-key");
        noCredentials.remove("ktp.source.s3.secret-key");
        assertTrue(startupError(noCredentials).contains("ktp.source.s3.use-default-credentials=true"));
    }
}

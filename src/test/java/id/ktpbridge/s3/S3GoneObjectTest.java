package id.ktpbridge.s3;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.submit.ReplacedInputs;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.S3ProxyServer;
import id.ktpbridge.testkit.SampleImages;
import id.ktpbridge.testkit.WaitingInputs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * An S3 input left waiting by an outage whose object is deleted from the bucket by hand: the sweep
 * ends it FAILED {@code SOURCE_GONE} with one result, once nobody has touched it for
 * {@code ktp.source.claim-ttl}, and the same image put again is submitted instead of being turned
 * away as a duplicate of it. An object still there, or a store that cannot be asked, ends nothing.
 */
class S3GoneObjectTest {

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

    /** The S3 source on {@code bucket}; OneKYC refuses every presign for now (the input waits), and a claim lives 3 s. */
    private static Map<String, String> waiting(S3ProxyServer server, String bucket) {
        Map<String, String> p = server.sourceProperties(bucket);
        p.put("ktp.source.s3.poll-delay", "200");
        p.putAll(Map.of("ktp.source.claim-ttl", "3s", "gtf.retry.max-attempts", "1",
                "gtf.circuit-breaker.failure-threshold", "1000", "gtf.sandbox.faults.failure-rate.presign", "1.0",
                "gtf.sandbox.faults.failure-statuses", "503"));
        return p;
    }

    @Test
    void theSameImagePutBackUnderAnotherKeyIsSubmittedAtOnceAndTheWaitingInputEnded() throws Exception {
        String bucket = s3.newBucket("ktp-back");
        byte[] image = SampleImages.card("u9411", "png");
        try (BridgeApp app = BridgeApp.start(dataDir, waiting(s3, bucket))) {
            s3.put(bucket, "inbox/u9411.png", image);
            LedgerRecord row = WaitingInputs.afterARefusedPresign(app);
            // renamed by hand (S3 has no rename: a copy, then the old key deleted) while it waited
            s3.client().deleteObject(r -> r.bucket(bucket).key("inbox/u9411.png"));
            app.sandbox().settings().setFailureRate("presign", 0.0);
            s3.put(bucket, "inbox/u9411-renamed.png", image);

            // before any sweep (its first comes a minute after the start): not a duplicate of the gone one
            await().atMost(Duration.ofSeconds(40)).until(() -> Results.count(app.results()) == 2);
            Map<String, JsonNode> bySource = Results.bySourceFile(app.results());
            assertEquals("COMPLETED", bySource.get("u9411-renamed.png").path("status").asText(),
                    bySource.toString());
            JsonNode old = bySource.get("u9411.png");
            assertEquals(row.id(), old.path("ledgerId").asText());
            assertEquals("SOURCE_GONE", old.path("reasonCode").asText(), old.toString());
            assertEquals(1, app.sandbox().submissionCount());
        }
    }

    @Test
    void anObjectDeletedFromTheBucketWhileItsInputWaitedIsEndedByTheSweep() throws Exception {
        String bucket = s3.newBucket("ktp-gone");
        byte[] image = SampleImages.card("u9401", "png");
        try (LogCapture log = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, waiting(s3, bucket))) {
            s3.put(bucket, "inbox/u9401.png", image);
            LedgerRecord row = WaitingInputs.afterARefusedPresign(app);
            s3.client().deleteObject(r -> r.bucket(bucket).key("inbox/u9401.png"));

            // the listing goes on, without the object: only the sweep can end its input, once its
            // worker has let go and it has been left alone for the claim's 3 s
            ReplacedInputs sweep = app.bean("replacedInputs", ReplacedInputs.class);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> {
                sweep.sweep();
                return Results.count(app.results()) == 1;
            });
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals(row.id(), result.path("ledgerId").asText());
            assertEquals("FAILED", result.path("status").asText());
            assertEquals("SOURCE_GONE", result.path("reasonCode").asText());
            assertEquals("its object left the S3 bucket before its upload", result.path("errorMessage").asText());
            sweep.sweep();
            assertEquals(1, Results.count(app.results()), "one result");
            assertEquals(Map.of(), app.ledger().openCounts(), "nothing left open");
            assertEquals(1, log.count("Ledger " + row.id() + ": its object left the S3 bucket"), log.text());
            assertFalse(log.text().contains("u9401"), "the object key (it may hold a NIK) is in the log");

            // its content claim let go: the same image put again is an input of its own, submitted
            app.sandbox().settings().setFailureRate("presign", 0.0);
            s3.put(bucket, "inbox/u9401-again.png", image);
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);
            JsonNode again = Results.bySourceFile(app.results()).get("u9401-again.png");
            assertEquals("COMPLETED", again.path("status").asText(), again.toString());
            assertEquals(1, app.sandbox().submissionCount());
        }
    }

    @Test
    void anObjectStillInTheBucketIsLeftToItsAttempts() throws Exception {
        String bucket = s3.newBucket("ktp-there");
        try (BridgeApp app = BridgeApp.start(dataDir, waiting(s3, bucket))) {
            s3.put(bucket, "inbox/u9402.png", SampleImages.card("u9402", "png"));
            LedgerRecord row = WaitingInputs.afterARefusedPresign(app);
            WaitingInputs.noWorkerHasIt(app, row, "ingest-s3");
            WaitingInputs.leftAloneAnHour(app, row);
            app.bean("replacedInputs", ReplacedInputs.class).sweep();

            assertEquals(SubmissionState.RECEIVED, app.ledger().findById(row.id()).orElseThrow().state(), "left open");
            assertEquals(0, Results.count(app.results()));
            app.context().getRouteController().startRoute("ingest-s3");
            app.sandbox().settings().setFailureRate("presign", 0.0);
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                    && s3.keys(bucket, "processed/").equals(List.of("processed/u9402.png")));
            assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
        }
    }

    @Test
    void aStoreThatIsDownEndsNothing(@TempDir Path downDir) throws Exception {
        try (S3ProxyServer store = S3ProxyServer.startTransient(downDir); LogCapture log = new LogCapture()) {
            String bucket = store.newBucket("ktp-down");
            try (BridgeApp app = BridgeApp.start(dataDir, waiting(store, bucket))) {
                store.put(bucket, "inbox/u9403.png", SampleImages.card("u9403", "png"));
                LedgerRecord row = WaitingInputs.afterARefusedPresign(app);
                WaitingInputs.noWorkerHasIt(app, row, "ingest-s3");
                store.client().deleteObject(r -> r.bucket(bucket).key("inbox/u9403.png"));
                store.close();
                WaitingInputs.leftAloneAnHour(app, row);
                app.bean("replacedInputs", ReplacedInputs.class).sweep();

                assertEquals(SubmissionState.RECEIVED, app.ledger().findById(row.id()).orElseThrow().state(), "left open");
                assertEquals(0, Results.count(app.results()));
                assertTrue(log.text().contains("could not look whether the objects of 1 input(s) left waiting are"
                        + " still in the bucket (no answer"), log.text());
            }
        }
    }

    @Test
    void onlyAnObjectTheStoreSaysIsNotInItsBucketIsGone() {
        String bucket = s3.newBucket("ktp-check");
        s3.put(bucket, "inbox/u9404.png", SampleImages.card("u9404", "png"));
        List<String> refs = List.of("s3://" + bucket + "/inbox/u9404.png", "s3://" + bucket + "/inbox/u9405.png",
                // a bucket that is not there (deleted, or not made yet): nothing to tell by
                "s3://ktp-no-such-bucket-9406/inbox/u9406.png");
        try (S3Client client = client(S3ProxyServer.SECRET_KEY); S3Client refused = client("wrong-secret")) {
            assertEquals(Set.of("s3://" + bucket + "/inbox/u9405.png"),
                    new S3GoneCheck(client, Duration.ofSeconds(10)).look(refs).gone());
            // credentials refused (403) tell nothing
            assertEquals(Set.of(), new S3GoneCheck(refused, Duration.ofSeconds(10)).look(refs).gone());
        }
    }

    private static S3Client client(String secret) {
        return S3Client.builder().region(Region.of(S3ProxyServer.REGION)).endpointOverride(URI.create(s3.endpoint()
                        .toString())).forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        S3ProxyServer.ACCESS_KEY, secret))).build();
    }
}

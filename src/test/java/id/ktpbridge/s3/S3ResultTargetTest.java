package id.ktpbridge.s3;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.S3ProxyServer;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The S3 result target: every result is also an object in the results bucket, byte for byte the file target's. */
class S3ResultTargetTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private static S3ProxyServer s3;

    @TempDir
    Path dataDir;

    @BeforeAll
    static void startS3(@TempDir Path s3Dir) {
        // objects on disk, as in a real store (the other S3 tests keep them in memory)
        s3 = S3ProxyServer.startFilesystem(s3Dir);
    }

    @AfterAll
    static void stopS3() {
        if (s3 != null) {
            s3.close();
        }
    }

    @Test
    void everyResultIsAlsoAnObjectWithTheSameJson() throws Exception {
        String bucket = s3.newBucket("ktp-results");
        Map<String, String> props = new HashMap<>(s3.connectionProperties("ktp.results.s3"));
        props.put("ktp.results.targets", "file,s3");
        props.put("ktp.results.s3.bucket", bucket);
        props.put("ktp.results.s3.prefix", "partner-a/ktp/");
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            Results.drop(app.inbox(), "u5301.png", SampleImages.card("u5301", "png"));
            Results.drop(app.inbox(), "u5302-notektp.jpg", SampleImages.card("u5302", "jpg"));
            Results.drop(app.inbox(), "u5303-empty.png", new byte[0]);

            await().atMost(WAIT).until(() -> Results.count(app.results()) == 3);
            await().atMost(WAIT).until(() -> s3.keys(bucket, "").size() == 3);
            assertSameAsFiles(app.results(), bucket, "partner-a/ktp/");
        }
    }

    @Test
    void theTargetUsesTheSourceConnectionByDefault() throws Exception {
        String inbox = s3.newBucket("ktp-in");
        String results = s3.newBucket("ktp-out");
        Map<String, String> props = new HashMap<>(s3.connectionProperties("ktp.source.s3"));
        props.put("ktp.source.s3.enabled", "true");
        props.put("ktp.source.s3.bucket", inbox);
        props.put("ktp.source.s3.poll-delay", "200");
        // only the bucket: endpoint, path style, region and credentials come from ktp.source.s3.*
        props.put("ktp.results.targets", "s3,file");
        props.put("ktp.results.s3.bucket", results);
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            s3.put(inbox, "inbox/u5401.png", SampleImages.card("u5401", "png"));
            s3.put(inbox, "inbox/u5402.jpg", SampleImages.card("u5402", "jpg"));

            await().atMost(WAIT).until(() -> Results.count(app.results()) == 2);
            await().atMost(WAIT).until(() -> s3.keys(results, "results/").size() == 2);
            assertSameAsFiles(app.results(), results, "results/");
        }
    }

    private static void assertSameAsFiles(Path resultsDir, String bucket, String prefix) throws Exception {
        List<Path> files;
        try (Stream<Path> list = Files.list(resultsDir)) {
            files = list.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList();
        }
        assertEquals(files.stream().map(f -> prefix + f.getFileName()).sorted().toList(), s3.keys(bucket, prefix));
        for (Path file : files) {
            String key = prefix + file.getFileName();
            assertArrayEquals(Files.readAllBytes(file), s3.get(bucket, key).orElseThrow(), key);
            assertEquals("application/json", s3.client().headObject(r -> r.bucket(bucket).key(key)).contentType(), key);
        }
    }
}

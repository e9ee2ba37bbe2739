package id.ktpbridge.reliability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.PostgresServer;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Local copies of inputs (the spool copies, the SFTP downloads) that a process killed mid-work
 * left on disk hold KTP images: a start deletes them, and in cluster mode, where the data folder
 * may be shared, only those no live instance has used for a claim's time to live.
 */
class LeftoverCopiesTest {

    private static PostgresServer pg;
    private static int databases;

    @TempDir
    Path dataDir;

    @BeforeAll
    static void startPostgres() throws Exception {
        pg = PostgresServer.start();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    private static Map<String, String> cluster(String claimTtl) throws Exception {
        Map<String, String> props = new HashMap<>();
        props.put("ktp.cluster.enabled", "true");
        props.put("ktp.db.url", pg.createDatabase("ktp_leftovers_" + (++databases)));
        props.put("ktp.db.user", "postgres");
        props.put("ktp.source.claim-ttl", claimTtl);
        return props;
    }

    /** A copy as a run leaves it, written {@code age} ago. */
    private static Path copy(Path file, Duration age) throws IOException {
        Files.createDirectories(file.getParent());
        Files.write(file, SampleImages.card("u9801", "png"));
        Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() - age.toMillis()));
        return file;
    }

    @Test
    void aSingleInstanceDeletesEveryCopyAnEarlierRunLeft() throws Exception {
        Path spool = copy(dataDir.resolve("spool").resolve(UUID.randomUUID() + ".img"), Duration.ZERO);
        Path download = copy(dataDir.resolve("sftp-work").resolve("branch-1").resolve("u9801.png"), Duration.ZERO);
        Path partial = copy(dataDir.resolve("sftp-work").resolve("u9802.png.inprogress"), Duration.ofHours(1));
        Path other = copy(dataDir.resolve("spool").resolve("notes.txt"), Duration.ofHours(1));
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            assertFalse(Files.exists(spool));
            assertFalse(Files.exists(download));
            assertFalse(Files.exists(partial));
            assertTrue(Files.exists(other), "only spool copies (*.img) are deleted in the spool folder");
            assertTrue(logs.text().contains("INFO id.ktpbridge.ingest.LocalCopies - 3 local copies of inputs left by"
                    + " a stopped run deleted"), logs.text());
            assertFalse(logs.text().contains("u9801") || logs.text().contains("u9802"), "a file name is in the log");

            // and the bundle goes on spooling as before
            Results.drop(app.inbox(), "u9803.png", SampleImages.card("u9803", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
        }
    }

    @Test
    void inClusterModeOnlyCopiesUnusedForTheClaimTimeToLiveAreDeleted() throws Exception {
        Path oldSpool = copy(dataDir.resolve("spool").resolve(UUID.randomUUID() + ".img"), Duration.ofMinutes(11));
        Path oldDownload = copy(dataDir.resolve("sftp-work").resolve("u9811.png"), Duration.ofMinutes(11));
        // another live instance's, sharing the folder
        Path freshSpool = copy(dataDir.resolve("spool").resolve(UUID.randomUUID() + ".img"), Duration.ofMinutes(1));
        Path freshDownload = copy(dataDir.resolve("sftp-work").resolve("u9812.png"), Duration.ZERO);
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, cluster("10m"))) {
            assertFalse(Files.exists(oldSpool));
            assertFalse(Files.exists(oldDownload));
            assertTrue(Files.exists(freshSpool));
            assertTrue(Files.exists(freshDownload));
            assertTrue(logs.text().contains("2 local copies of inputs left by a stopped run deleted"), logs.text());
        }
    }

    @Test
    void inClusterModeACopyInUseIsKeptFreshWhileALeftOneRunsOut() throws Exception {
        Map<String, String> props = cluster("3s");
        // each OneKYC call takes 3 s: the input is under way for longer than the claim time to live
        props.put("gtf.sandbox.faults.latency", "3000");
        // young at the start (it may be a live instance's), but nobody uses it: it goes once the claim
        // time to live has passed, not only at the next start
        Path left = copy(dataDir.resolve("spool").resolve(UUID.randomUUID() + ".img"), Duration.ZERO);
        try (BridgeApp app = BridgeApp.start(dataDir, props)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(left));
            Results.drop(app.inbox(), "u9821.png", SampleImages.card("u9821", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> spoolCopies(app).size() == 1);
            Path inUse = spoolCopies(app).get(0);
            long written = Files.getLastModifiedTime(inUse).toMillis();

            // the one in use is marked so as its claims are renewed, and is still there for the upload
            await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(inUse)
                    || Files.getLastModifiedTime(inUse).toMillis() > written);
            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 1);
            assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText(),
                    Results.read(app.results()).get(0).toString());
            // deleted when its exchange ended
            await().atMost(Duration.ofSeconds(30)).until(() -> spoolCopies(app).isEmpty());
        }
    }

    private static List<Path> spoolCopies(BridgeApp app) throws IOException {
        Path spool = app.dataDir().resolve("spool");
        if (!Files.isDirectory(spool)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(spool)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".img")).toList();
        }
    }
}

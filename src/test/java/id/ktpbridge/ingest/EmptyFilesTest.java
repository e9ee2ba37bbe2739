package id.ktpbridge.ingest;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.apache.camel.component.file.GenericFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An empty file may be a placeholder whose bytes are still to come: taken only once it stayed empty a while. */
class EmptyFilesTest {

    @TempDir
    Path dir;

    @Test
    void anEmptyFileIsLeftUntilItStayedEmptyForTheMinimumAge() throws Exception {
        try (BridgeApp app = BridgeApp.start(dir.resolve("data"), Map.of("ktp.source.empty-file-min-age", "1m"))) {
            Files.createDirectories(app.inbox());
            // a scanner's placeholder, its bytes still to come
            Path placeholder = Files.createFile(app.inbox().resolve("u7311.png"));
            // left empty two minutes ago
            Path abandoned = Files.createFile(app.inbox().resolve("u7312.png"));
            Files.setLastModifiedTime(abandoned, FileTime.from(Instant.now().minus(Duration.ofMinutes(2))));

            await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(app.failed().resolve("u7312.png"))
                    && Results.bySourceFile(app.results()).containsKey("u7312.png"));
            JsonNode rejected = Results.bySourceFile(app.results()).get("u7312.png");
            assertEquals("REJECTED", rejected.path("status").asText(), rejected.toString());
            assertEquals("EMPTY_FILE", rejected.path("reasonCode").asText());

            // scans go on every 200 ms: the placeholder stays where it is, with nothing recorded
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(12)).until(() -> Files.exists(placeholder)
                    && Results.count(app.results()) == 1);
            assertTrue(Files.exists(placeholder), "the placeholder was taken");
            assertEquals(1, Results.count(app.results()), Results.bySourceFile(app.results()).toString());
            assertEquals(1, app.ledger().createdSince(0).size());

            // its writer completes it
            Files.write(placeholder, SampleImages.card("u7311", "png"));
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(app.done().resolve("u7311.png"))
                    && Results.count(app.results()) == 2);
            JsonNode completed = Results.bySourceFile(app.results()).get("u7311.png");
            assertEquals("COMPLETED", completed.path("status").asText(), completed.toString());
        }
    }

    @Test
    void onAShareWhoseClockRunsBehindAnEmptyFileIsTheMinimumAgeByTheSharesClock() {
        // the share's clock runs 90 s behind this host's, as the drop folder's probe measured
        EmptyFiles empty = new EmptyFiles(60_000, new DropFolderClock(2_000, f -> true, () -> 90_000));
        long now = System.currentTimeMillis();
        // created 10 s ago by the share's clock: it looks 100 s old here
        assertFalse(empty.accept(file(now - 100_000, 0)), "a placeholder 10 s old by the share's clock was taken");
        assertTrue(empty.accept(file(now - 155_000, 0)), "empty for over a minute by the share's clock");
        assertTrue(empty.accept(file(now - 100_000, 1_000)), "a file with bytes waits only for the read lock's age");

        EmptyFiles sameClock = new EmptyFiles(60_000, new DropFolderClock(2_000, f -> true, () -> 1_500));
        assertTrue(sameClock.accept(file(now - 61_000, 0)), "1.5 s apart is time-stamp granularity");
        assertFalse(sameClock.accept(file(now - 55_000, 0)));
    }

    private static GenericFile<File> file(long modified, long length) {
        GenericFile<File> file = new GenericFile<>();
        file.setLastModified(modified);
        file.setFileLength(length);
        return file;
    }
}

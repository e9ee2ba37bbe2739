package id.ktpbridge.ingest;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files dated in the future: only an image the route takes is dated now, and never through a link. */
class FutureDatedFilesTest {

    @TempDir
    Path dir;

    @Test
    void filesTheRouteDoesNotTakeAndTheTargetsOfLinksKeepTheirTime() throws Exception {
        FileTime ahead = FileTime.from(Instant.now().plus(2, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS));
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        Path target = Files.write(elsewhere.resolve("target.png"), SampleImages.card("u7301", "png"));
        Files.setLastModifiedTime(target, ahead);
        try (LogCapture log = new LogCapture();
             BridgeApp app = BridgeApp.start(dir.resolve("data"), Map.of())) {
            Files.createDirectories(app.inbox());
            Path notes = Files.writeString(app.inbox().resolve("notes.txt"), "scanned on the front desk");
            Files.setLastModifiedTime(notes, ahead);
            Path link = Files.createSymbolicLink(app.inbox().resolve("u7302.png"), target);
            // dated ahead too, and taken: the scans ran past the others
            Results.drop(app.inbox(), "u7303.png", SampleImages.card("u7303", "png"));
            Files.setLastModifiedTime(app.inbox().resolve("u7303.png"), ahead);

            await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(app.done().resolve("u7303.png"))
                    && Results.count(app.results()) == 1);
            assertEquals(ahead, Files.getLastModifiedTime(notes), "a file the route does not take was dated now");
            assertEquals(ahead, Files.getLastModifiedTime(target), "the target of a link was dated now");
            assertTrue(Files.isSymbolicLink(link), "the link is left until its target's time");
            assertTrue(log.text().contains("A symbolic link in the drop folder points to a file dated"), log.text());
            assertEquals("COMPLETED", Results.bySourceFile(app.results()).get("u7303.png").path("status").asText());
        }
    }
}

package id.ktpbridge.testkit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.sandbox.GtfSandbox;

/** The checks of a batch stopped half-way and finished by the next start, for any folder-like source. */
public final class StopAndResume {

    private StopAndResume() {
    }

    /** After the stop: nothing good was quarantined, and every input is still in the inbox or done. */
    public static void assertNothingLost(Path inbox, Path done, Path failed, int inputs) {
        assertEquals(List.of(), names(failed), "nothing quarantined: every image is good");
        long left = names(inbox).size();
        assertTrue(left > 0, "the stop came while inputs were waiting");
        assertEquals(inputs, left + names(done).size(), "every input is in the inbox or done");
    }

    /** After the next start: one COMPLETED result and one confirmed submission per input, an empty inbox. */
    public static void assertFinishedOnce(BridgeApp again, GtfSandbox sandbox, Path inbox, int inputs) {
        await().atMost(Duration.ofSeconds(90)).until(() -> Results.count(again.results()) == inputs);
        for (JsonNode r : Results.read(again.results())) {
            assertEquals("COMPLETED", r.path("status").asText(), r.path("sourceFile").asText());
        }
        assertEquals(inputs, sandbox.submissionIds().stream()
                .filter(id -> !"INITIATED".equals(sandbox.submissionStatus(id))).count(),
                "one confirmed submission per input");
        await().atMost(Duration.ofSeconds(10)).until(() -> names(inbox).isEmpty());
    }

    /** Names of the regular, not hidden files in {@code dir} (none when it does not exist). */
    public static List<String> names(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(Files::isRegularFile).map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package id.ktpbridge.ops;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Camel's tracer, switched on to follow the routes, shows their steps but none of an exchange's
 * data (result documents, sidecars, file names); printing failed exchanges' bodies is refused.
 */
class TracingWithoutDataTest {

    @TempDir
    Path dataDir;

    @Test
    void tracingShowsTheStepsButNoNameNikOrDocument() throws Exception {
        try (LogCapture log = new LogCapture();
             BridgeApp app = BridgeApp.start(dataDir, Map.of("camel.main.tracing", "true"))) {
            Files.createDirectories(app.inbox());
            Files.writeString(app.inbox().resolve("zx7731.json"), "{\"partnerUserId\":\"px4418\"}");
            Results.drop(app.inbox(), "zx7731.png", SampleImages.card("zx7731", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1
                    && Files.exists(app.done().resolve("zx7731.png")));
            JsonNode result = Results.read(app.results()).get(0);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            List<String> niks = result.findValuesAsText("nik");
            assertEquals(1, niks.size(), result.toString());
            String text = log.text();
            assertTrue(text.contains("*--> [ingest-file ]"), "the tracer followed the file drop's route");
            for (String value : List.of("zx7731", "px4418", niks.get(0))) {
                String line = log.lineWith(value);
                assertTrue(line == null, value + " is in the log: " + line);
            }
        }
    }

    @Test
    void failedExchangesBodiesInTheLogAreRefused() {
        String messages = BridgeApp.startupError(dataDir, Map.of("camel.main.logExhaustedMessageBody", "true"));
        assertTrue(messages.contains("'camel.main.log-exhausted-message-body' must stay false"), messages);
    }
}

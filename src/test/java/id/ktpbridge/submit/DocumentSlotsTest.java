package id.ktpbridge.submit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An input is one image. When presign offers more document slots than the primary one and OneKYC
 * wants them all before the confirm, the input fails with the confirm's answer and the slots it
 * left empty after one upload again, and the log says once which slots were offered and left
 * empty (names only: the URLs are credentials).
 */
class DocumentSlotsTest {

    @TempDir
    Path dataDir;

    @Test
    void extraSlotsAreNamedOnceAndTheRefusedConfirmFailsTheInputs() throws Exception {
        try (LogCapture log = new LogCapture();
             BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.sandbox.document-keys", "KTP_FRONT,KTP_BACK",
                     "gtf.retry.max-delay", "100"))) {
            Results.drop(app.inbox(), "u3201.png", SampleImages.card("u3201", "png"));
            Results.drop(app.inbox(), "u3202.png", SampleImages.card("u3202", "png"));
            await().atMost(Duration.ofSeconds(60)).until(() -> Results.count(app.results()) == 2);

            for (JsonNode result : Results.read(app.results())) {
                assertEquals("FAILED", result.path("status").asText());
                assertEquals("GTF_CONFIRM_FAILED", result.path("reasonCode").asText());
                assertTrue(result.path("errorMessage").asText().contains("INVALID_UPLOAD_ARTIFACT"), result.toString());
                assertTrue(result.path("errorMessage").asText().contains("DOCUMENT_SLOTS_LEFT_EMPTY [KTP_BACK]"),
                        result.toString());
            }
            // never confirmed, so no submission is the result's: the one presigned is named apart
            assertEquals(Set.copyOf(app.sandbox().submissionIds()), Results.read(app.results()).stream()
                    .map(r -> r.path("presignedSubmissionId").asText()).collect(Collectors.toSet()));
            for (JsonNode result : Results.read(app.results())) {
                assertTrue(result.path("submissionId").isNull(), result.toString());
            }
            // one upload again (an upload can be lost), then no more rounds that can only be refused
            assertEquals(2, app.sandbox().submissionCount(), "one submission per input");
            for (String id : app.sandbox().submissionIds()) {
                assertEquals(2, app.sandbox().confirmAttempts(id), "confirms of " + id);
            }
            String text = log.text();
            String warning = "Presign offers document slots [KTP_FRONT, KTP_BACK]; the image goes to KTP_FRONT only";
            assertEquals(1, text.split(java.util.regex.Pattern.quote(warning), -1).length - 1, text);
            assertFalse(text.contains("X-Amz-Signature") || text.contains("Signature="), "no presigned URL in the log");
        }
    }
}

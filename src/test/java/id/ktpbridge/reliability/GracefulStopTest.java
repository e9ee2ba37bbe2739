package id.ktpbridge.reliability;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.sandbox.SandboxSettings;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import id.ktpbridge.testkit.StopAndResume;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A normal stop (a rolling update, {@code docker stop}) while inputs wait for slow submissions:
 * those the bundle could not finish stay in the inbox, none is quarantined without a result, and
 * the next start takes them up. Before, they went to {@code failed/} with neither a result nor a
 * report, and nothing took them up again.
 */
class GracefulStopTest {

    private static final int IMAGES = 10;

    @TempDir
    Path dataDir;

    @Test
    void inputsTheBundleStoppedOnStayInTheInboxAndTheNextStartFinishesThem() throws Exception {
        SandboxSettings settings = new SandboxSettings();
        settings.setCallbackEnabled(false);
        settings.setLatencyMillis(700);
        settings.setProcessingDelayMillis(300);
        GtfSandbox sandbox = new GtfSandbox(settings).start();
        try {
            Map<String, String> props = props(sandbox, "2");
            props.put("ktp.concurrency", "2");
            Path inbox = Files.createDirectories(dataDir.resolve("inbox"));
            for (int i = 0; i < IMAGES; i++) {
                String name = "u65" + (10 + i) + ".png";
                Results.drop(inbox, name, SampleImages.card(name, "png"));
            }

            try (BridgeApp app = BridgeApp.start(dataDir, props)) {
                await().atMost(Duration.ofSeconds(20)).until(() -> app.ledger().createdSince(0).size() >= 2);
            }
            StopAndResume.assertNothingLost(inbox, dataDir.resolve("done"), dataDir.resolve("failed"), IMAGES);

            props.put("camel.main.shutdown-timeout", "20");
            try (BridgeApp again = BridgeApp.start(dataDir, props)) {
                StopAndResume.assertFinishedOnce(again, sandbox, inbox, IMAGES);
            }
        } finally {
            sandbox.stop();
        }
    }

    @Test
    void anInputLeftInTheMiddleOfAOneKycCallByAStopGetsNoFailedResultAndIsFinishedByTheNextStart() throws Exception {
        SandboxSettings settings = new SandboxSettings();
        settings.setCallbackEnabled(false);
        settings.setLatencyMillis(4000);
        GtfSandbox sandbox = new GtfSandbox(settings).start();
        try {
            Map<String, String> props = props(sandbox, "1");
            Path inbox = Files.createDirectories(dataDir.resolve("inbox"));
            Results.drop(inbox, "u6530.png", SampleImages.card("u6530.png", "png"));

            try (BridgeApp app = BridgeApp.start(dataDir, props)) {
                // taken in: its worker now waits for OneKYC's slow answer, which the stop does not wait for
                await().atMost(Duration.ofSeconds(20)).until(() -> app.ledger().createdSince(0).size() == 1);
            }
            assertEquals(0, Results.count(dataDir.resolve("results")), "a stop is no failure of the input");
            assertTrue(Files.exists(inbox.resolve("u6530.png")), "the input waits in the inbox");

            settings.setLatencyMillis(0);
            try (BridgeApp again = BridgeApp.start(dataDir, props)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(again.results()) == 1);
                JsonNode result = Results.read(again.results()).get(0);
                assertEquals("COMPLETED", result.path("status").asText(), result.toString());
                assertEquals(1, again.ledger().createdSince(0).size(), "the same input, resumed");
            }
        } finally {
            sandbox.stop();
        }
    }

    /** The bundle against the sandbox on its own port, with a stop that waits {@code shutdownTimeout} seconds. */
    private static Map<String, String> props(GtfSandbox sandbox, String shutdownTimeout) {
        Map<String, String> props = new HashMap<>();
        props.put("gtf.sandbox.enabled", "false");
        props.put("gtf.token-url", sandbox.baseUrl());
        props.put("gtf.api-url", sandbox.baseUrl());
        props.put("ktp.callback.auth-token", "graceful-stop");
        props.put("ktp.source.read-lock-min-age", "100");
        props.put("camel.main.shutdown-timeout", shutdownTimeout);
        return props;
    }
}

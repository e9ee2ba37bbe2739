package id.ktpbridge;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.sandbox.SandboxSettings;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which OneKYC the bundle calls: a URL set is the one called, never the embedded sandbox in its place. */
class SandboxSwitchTest {

    @TempDir
    Path dataDir;

    @Test
    void oneKycUrlsSetWithoutTheSwitchAreTheOnesCalled() throws Exception {
        GtfSandbox elsewhere = new GtfSandbox(new SandboxSettings()).start();
        try (LogCapture logs = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, Map.of("gtf.token-url", elsewhere.baseUrl(),
                "gtf.api-url", elsewhere.baseUrl(), "ktp.callback.auth-token", "callback-token-7101"))) {
            assertNull(app.context().getRegistry().lookupByName("gtfSandbox"), "the embedded sandbox was started");
            Results.drop(app.inbox(), "u7101.png", SampleImages.card("u7101", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
            assertEquals(1, elsewhere.submissionCount(), "the OneKYC the URLs name got the submission");
            // a OneKYC apart from the bundle that takes the sandbox's values: each is named at the start
            for (String setting : new String[] {"gtf.client-id", "gtf.pass-key", "gtf.onboarding-partner"}) {
                assertTrue(logs.text().contains("Setting '" + setting + "' (" + Settings.envName(setting)
                        + ") still has the embedded sandbox's value"), logs.text());
            }
        } finally {
            elsewhere.stop();
        }
    }

    @Test
    void theSandboxSwitchedOnWithAUrlSetStopsTheStart() {
        String messages = BridgeApp.startupError(dataDir, Map.of("gtf.sandbox.enabled", "true",
                "gtf.api-url", "https://onekyc.example.com"));
        assertTrue(messages.contains("Setting 'gtf.sandbox.enabled' (GTF_SANDBOX_ENABLED) is true, so the embedded"
                + " sandbox would answer instead of the OneKYC named by gtf.api-url"), messages);
    }

    @Test
    void realCredentialsWithoutAOneKycUrlStopTheStartInsteadOfMeetingTheSandbox() {
        // GTF_API_URI for GTF_API_URL: no URL arrives, the pass-key does
        String messages = BridgeApp.startupError(dataDir, Map.of("gtf.pass-key", "pk-live-7102"));
        assertTrue(messages.contains("Setting 'gtf.pass-key' (GTF_PASS_KEY) is not the embedded sandbox's, but no"
                + " OneKYC is named"), messages);
        assertFalse(messages.contains("pk-live-7102"), "the pass-key is quoted");
    }

    @Test
    void anUploadContentTypeThatIsNoMimeTypeIsRefused() {
        String messages = BridgeApp.startupError(dataDir, Map.of("gtf.upload.content-type", "image jpeg"));
        assertTrue(messages.contains("Setting 'gtf.upload.content-type' (GTF_UPLOAD_CONTENT_TYPE) must be detect, none"
                + " or a MIME type"), messages);
    }

    @Test
    void anUploadMethodOtherThanPutOrPostIsRefused() {
        String messages = BridgeApp.startupError(dataDir, Map.of("gtf.upload.method", "PATCH"));
        assertTrue(messages.contains("Setting 'gtf.upload.method' (GTF_UPLOAD_METHOD) must be PUT or POST, not 'PATCH'"),
                messages);
    }

    @Test
    void aUrlWithALoginInItIsRefused() {
        String messages = BridgeApp.startupError(dataDir, Map.of("gtf.token-url", "https://user:secret@t.example.com",
                "gtf.api-url", "https://a.example.com"));
        assertTrue(messages.contains("Setting 'gtf.token-url' (GTF_TOKEN_URL) must be a base URL"), messages);
        assertFalse(messages.contains("secret@"), messages);
    }

    @Test
    void oneUrlWithoutTheOtherIsNamed() {
        String messages = BridgeApp.startupError(dataDir, Map.of("gtf.api-url", "https://onekyc.example.com"));
        assertTrue(messages.contains("Missing required setting 'gtf.token-url' (environment variable GTF_TOKEN_URL)"),
                messages);
    }

    @Test
    void withAnyFreeCallbackPortTheSandboxCallsBackOnThePortTheServerListensOn() throws Exception {
        anyFreeCallbackPort(Map.of("ktp.callback.port", "0", "ktp.poll.enabled", "false"));
    }

    @Test
    void withAnyFreeCallbackAndManagementPortTheBundleStartsAndIsCalledBack() throws Exception {
        // as the launcher's class-data training start runs it
        anyFreeCallbackPort(Map.of("ktp.callback.port", "0", "ktp.management.port", "0", "ktp.poll.enabled", "false"));
    }

    @Test
    void withTheCallbackServerOffTheSandboxSendsNoCallbacks() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.callback.enabled", "false"))) {
            Results.drop(app.inbox(), "u7103.png", SampleImages.card("u7103", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            assertEquals("COMPLETED", Results.read(app.results()).get(0).path("status").asText());
            // its port may be another process's, which would be sent each callback and its token
            assertEquals(0, app.sandbox().callbackAttempts());
        }
    }

    private void anyFreeCallbackPort(Map<String, String> settings) throws Exception {
        // polling off: the result can only come by the callback
        try (BridgeApp app = BridgeApp.start(dataDir, settings)) {
            Results.drop(app.inbox(), "u7102.png", SampleImages.card("u7102", "png"));
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);
            var result = Results.read(app.results()).get(0);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals("callback", result.path("receivedVia").asText(), result.toString());
            // counted once the sandbox has the bundle's answer, which may come after the result
            await().atMost(Duration.ofSeconds(10)).until(() -> app.sandbox().callbacksDelivered() == 1);
        }
    }
}

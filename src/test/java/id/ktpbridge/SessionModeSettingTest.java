package id.ktpbridge;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;

import id.ktpbridge.testkit.BridgeApp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A session-id mode other than the two there are stops the start, naming the setting. */
class SessionModeSettingTest {

    @TempDir
    Path dataDir;

    @Test
    void anUnknownModeIsRefusedByName() {
        for (String key : new String[] {"gtf.partner-session-id.mode", "gtf.sdk-session-id.mode"}) {
            String messages = BridgeApp.startupError(dataDir.resolve(key), Map.of(key, "per-batch"));
            assertTrue(messages.contains("Setting '" + key + "' (" + Settings.envName(key)
                    + ") must be per-submission or per-call"),
                    messages);
        }
    }

    @Test
    void otherChoiceSettingsRefuseAnUnknownValueByName() {
        String dedupe = BridgeApp.startupError(dataDir.resolve("dedupe"), Map.of("ktp.source.dedupe", "name"));
        assertTrue(dedupe.contains("Setting 'ktp.source.dedupe' (KTP_SOURCE_DEDUPE) must be content or none"), dedupe);
        String urls = BridgeApp.startupError(dataDir.resolve("urls"), Map.of("ktp.results.image-urls", "strip"));
        assertTrue(urls.contains("Setting 'ktp.results.image-urls' (KTP_RESULTS_IMAGE_URLS) must be omit or keep"), urls);
    }
}

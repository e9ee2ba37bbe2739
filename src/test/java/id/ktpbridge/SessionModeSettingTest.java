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
            assertTrue(messages.contains("Setting '" + key + "' must be per-submission or per-call"),
                    messages);
        }
    }
}

package id.ktpbridge;

import static org.junit.jupiter.api.Assertions.assertThrows;
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
            RuntimeException e = assertThrows(RuntimeException.class,
                    () -> BridgeApp.start(dataDir.resolve(key), Map.of(key, "per-batch")).close());
            StringBuilder messages = new StringBuilder();
            for (Throwable t = e; t != null; t = t.getCause()) {
                messages.append(t.getMessage()).append('\n');
            }
            assertTrue(messages.toString().contains("Setting '" + key + "' must be per-submission or per-call"),
                    messages.toString());
        }
    }
}

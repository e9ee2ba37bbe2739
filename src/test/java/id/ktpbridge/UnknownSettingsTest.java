package id.ktpbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A misspelt setting is named at start-up with the one it was probably meant to be. */
class UnknownSettingsTest {

    @TempDir
    Path dataDir;

    @Test
    void aMisspeltSettingIsNamedWithTheOneMeant() {
        try (LogCapture logs = new LogCapture();
             BridgeApp app = BridgeApp.start(dataDir, Map.of("ktp.sorce.dir", "/tmp/elsewhere"))) {
            assertTrue(logs.text().contains("Setting 'ktp.sorce.dir' is not one the bundle reads: ignored. Did you"
                    + " mean 'ktp.source.dir'?"), logs.text());
            assertFalse(logs.text().contains("Setting 'ktp.callback.port' is not one"), "known ones are not named");
        }
    }

    @Test
    void aMisspeltSettingIsNamedWhenTheStartItStopsIsRefused() {
        try (LogCapture logs = new LogCapture()) {
            String error = BridgeApp.startupError(dataDir, Map.of("ktp.source.s3.enabled", "true",
                    "ktp.source.s3.use-default-credentials", "true", "ktp.source.s3.buket", "kyc-inbox"));
            assertTrue(error.contains("Missing required setting ktp.source.s3.bucket"), error);
            assertTrue(logs.text().contains("Setting 'ktp.source.s3.buket' is not one the bundle reads: ignored."
                    + " Did you mean 'ktp.source.s3.bucket'?"), logs.text());
        }
    }

    @Test
    void aMisspeltJvmOptionIsNamedToo() {
        System.setProperty("ktp.sorce.include", ".*");
        try (LogCapture logs = new LogCapture();
             BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            assertTrue(logs.text().contains("Setting 'ktp.sorce.include' is not one the bundle reads"), logs.text());
        } finally {
            System.clearProperty("ktp.sorce.include");
        }
    }

    @Test
    void theSettingsALocalRouteNamesAreKnown() throws Exception {
        Path routes = java.nio.file.Files.createDirectories(dataDir.resolve("routes"));
        java.nio.file.Files.writeString(routes.resolve("ingest-sftp-second.yaml"),
                "- route:\n    from:\n      uri: \"sftp:{{ktp.source.sftp2.host}}/{{path:ktp.source.sftp2.dir}}\"\n");
        java.util.Set<String> known = UnknownSettings.known(routes);
        assertTrue(known.contains("ktp.source.sftp2.host") && known.contains("ktp.source.sftp2.dir"), known.toString());
        assertFalse(UnknownSettings.known(dataDir.resolve("none")).contains("ktp.source.sftp2.host"));
    }

    @Test
    void environmentVariablesAreComparedByTheirNames() {
        java.util.Set<String> known = UnknownSettings.known(dataDir.resolve("no-routes"));
        assertTrue(known.contains("ktp.source.dir") && known.contains("ktp.results.dir"), known.toString());
        assertEquals(Optional.of("KTP_SOURCE_DIR"), UnknownSettings.nearest("KTP_SORCE_DIR",
                java.util.Set.of("KTP_SOURCE_DIR", "KTP_DATA_DIR")));
        assertEquals(Optional.empty(), UnknownSettings.nearest("KTP_SOURCE_S3_REGION",
                java.util.Set.of("KTP_SOURCE_DIR", "KTP_DATA_DIR")), "far from every known one: not named");
    }
}

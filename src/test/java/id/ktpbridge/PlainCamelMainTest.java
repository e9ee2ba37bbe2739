package id.ktpbridge;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The YAML routes on a Camel Main that is not the bundle's own, as Camel JBang runs them: the
 * Java part comes in through {@code config/camel-main.properties} alone.
 */
class PlainCamelMainTest {

    @TempDir
    Path dataDir;

    @Test
    void theRoutesRunABatchWithTheJavaPartNamedByProperty() throws Exception {
        try (BridgeApp app = BridgeApp.startOnPlainCamelMain(dataDir,
                Map.of("ktp.callback.auth-token", "plain-main-token"))) {
            assertTrue(app.context().getRoute("ingest-file") != null, "the YAML file route is loaded");
            String[] files = {"u4001.png", "u4002-notektp.jpg", "u4003.png"};
            for (String file : files) {
                Results.drop(app.inbox(), file, SampleImages.card(file.substring(0, file.indexOf('.')),
                        file.substring(file.indexOf('.') + 1)));
            }
            Results.drop(app.inbox(), "empty.png", new byte[0]);
            // one result per input, the empty file's a REJECTED one
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == files.length + 1);
            Map<String, JsonNode> results = Results.bySourceFile(app.results());
            assertEquals("VALID", results.get("u4001.png").path("result").asText());
            assertEquals("NOT_EKTP", results.get("u4002-notektp.jpg").path("reasonCode").asText());
            assertEquals("COMPLETED", results.get("u4003.png").path("status").asText());
            assertEquals("REJECTED", results.get("empty.png").path("status").asText());
            assertEquals(files.length, app.sandbox().submissionCount());
            assertTrue(Results.count(app.failed()) > 0, "the empty file is quarantined");

            // the callback route is served and guarded as under the bundle's own main
            HttpResponse<String> unauthorized = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(app.callbackUrl()))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(401, unauthorized.statusCode());
        }
    }

    @Test
    void camelMainPropertiesNameThisBuildsArtifactAndCamelVersion() throws Exception {
        Properties wiring = new Properties();
        try (var in = Files.newBufferedReader(Path.of("config/camel-main.properties"))) {
            wiring.load(in);
        }
        String pom = Files.readString(Path.of("pom.xml"));
        Matcher version = Pattern.compile("<artifactId>ktp-scan-bridge</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(pom);
        Matcher camel = Pattern.compile("<camel.version>([^<]+)</camel.version>").matcher(pom);
        assertTrue(version.find() && camel.find(), "pom.xml names its version and Camel's");
        assertEquals("id.ktpbridge:ktp-scan-bridge:" + version.group(1), wiring.getProperty("camel.jbang.dependencies"));
        assertEquals(camel.group(1), wiring.getProperty("camel.jbang.camel-version"));
        assertEquals(BundleConfiguration.class.getName(), wiring.getProperty("camel.main.configuration-classes"));
    }

    @Test
    void batchModeIsRefusedOutsideTheBundlesOwnMain() {
        RuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
                () -> BridgeApp.startOnPlainCamelMain(dataDir, Map.of("ktp.exit-when-done", "true")).close());
        assertTrue(BridgeApp.messages(e).contains("ktp.exit-when-done=true (batch mode) needs the bundle's own start"),
                BridgeApp.messages(e));
    }
}

package id.ktpbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which YAML routes the application loads. */
class BridgeMainTest {

    @TempDir
    Path tmp;

    @Test
    void theBundledListIsExactlyTheProjectsRoutesFolder() throws Exception {
        try (Stream<Path> files = Files.list(Path.of("routes"))) {
            List<String> onDisk = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml"))
                    .sorted().toList();
            assertEquals(onDisk, BridgeMain.BUNDLED_ROUTES.stream().sorted().toList());
        }
    }

    @Test
    void withoutALocalFolderEveryRouteComesFromTheJar() {
        String locations = BridgeMain.routeLocations(tmp.resolve("absent"));
        for (String name : BridgeMain.BUNDLED_ROUTES) {
            assertTrue(locations.contains("classpath:routes/" + name), locations);
        }
        assertTrue(!locations.contains("file:"), locations);
    }

    @Test
    void aLocalFileReplacesItsBundledTwinAndExtraFilesAreAdded() throws Exception {
        Files.writeString(tmp.resolve("deliver-results.yaml"), "- route: {}\n");
        Files.writeString(tmp.resolve("my-extra.yaml"), "- route: {}\n");
        List<String> locations = List.of(BridgeMain.routeLocations(tmp).split(","));
        assertTrue(locations.contains("file:" + tmp.resolve("deliver-results.yaml").toAbsolutePath()));
        assertTrue(!locations.contains("classpath:routes/deliver-results.yaml"));
        assertTrue(locations.contains("classpath:routes/ingest-file.yaml"));
        assertTrue(locations.contains("file:" + tmp.resolve("my-extra.yaml").toAbsolutePath()));
        assertEquals(BridgeMain.BUNDLED_ROUTES.size() + 1, locations.size());
    }
}

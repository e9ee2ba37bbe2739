package id.ktpbridge;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import id.ktpbridge.collect.CollectRoutes;
import id.ktpbridge.submit.SubmitRoutes;
import org.apache.camel.main.Main;

/**
 * Camel Main set up for this bundle: the bundled configuration and YAML routes travel in the jar,
 * and a {@code config/application.properties} or a {@code routes/*.yaml} in the working directory
 * overrides them. Environment variables override any property (Camel's rule).
 */
public class BridgeMain extends Main {

    static final String BUNDLED_ROUTES = "classpath:routes/*.yaml";

    public BridgeMain() {
        this(Map.of());
    }

    /** @param overrides properties that win over every other source (used by tests and tools) */
    public BridgeMain(Map<String, String> overrides) {
        super();
        setPropertyPlaceholderLocations(
                "classpath:application.properties;optional=true,file:config/application.properties;optional=true");
        overrides.forEach(this::addOverrideProperty);
        configure().addConfiguration(new BridgeConfiguration(this));
        configure().addRoutesBuilder(new SubmitRoutes());
        configure().addRoutesBuilder(new CollectRoutes());
        Path localRoutes = Path.of("routes");
        String excluded = localRouteOverrides(localRoutes);
        configure().setRoutesIncludePattern(
                Files.isDirectory(localRoutes) ? BUNDLED_ROUTES + ",file:routes/*.yaml" : BUNDLED_ROUTES);
        if (!excluded.isEmpty()) {
            configure().setRoutesExcludePattern(excluded);
        }
    }

    /** Ends the run with the given exit code (batch mode). */
    public void finish(int code) {
        exitCode.set(code);
        completed();
    }

    /** A local routes/x.yaml replaces the bundled routes/x.yaml of the same name. */
    static String localRouteOverrides(Path localDir) {
        if (!Files.isDirectory(localDir)) {
            return "";
        }
        List<String> names = new ArrayList<>();
        try (Stream<Path> files = Files.list(localDir)) {
            files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".yaml"))
                    .forEach(n -> names.add("classpath:routes/" + n));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot list " + localDir.toAbsolutePath(), e);
        }
        return String.join(",", names);
    }
}

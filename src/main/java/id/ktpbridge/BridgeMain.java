package id.ktpbridge;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.apache.camel.CamelContext;
import org.apache.camel.main.Main;

/**
 * Camel Main set up for this bundle: the bundled configuration and YAML routes travel in the jar,
 * and a {@code config/application.properties} or a {@code routes/*.yaml} in the working directory
 * overrides them. Environment variables override any property (Camel's rule).
 */
public class BridgeMain extends Main {

    /** The YAML routes inside the jar (the {@code routes/} folder of the project). */
    static final List<String> BUNDLED_ROUTES = List.of(
            "ingest-file.yaml", "ingest-sftp.yaml", "ingest-s3.yaml",
            "poll-status.yaml", "callback.yaml", "progress.yaml", "ledger-retention.yaml",
            "sweep-replaced-inputs.yaml",
            "deliver-results.yaml", "deliver-http.yaml", "deliver-jdbc.yaml", "deliver-s3.yaml");

    private volatile String finalReport;

    public BridgeMain() {
        this(Map.of());
    }

    /** @param overrides properties that win over every other source (used by tests and tools) */
    public BridgeMain(Map<String, String> overrides) {
        super();
        // the first location that has a key wins: the working directory's file over the bundled defaults
        setPropertyPlaceholderLocations(
                "file:config/application.properties;optional=true,classpath:application.properties;optional=true");
        overrides.forEach(this::addOverrideProperty);
        configure().addConfiguration(new BundleConfiguration(this));
        configure().setRoutesIncludePattern(routeLocations(Path.of("routes")));
    }

    /**
     * Trimmed settings from the first lookup on: Camel Main reads {@code camel.server.port =
     * {{ktp.callback.port}}} and its like before the bundle's configuration runs (see TrimmedSettings).
     */
    @Override
    protected CamelContext createCamelContext() {
        CamelContext context = super.createCamelContext();
        TrimmedSettings.install(context);
        return context;
    }

    /** Ends the run with the given exit code and a report printed once Camel has shut down (batch mode). */
    public void finish(int code, String report) {
        this.finalReport = report;
        exitCode.set(code);
        completed();
    }

    @Override
    public int run(String[] args) throws Exception {
        int code = super.run(args);
        if (finalReport != null) {
            System.out.print(finalReport);
            System.out.flush();
        }
        return code;
    }

    /**
     * Each bundled route, unless {@code <localDir>/<same name>} replaces it, plus any other YAML
     * route in the local folder.
     */
    static String routeLocations(Path localDir) {
        List<String> locations = new ArrayList<>();
        for (String name : BUNDLED_ROUTES) {
            Path local = localDir.resolve(name);
            locations.add(Files.isRegularFile(local) ? "file:" + local.toAbsolutePath() : "classpath:routes/" + name);
        }
        if (Files.isDirectory(localDir)) {
            try (Stream<Path> files = Files.list(localDir)) {
                files.filter(p -> p.getFileName().toString().endsWith(".yaml"))
                        .filter(p -> !BUNDLED_ROUTES.contains(p.getFileName().toString()))
                        .sorted()
                        .forEach(p -> locations.add("file:" + p.toAbsolutePath()));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot list " + localDir.toAbsolutePath(), e);
            }
        }
        return String.join(",", locations);
    }
}

package id.ktpbridge;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.apache.camel.CamelContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warns about a setting ({@code ktp.*}, {@code gtf.*}, or its {@code KTP_*} / {@code GTF_*}
 * environment variable) that the bundle does not read but that is up to two letters away from
 * one it does (three for long names): {@code ktp.sorce.dir} would otherwise be ignored without a
 * word, and the drop folder the operator meant never read. The settings looked at are those of
 * the properties files, the overrides and the JVM's {@code -D} options. Known are the keys of the
 * bundled properties file, those the routes name (bundled and in the local {@code routes/}
 * folder), and those read at start-up. A key far from every known one is left alone: settings
 * read only with a feature on (the embedded sandbox's, say) are not all known.
 */
public final class UnknownSettings {

    private static final Logger LOG = LoggerFactory.getLogger(UnknownSettings.class);
    private static final Pattern ROUTE_KEY = Pattern.compile("\\{\\{(?:path:)?((?:ktp|gtf)\\.[a-z0-9.-]+)");
    /** The launcher's own variables, which are no settings. */
    private static final Set<String> LAUNCHER_VARIABLES = Set.of("KTP_CDS", "KTP_CDS_DIR", "KTP_HEAP", "KTP_JAR",
            "KTP_JIT");

    private UnknownSettings() {
    }

    static void warn(CamelContext context, Map<String, String> environment) {
        Set<String> known = known(Path.of("routes"));
        // Camel's properties do not list the JVM's -D options, which it reads too
        Set<String> given = new TreeSet<>(context.getPropertiesComponent().loadProperties().stringPropertyNames());
        given.addAll(System.getProperties().stringPropertyNames());
        for (String key : given) {
            if ((key.startsWith("ktp.") || key.startsWith("gtf.")) && !known.contains(key)) {
                nearest(key, known).ifPresent(near -> LOG.warn("Setting '{}' is not one the bundle reads: ignored."
                        + " Did you mean '{}'?", key, near));
            }
        }
        Set<String> knownVariables = new TreeSet<>(LAUNCHER_VARIABLES);
        known.forEach(k -> knownVariables.add(Settings.envName(k)));
        for (String name : new TreeSet<>(environment.keySet())) {
            if ((name.startsWith("KTP_") || name.startsWith("GTF_")) && !knownVariables.contains(name)) {
                nearest(name, knownVariables).ifPresent(near -> LOG.warn("Environment variable {} is not one the"
                        + " bundle reads: ignored. Did you mean {}?", name, near));
            }
        }
    }

    /** @param localRoutes the local folder whose YAML routes the bundle loads too (see {@link BridgeMain}) */
    static Set<String> known(Path localRoutes) {
        Set<String> known = new TreeSet<>(Settings.keysRead());
        Properties bundled = new Properties();
        try (InputStream in = UnknownSettings.class.getResourceAsStream("/application.properties")) {
            if (in != null) {
                bundled.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            LOG.debug("Bundled properties not read: {}", e.getMessage());
        }
        known.addAll(bundled.stringPropertyNames());
        for (String route : BridgeMain.BUNDLED_ROUTES) {
            try (InputStream in = UnknownSettings.class.getResourceAsStream("/routes/" + route)) {
                if (in == null) {
                    continue;
                }
                addRouteKeys(new String(in.readAllBytes(), StandardCharsets.UTF_8), known);
            } catch (IOException e) {
                LOG.debug("Route {} not read: {}", route, e.getMessage());
            }
        }
        if (Files.isDirectory(localRoutes)) {
            try (Stream<Path> files = Files.list(localRoutes)) {
                for (Path route : files.filter(p -> p.getFileName().toString().endsWith(".yaml")).toList()) {
                    addRouteKeys(Files.readString(route, StandardCharsets.UTF_8), known);
                }
            } catch (IOException | java.io.UncheckedIOException e) {
                LOG.debug("Local routes not read: {}", e.getMessage());
            }
        }
        return known;
    }

    private static void addRouteKeys(String route, Set<String> known) {
        Matcher m = ROUTE_KEY.matcher(route);
        while (m.find()) {
            known.add(m.group(1));
        }
    }

    /** The known name at most two edits away (three for long names), if there is one. */
    public static java.util.Optional<String> nearest(String name, Set<String> known) {
        int allowed = name.length() > 20 ? 3 : 2;
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            if (Math.abs(k.length() - name.length()) > allowed) {
                continue;
            }
            int d = distance(name, k);
            if (d <= allowed && d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        return java.util.Optional.ofNullable(best);
    }

    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            int[] t = previous;
            previous = current;
            current = t;
        }
        return previous[b.length()];
    }
}

package id.ktpbridge;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.camel.CamelContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warns about a setting ({@code ktp.*}, {@code gtf.*}, or its {@code KTP_*} / {@code GTF_*}
 * environment variable) that the bundle does not read but that is one or two letters away from
 * one it does: {@code ktp.sorce.dir} would otherwise be ignored without a word, and the drop
 * folder the operator meant never read. Known are the keys of the bundled properties file, those
 * the bundled routes name, and those read at start-up. A key far from every known one is left
 * alone: settings read only with a feature on (an S3 source's region, say) are not all known.
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
        Set<String> known = known();
        for (String key : new TreeSet<>(context.getPropertiesComponent().loadProperties().stringPropertyNames())) {
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

    static Set<String> known() {
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
                Matcher m = ROUTE_KEY.matcher(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                while (m.find()) {
                    known.add(m.group(1));
                }
            } catch (IOException e) {
                LOG.debug("Route {} not read: {}", route, e.getMessage());
            }
        }
        return known;
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

package id.ktpbridge;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import org.apache.camel.CamelContext;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.util.TimeUtils;

/**
 * Typed read access to the bundle's properties. Every value goes through Camel's properties
 * component, so an environment variable ({@code GTF_API_URL} for {@code gtf.api-url}) overrides it.
 */
public final class Settings {

    private final PropertiesComponent properties;

    public Settings(CamelContext context) {
        this.properties = context.getPropertiesComponent();
    }

    /** Every key asked for in this process (see {@link UnknownSettings}). */
    private static final java.util.Set<String> KEYS_READ = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public Optional<String> optional(String key) {
        KEYS_READ.add(key);
        return properties.resolveProperty(key).map(String::trim).filter(v -> !v.isEmpty());
    }

    static java.util.Set<String> keysRead() {
        return java.util.Set.copyOf(KEYS_READ);
    }

    public String string(String key) {
        return optional(key).orElseThrow(() -> new IllegalStateException(
                "Missing required setting '" + key + "' (environment variable " + envName(key) + ")"));
    }

    public String string(String key, String fallback) {
        return optional(key).orElse(fallback);
    }

    public int integer(String key, int fallback) {
        return optional(key).map(v -> parse(key, v, Integer::parseInt)).orElse(fallback);
    }

    public long number(String key, long fallback) {
        return optional(key).map(v -> parse(key, v, Long::parseLong)).orElse(fallback);
    }

    /** {@code true} or {@code false}, case-insensitive; anything else ("yes", "1") stops the start, naming the setting. */
    public boolean flag(String key, boolean fallback) {
        return optional(key).map(v -> {
            if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
                return Boolean.parseBoolean(v);
            }
            throw new IllegalStateException("Setting '" + key + "' (" + envName(key) + ") must be true or false, not '"
                    + v + "'");
        }).orElse(fallback);
    }

    /** One of a fixed set of words, case-insensitive; anything else stops the start, naming the setting. */
    public String choice(String key, String fallback, String... allowed) {
        String value = string(key, fallback);
        for (String a : allowed) {
            if (a.equalsIgnoreCase(value)) {
                return a;
            }
        }
        throw new IllegalStateException("Setting '" + key + "' (" + envName(key) + ") must be "
                + String.join(" or ", allowed) + ", not '" + value + "'");
    }

    /** A number of at least {@code min}, decimals allowed (a rate); anything else stops the start, naming the setting. */
    public double decimal(String key, double fallback, double min) {
        double value = optional(key).map(v -> parse(key, v, Double::parseDouble)).orElse(fallback);
        if (!(value >= min) || Double.isInfinite(value)) {
            throw new IllegalStateException("Setting '" + key + "' (" + envName(key) + ") must be a number of at least "
                    + min + ", not " + value);
        }
        return value;
    }

    /** A rate between 0 and 1; anything else stops the start, naming the setting. */
    public double fraction(String key, double fallback) {
        double value = decimal(key, fallback, 0);
        if (value > 1) {
            throw new IllegalStateException("Setting '" + key + "' (" + envName(key) + ") must be between 0 and 1, not "
                    + value);
        }
        return value;
    }

    /** A regular expression; one that does not compile stops the start, naming the setting. */
    public java.util.regex.Pattern pattern(String key, String fallback, int flags) {
        String value = string(key, fallback);
        try {
            return java.util.regex.Pattern.compile(value, flags);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new IllegalStateException("Setting '" + key + "' (" + envName(key) + "): not a valid regular"
                    + " expression (" + e.getDescription() + ")", e);
        }
    }

    /**
     * Durations accept Camel's forms: plain milliseconds ({@code 1500}) or {@code 2s}, {@code 5m},
     * {@code 1h30m}, {@code 1d}, {@code 500ms}. Anything else stops the start: Camel reads a text
     * without such a unit ({@code 30S}, {@code 1y}, {@code PT30M}) or a negative one with a unit
     * ({@code -5s}) as 0, which for a retention, a deadline or a timeout means something else entirely.
     */
    public Duration duration(String key, Duration fallback) {
        return optional(key).map(v -> {
            if (!DURATION.matcher(v).matches()) {
                throw new IllegalStateException("Setting '" + key + "' (" + envName(key) + ") is no duration: '"
                        + v + "' (use milliseconds, or forms such as 30s, 5m, 1h30m, 7d, 500ms, in lower case)");
            }
            try {
                return Duration.ofMillis(TimeUtils.toMilliSeconds(v));
            } catch (RuntimeException e) {
                throw new IllegalStateException("Setting '" + key + "' (" + envName(key) + ") is no duration: '" + v
                        + "' (use milliseconds, or forms such as 30s, 5m, 1h30m)", e);
            }
        }).orElse(fallback);
    }

    /** Plain milliseconds (a negative number is left to each setting's own check), or units in Camel's order. */
    private static final java.util.regex.Pattern DURATION =
            java.util.regex.Pattern.compile("-?\\d+|(?=\\d)(\\d+d)?(\\d+h)?(\\d+m)?(\\d+s)?(\\d+ms)?");

    public Path path(String key) {
        return Path.of(string(key)).toAbsolutePath().normalize();
    }

    public static String envName(String key) {
        return key.toUpperCase(java.util.Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    private static <T> T parse(String key, String value, java.util.function.Function<String, T> parser) {
        try {
            return parser.apply(value);
        } catch (RuntimeException e) {
            throw new IllegalStateException("Setting '" + key + "' (" + envName(key) + ") has an invalid value: "
                    + value, e);
        }
    }

}

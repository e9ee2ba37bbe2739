package id.ktpbridge;

import org.apache.camel.CamelContext;
import org.apache.camel.component.properties.DefaultPropertiesParser;
import org.apache.camel.component.properties.PropertiesComponent;
import org.apache.camel.component.properties.PropertiesLookup;

/**
 * Every lookup of a bundle setting ({@code ktp.*}, {@code gtf.*}) gives its value without
 * whitespace at either end, the same value {@link Settings} and so the start-up checks see. Camel
 * trims the values of properties files, but not those of environment variables, JVM options or
 * override properties: a {@code KTP_SOURCE_DIR="/data/inbox "} was checked as /data/inbox while
 * the file route polled a new folder "/data/inbox ", and a password with a space at its end let
 * the SFTP start-up check log in and every listing fail. The routes' placeholders, the
 * {@code {{path:...}}} function's and nested ones ({@code {{ktp.data-dir}}/inbox}) all go
 * through here. Camel's parser logs each value it resolves at DEBUG under its class's name, so
 * under this one's: log4j2.properties holds it at INFO, as Camel's own.
 */
final class TrimmedSettings extends DefaultPropertiesParser {

    private TrimmedSettings(PropertiesComponent properties) {
        super(properties);
    }

    /** Installs it on the context's properties component (Camel's own, under every Camel Main runtime). */
    static void install(CamelContext context) {
        if (context.getPropertiesComponent() instanceof PropertiesComponent properties
                && !(properties.getPropertiesParser() instanceof TrimmedSettings)) {
            properties.setPropertiesParser(new TrimmedSettings(properties));
        }
    }

    @Override
    public String parseProperty(String key, String value, PropertiesLookup properties) {
        return value != null && key != null && (key.startsWith("ktp.") || key.startsWith("gtf.")) ? value.trim()
                : value;
    }
}

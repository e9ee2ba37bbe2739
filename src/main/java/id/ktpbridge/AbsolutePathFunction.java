package id.ktpbridge;

import java.nio.file.Path;

import org.apache.camel.CamelContext;
import org.apache.camel.spi.PropertiesFunction;

/**
 * {@code {{path:ktp.source.done-dir}}} resolves a property and makes it an absolute path. The file
 * component reads a relative {@code move}/{@code moveFailed} relative to the source folder, while
 * our folders are relative to the working directory.
 */
final class AbsolutePathFunction implements PropertiesFunction {

    private final CamelContext context;

    AbsolutePathFunction(CamelContext context) {
        this.context = context;
    }

    @Override
    public String getName() {
        return "path";
    }

    @Override
    public String apply(String key) {
        String value = context.resolvePropertyPlaceholders("{{" + key.trim() + "}}");
        return Path.of(value).toAbsolutePath().normalize().toString().replace('\\', '/');
    }
}

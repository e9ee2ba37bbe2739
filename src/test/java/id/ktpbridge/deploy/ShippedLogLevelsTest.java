package id.ktpbridge.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.ConfigurationSource;
import org.apache.logging.log4j.core.config.properties.PropertiesConfigurationFactory;
import org.junit.jupiter.api.Test;

/**
 * The shipped logging configuration holds the third-party loggers that print secrets or personal
 * data below INFO at their pinned levels, also when an operator raises the root, Camel's and the
 * bundle's levels to TRACE.
 */
class ShippedLogLevelsTest {

    private static final Path SHIPPED = Path.of("src/main/resources/log4j2.properties");

    /** A logger of each pinned package (as the libraries name theirs) and its level in the shipped configuration. */
    private static final Map<String, Level> PINNED = Map.ofEntries(
            Map.entry("org.apache.camel.component.properties.DefaultPropertiesParser", Level.INFO),
            Map.entry("org.apache.hc.client5.http.headers", Level.INFO),
            Map.entry("org.apache.hc.client5.http.wire", Level.INFO),
            Map.entry("org.apache.http.wire", Level.INFO),
            Map.entry("org.apache.http.headers", Level.INFO),
            Map.entry("software.amazon.awssdk.request", Level.INFO),
            Map.entry("software.amazon.awssdk.http.auth.aws.internal.signer.DefaultV4RequestSigner", Level.INFO),
            Map.entry("org.apache.camel.component.file.GenericFileConsumer", Level.INFO),
            Map.entry("org.apache.camel.component.file.remote.SftpConsumer", Level.INFO),
            Map.entry("org.apache.camel.util.FileUtil", Level.WARN),
            Map.entry("org.apache.camel.component.file.remote.SftpOperations", Level.ERROR),
            Map.entry("org.apache.camel.component.file.GenericFileOnCompletion", Level.ERROR),
            Map.entry("org.apache.camel.component.aws2.s3.AWS2S3Consumer", Level.ERROR));

    private static Configuration load(byte[] properties) throws IOException {
        Configuration config = new PropertiesConfigurationFactory().getConfiguration(
                new LoggerContext("shipped-log-levels"), new ConfigurationSource(new ByteArrayInputStream(properties)));
        config.initialize();
        return config;
    }

    private static Level level(Configuration config, String logger) {
        return config.getLoggerConfig(logger).getLevel();
    }

    @Test
    void pinnedLoggersKeepTheirLevels() throws IOException {
        Configuration shipped = load(Files.readAllBytes(SHIPPED));
        PINNED.forEach((logger, pinned) -> assertEquals(pinned, level(shipped, logger), logger));
        assertEquals(Level.INFO, level(shipped, "id.ktpbridge.submit.Intake"));
    }

    @Test
    void raisingTheRootCamelAndTheBundleToTraceLeavesThemPinned() throws IOException {
        String raised = Files.readString(SHIPPED) + "\nrootLogger.level = TRACE\n"
                + "logger.operatorcamel.name = org.apache.camel\nlogger.operatorcamel.level = TRACE\n"
                + "logger.operatorbundle.name = id.ktpbridge\nlogger.operatorbundle.level = TRACE\n";
        Configuration config = load(raised.getBytes(StandardCharsets.UTF_8));
        assertEquals(Level.TRACE, level(config, "org.apache.camel.component.bean.BeanProcessor"), "the raise took");
        assertEquals(Level.TRACE, level(config, "id.ktpbridge.submit.Intake"), "the raise took");
        PINNED.forEach((logger, pinned) -> assertEquals(pinned, level(config, logger), logger));
    }
}

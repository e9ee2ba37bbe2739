package id.ktpbridge.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.RecordingHttpServer;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.S3ProxyServer;
import id.ktpbridge.testkit.SampleImages;
import id.ktpbridge.testkit.SftpServer;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.ConfigurationSource;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.config.properties.PropertiesConfigurationFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
            Map.entry("id.ktpbridge.TrimmedSettings", Level.INFO),
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
            Map.entry("org.apache.camel.component.aws2.s3.AWS2S3Consumer", Level.ERROR),
            Map.entry("org.apache.camel.impl.engine.DefaultCamelContextExtension", Level.INFO),
            Map.entry("org.apache.camel.support.EndpointHelper", Level.INFO),
            Map.entry("org.apache.camel.impl.engine.AbstractCamelContext", Level.INFO),
            Map.entry("org.apache.camel.support.DefaultComponent", Level.INFO),
            Map.entry("org.apache.camel.component.aws2.s3.AWS2S3Producer", Level.INFO),
            Map.entry("org.apache.camel.component.http.HttpProducer", Level.INFO),
            Map.entry("org.apache.camel.component.http.HttpComponent", Level.INFO),
            Map.entry("org.apache.camel.component.bean.MethodInfo", Level.INFO),
            Map.entry("org.apache.camel.component.bean.BeanInfo", Level.INFO),
            Map.entry("org.apache.camel.component.sql.DefaultSqlPrepareStatementStrategy", Level.INFO),
            Map.entry("org.apache.camel.component.jdbc.DefaultJdbcPrepareStatementStrategy", Level.INFO),
            Map.entry("org.apache.camel.component.file.remote.strategy.SftpChangedExclusiveReadLockStrategy",
                    Level.INFO),
            Map.entry("org.apache.camel.processor.idempotent.IdempotentConsumer", Level.INFO),
            Map.entry("org.apache.camel.processor.idempotent.IdempotentOnCompletion", Level.INFO),
            Map.entry("org.apache.camel.impl.engine.DefaultUnitOfWork", Level.INFO),
            Map.entry("org.apache.camel.support.UnitOfWorkHelper", Level.INFO));

    @TempDir
    Path tmp;

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

    @Test
    void inputsRunWithCamelAndTheBundleAtTraceLeaveNamesUsersAndSecretsOutOfTheLog() throws Exception {
        String[] raised = {"org.apache.camel", "id.ktpbridge"};
        Level[] before = new Level[raised.length];
        for (int i = 0; i < raised.length; i++) {
            before[i] = LogManager.getLogger(raised[i]).getLevel();
        }
        String sftpPassword = "pw-Hq83kx";
        Set<String> kept = new HashSet<>(Set.of("zq4471", "zs5582", "pq9981", "ps7716", "q7Zs3cr3tQ", sftpPassword,
                "pk-Vb29tw", "zt6693", S3ProxyServer.SECRET_KEY));
        try (RecordingHttpServer http = new RecordingHttpServer();
             SftpServer sftp = SftpServer.start(tmp.resolve("sftp"), "partner", sftpPassword);
             S3ProxyServer s3 = S3ProxyServer.startTransient(tmp.resolve("s3"));
             LogCapture log = new LogCapture()) {
            for (String logger : raised) {
                Configurator.setLevel(logger, Level.TRACE);
            }
            Path sftpInbox = Files.createDirectories(sftp.path("/inbox"));
            Files.writeString(sftpInbox.resolve("zs5582.json"), "{\"partnerUserId\":\"ps7716\"}");
            Files.write(sftpInbox.resolve("zs5582.png"), SampleImages.card("zs5582", "png"));
            String bucket = s3.newBucket("ktp-trace");
            s3.put(bucket, "inbox/zt6693.png", SampleImages.card("zt6693", "png"));
            Map<String, String> settings = new HashMap<>(s3.sourceProperties(bucket));
            // listed again while under way, several times: the duplicate check skips it each time
            settings.put("ktp.source.s3.poll-delay", "100");
            settings.put("gtf.sandbox.faults.latency", "300");
            settings.put("gtf.sandbox.enabled", "true");
            settings.put("gtf.pass-key", "pk-Vb29tw");
            settings.put("ktp.results.targets", "file,http");
            // a partner endpoint that takes its credential in the query
            settings.put("ktp.results.http.url", http.url("/results?access=q7Zs3cr3tQ"));
            settings.put("ktp.source.sftp.enabled", "true");
            settings.put("ktp.source.sftp.host", "127.0.0.1");
            settings.put("ktp.source.sftp.port", String.valueOf(sftp.port()));
            settings.put("ktp.source.sftp.user", "partner");
            settings.put("ktp.source.sftp.password", sftpPassword);
            settings.put("ktp.source.sftp.strict-host-key-checking", "no");
            settings.put("ktp.source.sftp.known-hosts-file", tmp.resolve("no-known-hosts").toString());
            settings.put("ktp.source.sftp.directory", "inbox");
            settings.put("ktp.source.sftp.poll-delay", "200");
            settings.put("ktp.source.sftp.read-lock-min-age", "0");
            try (BridgeApp app = BridgeApp.start(tmp.resolve("data"), settings)) {
                Files.createDirectories(app.inbox());
                Files.writeString(app.inbox().resolve("zq4471.json"), "{\"partnerUserId\":\"pq9981\"}");
                Results.drop(app.inbox(), "zq4471.png", SampleImages.card("zq4471", "png"));
                await().atMost(Duration.ofSeconds(60)).until(() -> http.accepted().size() == 3
                        && Files.exists(app.done().resolve("zq4471.png")));
                assertEquals(Set.of("pq9981", "ps7716", "zt6693"), Results.read(app.results()).stream()
                        .map(r -> r.path("partnerUserId").asText()).collect(Collectors.toSet()));
                // and what OneKYC read from the cards
                List<String> niks = Results.read(app.results()).stream()
                        .flatMap(r -> r.findValuesAsText("nik").stream()).toList();
                assertEquals(3, niks.size(), "each card's NIK: " + niks);
                kept.addAll(niks);
            }
            String text = log.text();
            assertTrue(text.contains("TRACE org.apache.camel."), "the raise took");
            for (String value : kept) {
                String line = log.lineWith(value);
                assertTrue(line == null, value + " is in the log: " + line);
            }
        } finally {
            for (int i = 0; i < raised.length; i++) {
                Configurator.setLevel(raised[i], before[i]);
            }
        }
    }
}

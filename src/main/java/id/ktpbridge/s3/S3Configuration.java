package id.ktpbridge.s3;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import id.ktpbridge.Settings;
import id.ktpbridge.submit.Intake;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.Registry;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Wiring of the S3 source ({@code routes/ingest-s3.yaml}) and the S3 result target
 * ({@code routes/deliver-s3.yaml}): one S3 client each, built from {@code ktp.source.s3.*} and
 * {@code ktp.results.s3.*}, and the beans the routes use. When the source is enabled, or
 * {@code ktp.results.targets} names {@code s3}, its settings are validated and its buckets checked
 * before anything else starts; a problem stops the bundle with a message naming the setting (but a
 * results store that is down at start is only a warning: see {@link S3BucketCheck#requireResultsBucket}).
 */
public class S3Configuration implements CamelConfiguration {

    static final String SOURCE = "ktp.source.s3";
    static final String RESULTS = "ktp.results.s3";
    /** Longest a start-up bucket check may take (all SDK attempts together). */
    static final Duration CHECK_TIMEOUT = Duration.ofSeconds(10);

    private static final Logger LOG = LoggerFactory.getLogger(S3Configuration.class);

    @Override
    public void configure(CamelContext context) throws Exception {
        Settings s = new Settings(context);
        Registry registry = context.getRegistry();
        configureSource(context, s, registry);
        configureResults(context, s, registry);
    }

    private static void configureSource(CamelContext context, Settings s, Registry registry) {
        S3Connection connection = S3Connection.read(s, SOURCE);
        boolean enabled = s.flag(SOURCE + ".enabled", false);
        String bucket = s.optional(SOURCE + ".bucket").orElse(null);
        String prefix = s.optional(SOURCE + ".prefix").orElse("");
        String afterSuccess = s.string(SOURCE + ".after-success", "move").toLowerCase(Locale.ROOT);
        String processedBucket = s.optional(SOURCE + ".processed-bucket").orElse(null);
        String processedPrefix = s.optional(SOURCE + ".processed-prefix").orElse("");
        String failedBucket = s.optional(SOURCE + ".failed-bucket").orElse(null);
        String failedPrefix = s.optional(SOURCE + ".failed-prefix").orElse("");
        Pattern include = include(s);
        int batchSize = s.integer(SOURCE + ".batch-size", s.integer("ktp.concurrency", 8));

        if (enabled) {
            connection.validate();
            if (bucket == null) {
                throw new IllegalStateException("Missing required setting " + connection.setting("bucket")
                        + ": the bucket the S3 source takes KTP images from");
            }
            if (!afterSuccess.equals("move") && !afterSuccess.equals("delete")) {
                throw new IllegalStateException(connection.setting("after-success") + " must be 'move' or 'delete', not '"
                        + afterSuccess + "'");
            }
            if (batchSize < 1) {
                throw new IllegalStateException(connection.setting("batch-size") + " must be at least 1");
            }
            if (prefix.startsWith("/")) {
                // legal, and some uploaders write such keys, but AWS's and MinIO's consoles do not: a
                // source that never takes anything is then explained in the log
                LOG.warn("{} '{}' starts with a slash: keys made through the usual tools and consoles have none"
                        + " (the console's folder inbox is the prefix inbox/); if nothing is ever taken, write it"
                        + " without", connection.setting("prefix"), prefix);
            }
            if (afterSuccess.equals("move")) {
                requireApart(connection, bucket, prefix, processedBucket, "processed", processedPrefix);
            }
            requireApart(connection, bucket, prefix, failedBucket, "failed", failedPrefix);
        }

        S3Client client = enabled ? new UnreadableObjects(connection.client(Math.max(50, 2 * batchSize)),
                s.duration(SOURCE + ".broken-read-window", Intake.DEFAULT_BROKEN_READ_WINDOW))
                : OfflineS3Client.create("The S3 source is off (ktp.source.s3.enabled=false)");
        closeOnStop(context, client);
        if (enabled) {
            Set<String> checked = new HashSet<>();
            checkOnce(checked, client, connection, "bucket", bucket);
            if (afterSuccess.equals("move") && processedBucket != null) {
                checkOnce(checked, client, connection, "processed-bucket", processedBucket);
            }
            if (failedBucket != null) {
                checkOnce(checked, client, connection, "failed-bucket", failedBucket);
            }
            LOG.info("S3 source on: bucket '{}', prefix '{}', after success: {}, {}", bucket, prefix, afterSuccess,
                    connection);
        }
        S3PollGate gate = new S3PollGate(Duration.ofMinutes(1));
        registry.bind("s3SourceClient", S3Client.class, client);
        registry.bind("s3SourceGate", gate);
        if (enabled) {
            // whether the objects of inputs left waiting are still in the bucket (ReplacedInputs' sweep)
            registry.bind("s3GoneCheck", new S3GoneCheck(client, CHECK_TIMEOUT));
        }
        registry.bind("s3Source", new S3Source(context, client, gate, prefix, include, afterSuccess.equals("delete"),
                processedBucket, processedPrefix, failedBucket, failedPrefix));
    }

    private static void configureResults(CamelContext context, Settings s, Registry registry) {
        S3Connection connection = S3Connection.read(s, RESULTS);
        boolean enabled = Arrays.stream(s.string("ktp.results.targets", "file").split(","))
                .map(String::trim).anyMatch("s3"::equals);
        if (enabled) {
            connection.validate();
            if (s.optional(RESULTS + ".bucket").isEmpty()) {
                throw new IllegalStateException("Missing required setting " + connection.setting("bucket")
                        + ": the bucket of the s3 result target (ktp.results.targets names s3)");
            }
        }
        S3Client client = enabled ? connection.client(50)
                : OfflineS3Client.create("The S3 result target is off (ktp.results.targets does not name s3)");
        closeOnStop(context, client);
        if (enabled) {
            String bucket = s.string(RESULTS + ".bucket");
            // a store that is down only holds up the deliveries to it: the outbox retries them
            S3BucketCheck.requireResultsBucket(client, connection, RESULTS + ".bucket", bucket, CHECK_TIMEOUT);
            LOG.info("S3 result target on: bucket '{}', prefix '{}', {}", bucket,
                    s.optional(RESULTS + ".prefix").orElse(""), connection);
        }
        registry.bind("s3ResultsClient", S3Client.class, client);
    }

    private static void checkOnce(Set<String> checked, S3Client client, S3Connection connection, String setting,
                                  String bucket) {
        if (checked.add(bucket)) {
            // the source bucket is listed; the processed and failed buckets are only written to
            S3BucketCheck.requireBucket(client, connection, connection.key(setting), bucket, CHECK_TIMEOUT,
                    !setting.equals("bucket"));
        }
    }

    private static Pattern include(Settings s) {
        String regex = s.optional(SOURCE + ".include").orElseGet(() -> s.string("ktp.source.include"));
        try {
            return Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new IllegalStateException("Setting '" + SOURCE + ".include' (" + Settings.envName(SOURCE + ".include")
                    + ") is not a valid regular expression: " + e.getDescription());
        }
    }

    /**
     * Moved objects must not land where the source lists: in the same bucket, neither prefix may
     * contain the other (an empty prefix contains everything).
     */
    private static void requireApart(S3Connection c, String bucket, String prefix, String toBucket, String kind,
                                     String toPrefix) {
        if (toBucket != null && !toBucket.equals(bucket)) {
            return;
        }
        if (toPrefix.startsWith(prefix) || prefix.startsWith(toPrefix)) {
            throw new IllegalStateException(c.key(kind + "-prefix") + " '" + toPrefix + "' and " + c.key("prefix") + " '"
                    + prefix + "' overlap in bucket '" + bucket + "': objects moved there would be taken again. Use"
                    + " prefixes apart (e.g. inbox/ and " + kind + "/) or another bucket (" + c.key(kind + "-bucket") + ")");
        }
    }

    private static void closeOnStop(CamelContext context, S3Client client) {
        try {
            context.addService(new ServiceSupport() {
                @Override
                protected void doStop() {
                    client.close();
                }
            });
        } catch (Exception e) {
            client.close();
            throw new IllegalStateException(e);
        }
    }
}

package id.ktpbridge.s3;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

import id.ktpbridge.Settings;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * How to reach one S3 store: the {@code <base>.region}, {@code .endpoint}, {@code .path-style},
 * {@code .access-key}, {@code .secret-key}, {@code .use-default-credentials},
 * {@code .connect-timeout} and {@code .read-timeout} properties under a base such as
 * {@code ktp.source.s3}. An access key and secret key, when set, are used; otherwise the default
 * AWS credentials chain, if {@code .use-default-credentials=true}. The secret key is only handed to the AWS SDK; it is in no message and
 * no {@link #toString()}.
 */
public final class S3Connection {

    private final String base;
    private final String region;
    private final String endpoint;
    private final boolean pathStyle;
    private final String accessKey;
    private final String secretKey;
    private final boolean defaultCredentials;
    private final Duration connectTimeout;
    private final Duration readTimeout;

    private S3Connection(String base, String region, String endpoint, boolean pathStyle, String accessKey,
                         String secretKey, boolean defaultCredentials, Duration connectTimeout, Duration readTimeout) {
        this.base = base;
        this.region = region;
        this.endpoint = endpoint;
        this.pathStyle = pathStyle;
        this.accessKey = accessKey;
        this.secretKey = secretKey;
        this.defaultCredentials = defaultCredentials;
        this.connectTimeout = connectTimeout;
        this.readTimeout = readTimeout;
    }

    /** @param base property prefix without the trailing dot, e.g. {@code ktp.source.s3} */
    public static S3Connection read(Settings s, String base) {
        return new S3Connection(base,
                s.optional(base + ".region").orElse(null),
                s.optional(base + ".endpoint").orElse(null),
                s.flag(base + ".path-style", false),
                s.optional(base + ".access-key").orElse(null),
                s.optional(base + ".secret-key").orElse(null),
                s.flag(base + ".use-default-credentials", false),
                s.duration(base + ".connect-timeout", Duration.ofSeconds(5)),
                s.duration(base + ".read-timeout", Duration.ofSeconds(30)));
    }

    /** The property {@code <base>.<name>}. */
    public String key(String name) {
        return base + "." + name;
    }

    /** {@code <base>.<name> (<ENV_NAME>)}, the way messages name a setting. */
    public String setting(String name) {
        return key(name) + " (" + Settings.envName(key(name)) + ")";
    }

    public String region() {
        return region;
    }

    public String endpoint() {
        return endpoint;
    }

    /** Rejects settings that cannot work, naming the property; called only when the connection is used. */
    public void validate() {
        if (region == null) {
            throw new IllegalStateException("Missing required setting " + setting("region")
                    + ": the S3 region, e.g. ap-southeast-3 (any value a S3-compatible store accepts)");
        }
        if (endpoint != null && endpoint.contains("@")) {
            // not quoted: the user:password@ in it would be written to the log
            throw new IllegalStateException(setting("endpoint") + " must not carry a user or password (the keys go in "
                    + setting("access-key") + " and " + setting("secret-key") + "), e.g. http://minio:9000");
        }
        if (endpoint != null && !validEndpoint()) {
            throw new IllegalStateException(setting("endpoint") + " '" + endpoint
                    + "' must be a base URL (scheme, host and port), e.g. http://minio:9000");
        }
        boolean hasAccess = accessKey != null;
        boolean hasSecret = secretKey != null;
        if (hasAccess != hasSecret) {
            throw new IllegalStateException("Missing required setting "
                    + setting(hasAccess ? "secret-key" : "access-key") + ": the access key and the secret key go together");
        }
        if (!defaultCredentials && !hasAccess) {
            throw new IllegalStateException("No S3 credentials: set " + setting("access-key") + " and "
                    + setting("secret-key") + ", or " + key("use-default-credentials")
                    + "=true to use the default AWS credentials (environment, profile, web identity, instance role)");
        }
    }

    private boolean validEndpoint() {
        URI uri;
        try {
            uri = URI.create(endpoint);
        } catch (IllegalArgumentException e) {
            return false;
        }
        return uri.getHost() != null && uri.getScheme() != null && uri.getRawUserInfo() == null
                && uri.getScheme().toLowerCase(Locale.ROOT).matches("https?")
                && (uri.getRawPath() == null || uri.getRawPath().isEmpty() || "/".equals(uri.getRawPath()))
                && uri.getRawQuery() == null;
    }

    /** The access key and secret key when both are set, else the default AWS chain (if allowed). */
    private boolean staticKeys() {
        return accessKey != null && secretKey != null;
    }

    /** What the credentials are, for messages: names the settings, never a value. */
    String credentialsDescription() {
        return !staticKeys()
                ? "the default AWS credentials (" + key("use-default-credentials") + "=true)"
                : "the credentials " + key("access-key") + " / " + key("secret-key") + " ("
                        + Settings.envName(key("access-key")) + " / " + Settings.envName(key("secret-key")) + ")";
    }

    /**
     * A client for these settings. With an endpoint override (MinIO, Alibaba OSS, ...) checksums
     * are only sent where S3 requires them, as not every S3-compatible store accepts the newer
     * checksum headers. Cut-off listings name where they go on ({@link ListingResumePoint}).
     */
    public S3Client client(int maxConnections) {
        return client(maxConnections, List.of());
    }

    /**
     * As {@link #client(int)}, with {@code nearWire} seeing each response before the bundle's own
     * interceptors do (the SDK hands responses to the last one added first): a test's way to make
     * a store answer as AWS does.
     */
    S3Client client(int maxConnections, List<ExecutionInterceptor> nearWire) {
        ClientOverrideConfiguration.Builder overrides = ClientOverrideConfiguration.builder()
                .addExecutionInterceptor(new ListingResumePoint());
        nearWire.forEach(overrides::addExecutionInterceptor);
        S3ClientBuilder b = S3Client.builder()
                .overrideConfiguration(overrides.build())
                .region(Region.of(region == null ? "us-east-1" : region))
                .credentialsProvider(credentials())
                .forcePathStyle(pathStyle)
                .httpClientBuilder(ApacheHttpClient.builder()
                        .connectionTimeout(connectTimeout)
                        .socketTimeout(readTimeout)
                        .maxConnections(maxConnections));
        if (endpoint != null && validEndpoint()) {
            b.endpointOverride(URI.create(endpoint))
                    .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        }
        return b.build();
    }

    private AwsCredentialsProvider credentials() {
        if (staticKeys()) {
            return StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey));
        }
        return DefaultCredentialsProvider.builder().build();
    }

    @Override
    public String toString() {
        return base + "[region=" + region + ", endpoint=" + endpoint + ", pathStyle=" + pathStyle + ", credentials="
                + (staticKeys() ? "access-key" : defaultCredentials ? "default-chain" : "none") + "]";
    }
}

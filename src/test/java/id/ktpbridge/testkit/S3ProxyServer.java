package id.ktpbridge.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A real S3 API for tests: S3Proxy (https://github.com/gaul/s3proxy) run as a child process
 * ({@code java -jar}; its jar is never on a classpath) on a free loopback port, with signature
 * checking on (AWS V2/V4, identity {@link #ACCESS_KEY} / credential {@link #SECRET_KEY}). Storage is
 * in memory ({@link #startTransient}) or in a folder ({@link #startFilesystem}). Start one per test
 * class and use a fresh bucket per test ({@link #newBucket}); {@link #close} kills the process, and
 * {@link #startAgain} starts it again on the same endpoint (an outage of the store).
 *
 * <p>The jar comes from the system property {@code s3proxy.jar}, which the Maven build sets.
 */
public final class S3ProxyServer implements AutoCloseable {

    public static final String ACCESS_KEY = "ktp-test-access-key";
    public static final String SECRET_KEY = "ktp-test-secret-3f9c1e7a2b";
    public static final String REGION = "us-east-1";

    private final Process process;
    private final URI endpoint;
    private final Path log;
    private final S3Client client;

    private S3ProxyServer(Process process, URI endpoint, Path log) {
        this.process = process;
        this.endpoint = endpoint;
        this.log = log;
        this.client = S3Client.builder()
                .region(Region.of(REGION))
                .endpointOverride(endpoint)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .build();
    }

    /** Objects kept in memory; {@code workDir} holds the configuration and the log. */
    public static S3ProxyServer startTransient(Path workDir) {
        return start(workDir, Map.of("jclouds.provider", "transient"));
    }

    /** Objects kept as files under {@code workDir/blobs}. */
    public static S3ProxyServer startFilesystem(Path workDir) {
        Path blobs = workDir.resolve("blobs");
        try {
            Files.createDirectories(blobs);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return start(workDir, Map.of("jclouds.provider", "filesystem", "jclouds.filesystem.basedir", blobs.toString()));
    }

    private static S3ProxyServer start(Path workDir, Map<String, String> backend) {
        String jar = System.getProperty("s3proxy.jar");
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException("S3Proxy jar not found (system property s3proxy.jar = " + jar
                    + "); run the tests through Maven, which copies it during process-test-resources");
        }
        int port = BridgeApp.freePort();
        URI endpoint = URI.create("http://127.0.0.1:" + port);
        Properties conf = new Properties();
        conf.setProperty("s3proxy.endpoint", endpoint.toString());
        conf.setProperty("s3proxy.authorization", "aws-v2-or-v4");
        conf.setProperty("s3proxy.identity", ACCESS_KEY);
        conf.setProperty("s3proxy.credential", SECRET_KEY);
        conf.setProperty("jclouds.identity", ACCESS_KEY);
        conf.setProperty("jclouds.credential", SECRET_KEY);
        backend.forEach(conf::setProperty);
        try {
            Files.createDirectories(workDir);
            try (var out = Files.newBufferedWriter(workDir.resolve("s3proxy.conf"), StandardCharsets.UTF_8)) {
                conf.store(out, "S3Proxy for tests");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return launch(jar, workDir, endpoint);
    }

    /**
     * The server {@linkplain #close closed} in {@code workDir} started again: the same endpoint, and
     * the same objects if they were {@linkplain #startFilesystem kept in a folder} (a store back after
     * an outage).
     */
    public static S3ProxyServer startAgain(Path workDir) {
        Properties conf = new Properties();
        try (var in = Files.newBufferedReader(workDir.resolve("s3proxy.conf"), StandardCharsets.UTF_8)) {
            conf.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return launch(System.getProperty("s3proxy.jar"), workDir, URI.create(conf.getProperty("s3proxy.endpoint")));
    }

    private static S3ProxyServer launch(String jar, Path workDir, URI endpoint) {
        try {
            Path confFile = workDir.resolve("s3proxy.conf");
            Path log = workDir.resolve("s3proxy.log");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-jar", jar, "--properties", confFile.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            pb.environment().put("LOG_LEVEL", "warn");
            Process process = pb.start();
            // should a test run end without close(), the child does not outlive it
            Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly, "s3proxy-reaper"));
            S3ProxyServer server = new S3ProxyServer(process, endpoint, log);
            server.awaitReady(Duration.ofSeconds(60));
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void awaitReady(Duration timeout) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("S3Proxy exited with " + process.exitValue() + ": " + logTail());
            }
            try {
                // any answer will do (403 without a signature): the server is up
                http.send(HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(2)).GET().build(),
                        HttpResponse.BodyHandlers.discarding());
                return;
            } catch (IOException e) {
                pause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        close();
        throw new IllegalStateException("S3Proxy did not answer within " + timeout + ": " + logTail());
    }

    public URI endpoint() {
        return endpoint;
    }

    /** A client signed with the test identity, path-style. */
    public S3Client client() {
        return client;
    }

    /** Creates a bucket with a unique name starting with {@code hint}. */
    public String newBucket(String hint) {
        String bucket = (hint + "-" + UUID.randomUUID().toString().substring(0, 8)).toLowerCase(java.util.Locale.ROOT);
        client.createBucket(r -> r.bucket(bucket));
        return bucket;
    }

    public void put(String bucket, String key, byte[] content) {
        put(bucket, key, content, Map.of());
    }

    public void put(String bucket, String key, byte[] content, Map<String, String> userMetadata) {
        client.putObject(r -> r.bucket(bucket).key(key).metadata(userMetadata), RequestBody.fromBytes(content));
    }

    public Optional<byte[]> get(String bucket, String key) {
        try {
            return Optional.of(client.getObjectAsBytes(r -> r.bucket(bucket).key(key)).asByteArray());
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        }
    }

    /** Keys under {@code prefix}, sorted. */
    public List<String> keys(String bucket, String prefix) {
        // URL-encoded on the wire (the SDK decodes them): a key with a control character is no valid XML
        return client.listObjectsV2Paginator(r -> r.bucket(bucket).prefix(prefix)
                        .encodingType(software.amazon.awssdk.services.s3.model.EncodingType.URL)).contents().stream()
                .map(S3Object::key).sorted().toList();
    }

    /**
     * Connection properties of the bundle for this server, under {@code base} (e.g.
     * {@code ktp.source.s3} or {@code ktp.results.s3}).
     */
    public Map<String, String> connectionProperties(String base) {
        Map<String, String> p = new HashMap<>();
        p.put(base + ".endpoint", endpoint.toString());
        p.put(base + ".path-style", "true");
        p.put(base + ".region", REGION);
        p.put(base + ".access-key", ACCESS_KEY);
        p.put(base + ".secret-key", SECRET_KEY);
        return p;
    }

    /** The bundle's S3 source switched on, over {@code bucket} of this server. */
    public Map<String, String> sourceProperties(String bucket) {
        Map<String, String> p = connectionProperties("ktp.source.s3");
        p.put("ktp.source.s3.enabled", "true");
        p.put("ktp.source.s3.bucket", bucket);
        return p;
    }

    private String logTail() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        client.close();
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}

package id.ktpbridge.s3;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicInteger;

import id.ktpbridge.Settings;
import id.ktpbridge.testkit.S3ProxyServer;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.aws2.s3.AWS2S3Constants;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkResponse;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListObjectsRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsResponse;

/**
 * Camel's S3 consumer, as the S3 source configures it (a prefix, no delimiter, a few keys per
 * listing, objects left in place), over a store that answers listings as AWS S3 does: without
 * {@code NextMarker} when no delimiter is given. S3Proxy always sends it, so the test takes it out.
 */
class S3ListingPagesTest {

    private static final List<String> KEYS = List.of("inbox/a-readme.txt", "inbox/b-notes.txt", "inbox/c/1.png",
            "inbox/c/2.png", "inbox/d.png");

    private static S3ProxyServer s3;
    private static String bucket;

    @BeforeAll
    static void startS3(@TempDir Path s3Dir) {
        s3 = S3ProxyServer.startTransient(s3Dir);
        bucket = s3.newBucket("ktp-pages");
        KEYS.forEach(key -> s3.put(bucket, key, key.getBytes(StandardCharsets.UTF_8)));
    }

    @AfterAll
    static void stopS3() {
        if (s3 != null) {
            s3.close();
        }
    }

    @Test
    void everyKeyIsReachedWhenTheStoreNamesNoNextPage() throws Exception {
        AwsStyleListings aws = new AwsStyleListings();
        try (CamelContext camel = new DefaultCamelContext()) {
            camel.getPropertiesComponent().setInitialProperties(asProperties(s3.connectionProperties("ktp.source.s3")));
            S3Client client = S3Connection.read(new Settings(camel), "ktp.source.s3").client(4, List.of(aws));
            Set<String> seen = consume(camel, client);
            await().atMost(Duration.ofSeconds(20)).until(() -> seen.size() == KEYS.size());
            assertEquals(Set.copyOf(KEYS), seen);
        }
    }

    /** Shows the store above is AWS-like enough: without the resume point, the first page is all there is. */
    @Test
    void aPlainClientStaysOnTheFirstPageOfSuchAStore() throws Exception {
        AwsStyleListings aws = new AwsStyleListings();
        try (CamelContext camel = new DefaultCamelContext();
             S3Client client = S3Client.builder()
                     .region(Region.of(S3ProxyServer.REGION))
                     .endpointOverride(s3.endpoint())
                     .forcePathStyle(true)
                     .credentialsProvider(StaticCredentialsProvider.create(
                             AwsBasicCredentials.create(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)))
                     .overrideConfiguration(o -> o.addExecutionInterceptor(aws))
                     .build()) {
            Set<String> seen = consume(camel, client);
            await().atMost(Duration.ofSeconds(20)).until(() -> aws.listings.get() >= 10);
            assertEquals(Set.of("inbox/a-readme.txt", "inbox/b-notes.txt"), seen);
        }
    }

    /** Two keys per listing, nothing moved or deleted: every listing sees the non-images again. */
    private static Set<String> consume(CamelContext camel, S3Client client) throws Exception {
        Set<String> seen = new ConcurrentSkipListSet<>();
        camel.getRegistry().bind("pagesClient", client);
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("aws2-s3:" + bucket + "?amazonS3Client=#pagesClient&prefix=inbox/&maxMessagesPerPoll=2&delay=50"
                        + "&deleteAfterRead=false&moveAfterRead=false&includeBody=false&autocloseBody=true")
                        .process(e -> seen.add(e.getMessage().getHeader(AWS2S3Constants.KEY, String.class)));
            }
        });
        camel.start();
        return seen;
    }

    private static java.util.Properties asProperties(java.util.Map<String, String> map) {
        java.util.Properties p = new java.util.Properties();
        p.putAll(map);
        return p;
    }

    /** Answers object listings without a delimiter the way AWS S3 does: no {@code NextMarker}. */
    private static final class AwsStyleListings implements ExecutionInterceptor {
        final AtomicInteger listings = new AtomicInteger();

        @Override
        public SdkResponse modifyResponse(Context.ModifyResponse context, ExecutionAttributes attributes) {
            if (context.response() instanceof ListObjectsResponse page
                    && context.request() instanceof ListObjectsRequest request && request.delimiter() == null) {
                listings.incrementAndGet();
                return page.toBuilder().nextMarker(null).build();
            }
            return context.response();
        }
    }
}

package id.ktpbridge.s3;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import id.ktpbridge.ingest.SourceRelease;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.submit.WorkItem;
import id.ktpbridge.testkit.S3ProxyServer;
import org.apache.camel.CamelContext;
import org.apache.camel.Consumer;
import org.apache.camel.Endpoint;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.aws2.s3.AWS2S3Constants;
import org.apache.camel.component.aws2.s3.AWS2S3Endpoint;
import org.apache.camel.impl.DefaultCamelContext;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gate between listings, with Camel's S3 consumer and the completion steps of route
 * {@code ingest-s3}, in its order: the gate counts the object before the hand-over to a worker,
 * {@link SourceRelease} tracks it on the worker.
 */
class S3PollGateTest {

    private static S3ProxyServer s3;

    @BeforeAll
    static void startS3(@TempDir Path s3Dir) {
        s3 = S3ProxyServer.startTransient(s3Dir);
    }

    @AfterAll
    static void stopS3() {
        if (s3 != null) {
            s3.close();
        }
    }

    @Test
    void theNextListingWaitsUntilTheObjectsReleaseIsWrittenAndItsInProgressMarkIsGone() throws Exception {
        String bucket = s3.newBucket("ktp-gate");
        List<String> keys = List.of("inbox/u6001.png", "inbox/u6002.png", "inbox/u6003.png");
        keys.forEach(key -> s3.put(bucket, key, key.getBytes(StandardCharsets.UTF_8)));
        AtomicInteger taken = new AtomicInteger();
        AtomicInteger released = new AtomicInteger();
        // a ledger a little slow to write the release (a busy database)
        Ledger ledger = new Ledger(JdbcConnectionPool.create("jdbc:h2:mem:gate-" + UUID.randomUUID(), "sa", "")) {
            @Override
            public void markReleased(String id) {
                try {
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                released.incrementAndGet();
            }
        };
        SourceRelease release = new SourceRelease(ledger, 0, 10);
        // what the next listing would meet, as it begins
        List<String> atBegin = new CopyOnWriteArrayList<>();
        S3PollGate gate = new S3PollGate(Duration.ofMinutes(1)) {
            @Override
            public boolean begin(Consumer consumer, Endpoint endpoint) {
                boolean go = super.begin(consumer, endpoint);
                if (!go) {
                    return false;
                }
                long marked = keys.stream()
                        .filter(((AWS2S3Endpoint) endpoint).getInProgressRepository()::contains).count();
                atBegin.add((taken.get() - released.get()) + " release(s) not written, " + marked + " key(s) in progress");
                return true;
            }
        };
        try (CamelContext camel = new DefaultCamelContext()) {
            camel.getRegistry().bind("gateClient", s3.client());
            camel.getRegistry().bind("gate", gate);
            camel.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    // the objects stay in place (as one whose move failed for a passing reason): every
                    // listing takes them again
                    from("aws2-s3:" + bucket + "?amazonS3Client=#gateClient&prefix=inbox/&maxMessagesPerPoll=10"
                            + "&delay=50&deleteAfterRead=false&moveAfterRead=false&includeBody=false"
                            + "&autocloseBody=true&pollStrategy=#gate")
                            .process(gate::track)
                            .threads(3)
                            .process(release::track)
                            .process(e -> {
                                taken.incrementAndGet();
                                e.setProperty(WorkItem.LEDGER_ID, e.getMessage().getHeader(AWS2S3Constants.KEY));
                                SourceRelease.letGo(e);
                            });
                }
            });
            camel.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> released.get() >= 3 * keys.size());
        }
        // the first listing's, and every one after the objects of the one before are done
        assertEquals(List.of("0 release(s) not written, 0 key(s) in progress"), atBegin.stream().distinct().toList());
    }
}

package id.ktpbridge.ledger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import javax.sql.DataSource;

import id.ktpbridge.result.DeliveryStore;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.PostgresServer;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ledger, idempotent repositories and outbox on PostgreSQL instead of the embedded H2. */
class PostgresLedgerTest {

    @TempDir
    Path dataDir;

    @Test
    void theWholeFlowRunsWithTheLedgerOnPostgresql() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            String url = pg.createDatabase("ktp_ledger");
            Map<String, String> props = Map.of("ktp.db.url", url, "ktp.db.user", "postgres",
                    "ktp.results.targets", "file,jdbc", "ktp.source.read-lock-min-age", "100");
            try (BridgeApp app = BridgeApp.start(dataDir, props)) {
                Results.drop(app.inbox(), "u9101.png", SampleImages.card("a", "png"));
                Results.drop(app.inbox(), "u9102-notektp.jpg", SampleImages.card("b", "jpg"));
                Results.drop(app.inbox(), "u9103.jpg", "not an image".getBytes());
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 3);
                // the same bytes again under another name: the content claim on PostgreSQL
                Results.drop(app.inbox(), "u9104.png", SampleImages.card("a", "png"));
                await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 4);
                assertEquals("DUPLICATE_CONTENT", Results.bySourceFile(app.results()).get("u9104.png")
                        .path("reasonCode").asText());
                await().atMost(Duration.ofSeconds(10)).until(() -> app.ledger().openCounts().isEmpty());
                assertEquals(Map.of("DELIVERED", 2, "REJECTED", 2), app.ledger().stateCounts());
            }
            // a restart on the same database finds its schema migrated and its rows
            try (BridgeApp again = BridgeApp.start(dataDir, props)) {
                assertEquals(4, again.ledger().createdSince(0).size());
                assertEquals(Map.of("DELIVERED", 2, "REJECTED", 2), again.ledger().stateCounts());
                // the retention's statements on PostgreSQL: everything has ended and been delivered
                LedgerRetention retention = again.bean("ledgerRetention", LedgerRetention.class);
                assertEquals(4, retention.purgeEndedBefore(System.currentTimeMillis() + 1));
                assertEquals(0, again.ledger().createdSince(0).size());

                String id = UUID.randomUUID().toString();
                again.ledger().insert(LedgerTest.input(id, id + ".png"), SubmissionState.RECEIVED);
                LedgerTest.assertDeferralRuns(again.ledger(), id);

                // claims and leases two instances contest, as each poll of a cluster does
                DataSource ds = again.bean("ktpDataSource", DataSource.class);

                // error texts with a NUL (a binary error page), which PostgreSQL refuses in text, are still recorded
                DeliveryStore deliveries = new DeliveryStore(ds);
                deliveries.enqueue(id, List.of("http"), 60_000);
                deliveries.refused(id, "http", "HTTP 400 \u0000\u0001binary");
                assertEquals(Map.of(DeliveryStore.REFUSED, 1), deliveries.counts().get("http"));
                String other = UUID.randomUUID().toString();
                again.ledger().insert(LedgerTest.input(other, other + ".png"), SubmissionState.RECEIVED);
                assertTrue(again.ledger().markEnded(other, SubmissionState.FAILED, "GTF_PRESIGN_FAILED",
                        "refused: \u0000"));

                assertTrue(new LedgerIdempotentRepository(ds, "s3", 60_000, "node-a").add("in/u9105.png"));
                assertFalse(new LedgerIdempotentRepository(ds, "s3", 60_000, "node-b").add("in/u9105.png"));
                // and at the same moment, as two replicas meet one new object in their listings: six
                // threads of their own (a pool with fewer would never fill the barrier)
                java.util.concurrent.ExecutorService nodes = java.util.concurrent.Executors.newFixedThreadPool(6);
                for (int round = 0; round < 40; round++) {
                    String key = "in/u9106-" + round + ".png";
                    java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(6);
                    List<java.util.concurrent.CompletableFuture<Boolean>> claims = new java.util.ArrayList<>();
                    for (int node = 0; node < 6; node++) {
                        LedgerIdempotentRepository repo = new LedgerIdempotentRepository(ds, "s3", 60_000, "node-" + node);
                        claims.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                            try {
                                start.await(10, java.util.concurrent.TimeUnit.SECONDS);
                            } catch (Exception e) {
                                throw new IllegalStateException(e);
                            }
                            return repo.add(key);
                        }, nodes));
                    }
                    assertEquals(1, claims.stream().filter(java.util.concurrent.CompletableFuture::join).count(), key);
                }
                nodes.shutdownNow();
                // an SFTP file left in its folder after its claim's confirm: taken again once its holder
                // cannot be moving it any more, or at once by a single instance's start
                String unmoved = UUID.randomUUID().toString();
                again.ledger().insert(LedgerTest.input(unmoved, unmoved + ".png"), SubmissionState.RECEIVED);
                LedgerIdempotentRepository sftpA = new LedgerIdempotentRepository(ds, "sftp", 60_000, "node-a");
                LedgerIdempotentRepository sftpB = new LedgerIdempotentRepository(ds, "sftp", 60_000, "node-b");
                assertTrue(sftpA.add("in/u9107.png:10:1"));
                sftpA.settles("in/u9107.png:10:1", unmoved);
                assertTrue(sftpA.confirm("in/u9107.png:10:1"));
                assertFalse(sftpB.add("in/u9107.png:10:1"), "just confirmed");
                try (var c = ds.getConnection(); var st = c.createStatement()) {
                    st.executeUpdate("UPDATE ktp_processed_input SET confirmed_at = confirmed_at - 120000");
                }
                assertTrue(sftpB.add("in/u9107.png:10:1"), "confirmed two times to live ago, never moved");
                sftpB.settles("in/u9107.png:10:1", unmoved);
                assertTrue(sftpB.confirm("in/u9107.png:10:1"));
                assertEquals(1, sftpA.releaseClaims());
                assertTrue(new Leases(ds, "node-a").tryHold("contested", 60_000));
                assertFalse(new Leases(ds, "node-b").tryHold("contested", 60_000));
            }
            // a claim already taken is no failed statement: the server would log each one
            assertFalse(pg.serverLog().contains("duplicate key"), pg.serverLog());
        }
    }
}

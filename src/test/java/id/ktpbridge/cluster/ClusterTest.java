package id.ktpbridge.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.sandbox.ApiCall;
import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.sandbox.SandboxSettings;
import id.ktpbridge.testkit.ApiCalls;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.BridgeProcess;
import id.ktpbridge.testkit.PostgresServer;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.S3ProxyServer;
import id.ktpbridge.testkit.SampleImages;
import id.ktpbridge.testkit.SftpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cluster mode: three instances in their own JVMs share one PostgreSQL ledger, one drop folder,
 * one S3 bucket and one SFTP folder; one is killed with SIGKILL half-way. Every input must get
 * exactly one confirmed submission at the emulator and exactly one result.
 */
class ClusterTest {

    private static final int PER_SOURCE = 8;

    @TempDir
    Path work;

    @Test
    void threeInstancesShareTheWorkAndSurviveTheLossOfOne() throws Exception {
        try (PostgresServer pg = PostgresServer.start();
             S3ProxyServer s3 = S3ProxyServer.startTransient(Files.createDirectories(work.resolve("s3")));
             SftpServer sftp = SftpServer.start(Files.createDirectories(work.resolve("sftp")), "partner", "sftp-pass")) {
            String db = pg.createDatabase("ktp_cluster");
            int[] callbackPorts = {BridgeApp.freePort(), BridgeApp.freePort(), BridgeApp.freePort()};
            SandboxSettings settings = new SandboxSettings();
            settings.setProcessingDelayMillis(600);
            settings.setLatencyMillis(30);
            // OneKYC calls back one registered URL: node1's until the kill, whose callbacks are then of
            // node0's and node2's submissions too; then the instance that gets killed, below
            settings.setCallbackUrl(callbackUrl(callbackPorts[1]));
            settings.setCallbackAuthorization("Bearer cluster-test");
            settings.setCallbackMaxAttempts(2);
            GtfSandbox sandbox = new GtfSandbox(settings).start();
            List<BridgeProcess> instances = new ArrayList<>();
            try {
                Set<String> inputs = new HashSet<>();
                Path shared = work.resolve("shared");
                Files.createDirectories(shared.resolve("inbox"));
                String bucket = s3.newBucket("cluster");
                Path sftpInbox = Files.createDirectories(sftp.root().resolve("inbox"));

                Map<String, String> common = new HashMap<>();
                common.put("ktp.cluster.enabled", "true");
                common.put("ktp.db.url", db);
                common.put("ktp.db.user", "postgres");
                common.put("ktp.source.dir", shared.resolve("inbox").toString());
                common.put("ktp.source.done-dir", shared.resolve("done").toString());
                common.put("ktp.source.failed-dir", shared.resolve("failed").toString());
                common.put("ktp.results.dir", shared.resolve("results").toString());
                common.put("ktp.source.read-lock-min-age", "100");
                common.put("ktp.source.poll-delay", "300");
                common.put("ktp.source.claim-ttl", "20s");
                common.put("ktp.source.batch-size", "3");
                common.put("ktp.poll.interval", "300");
                // no poll collects a result before the kill, while callbacks reach node1: its first
                // collections, in cold JVMs on two busy cores, end up to 4.5 s after the confirm. After the
                // kill callbacks go to a dead instance and polls collect, this much later
                common.put("ktp.poll.first-delay", "10000");
                common.put("ktp.poll.initial-backoff", "300");
                common.put("ktp.poll.max-backoff", "1000");
                common.put("ktp.poll.stale-claim-after", "10s");
                common.put("ktp.results.retry.interval", "300");
                common.put("ktp.concurrency", "3");
                common.put("camel.server.host", "127.0.0.1");
                common.put("camel.management.host", "127.0.0.1");
                common.putAll(s3.connectionProperties("ktp.source.s3"));
                common.put("ktp.source.s3.enabled", "true");
                common.put("ktp.source.s3.bucket", bucket);
                common.put("ktp.source.s3.poll-delay", "300");
                common.put("ktp.source.sftp.enabled", "true");
                common.put("ktp.source.sftp.host", "127.0.0.1");
                common.put("ktp.source.sftp.port", String.valueOf(sftp.port()));
                common.put("ktp.source.sftp.user", sftp.user());
                common.put("ktp.source.sftp.password", sftp.password());
                common.put("ktp.source.sftp.strict-host-key-checking", "no");
                common.put("ktp.source.sftp.known-hosts-file", work.resolve("no-known-hosts").toString());
                common.put("ktp.source.sftp.directory", "inbox");
                common.put("ktp.source.sftp.poll-delay", "300");
                // more than 0: cluster mode refuses 0 (a file listed mid-upload would be claimed as it is)
                common.put("ktp.source.sftp.read-lock-min-age", "300");
                common.put("ktp.source.sftp.read-lock-check-interval", "100");

                Path logs = Files.createDirectories(Path.of(System.getProperty("ktp.test.output", "target/test-output")));
                for (int i = 0; i < 3; i++) {
                    Map<String, String> env = BridgeProcess.againstSandbox(sandbox.baseUrl(),
                            Files.createDirectories(work.resolve("node" + i)), callbackPorts[i], "cluster-test");
                    Map<String, String> props = new HashMap<>(common);
                    props.put("ktp.cluster.instance-id", "node" + i);
                    Path log = logs.resolve("cluster-node" + i + ".log");
                    Files.deleteIfExists(log);
                    instances.add(BridgeProcess.start(work, env, props, log));
                }

                List<Path> logFiles = List.of(logs.resolve("cluster-node0.log"), logs.resolve("cluster-node1.log"),
                        logs.resolve("cluster-node2.log"));
                waitUntil(() -> logFiles.stream().allMatch(l -> contains(l, ") started in ")), 120_000);
                for (int i = 0; i < PER_SOURCE; i++) {
                    String file = String.format("f%05d.png", i);
                    Results.drop(shared.resolve("inbox"), file, SampleImages.card(file, "png"));
                    String object = String.format("s%05d.jpg", i);
                    s3.put(bucket, "inbox/" + object, SampleImages.card(object, "jpg"));
                    String remote = String.format("t%05d.png", i);
                    Files.write(sftpInbox.resolve(remote), SampleImages.card(remote, "png"));
                    inputs.addAll(List.of(file, object, remote));
                }

                // kill one instance while it is in the middle of its share of the batch: it has submitted
                // inputs whose results are not out yet (each takes the sandbox 600 ms at least). The first
                // seen so, whichever it is: the others may take the whole batch from a slow one. Not before
                // a result of a submission node0 or node2 made is out: node1's callbacks are checked by them
                Path results = shared.resolve("results");
                waitUntil(() -> !ofNode0And2(Results.read(results), logFiles).isEmpty(), 120_000);
                int[] killed = {-1};
                Set<String> heldBeforeKill = new HashSet<>();
                waitUntil(() -> {
                    for (int i = 0; i < logFiles.size(); i++) {
                        Set<String> held = held(logFiles.get(i), results);
                        if (!held.isEmpty()) {
                            killed[0] = i;
                            heldBeforeKill.addAll(held);
                            return true;
                        }
                    }
                    return false;
                }, 120_000);
                // out while every callback went to node1
                List<JsonNode> resultsBeforeKill = Results.read(results);
                // the callbacks of its submissions that finish from now on go to a dead instance
                settings.setCallbackUrl(callbackUrl(callbackPorts[killed[0]]));
                instances.get(killed[0]).kill();
                long resultsAtKill = Results.count(results);
                // the killed instance's inputs in hand by the state of their rows, before the others can
                // take them over (ktp.source.claim-ttl): a presign it had sent for one still RECEIVED
                // leaves a submission nobody knows of
                Map<String, Integer> inHandAtKill = inHand(db, "node" + killed[0]);
                // a call is logged as it is answered: those the killed instance had under way are in by then,
                // and the others take over its inputs no sooner than ktp.source.claim-ttl or a poll's
                // reconfirm-after, many seconds later
                Thread.sleep(1_000);
                int callsBeforeKill = sandbox.requestLog().size();
                assertTrue(!heldBeforeKill.isEmpty(), "the killed instance held submitted inputs without a result");
                assertTrue(resultsAtKill < inputs.size(), "the kill came before the batch was done");
                // a callback is handled by the instance it reaches, whichever made the submission: until the
                // kill they reached node1, and no poll had started yet (ktp.poll.first-delay), so each result
                // then of a submission node0 or node2 made came by callback
                List<JsonNode> othersBeforeKill = ofNode0And2(resultsBeforeKill, logFiles);
                for (JsonNode r : othersBeforeKill) {
                    assertEquals("callback", r.path("receivedVia").asText(), "node1 collected the callback of "
                            + r.path("sourceFile").asText() + ", submitted by another instance");
                }

                waitUntil(() -> Results.count(results) >= inputs.size(), 180_000);
                // late callbacks and poll ticks: nothing more may appear
                await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(10))
                        .until(() -> Results.count(results) == inputs.size());
                // a file the killed instance had submitted but not yet moved stays in the inbox until its
                // claim expires (ktp.source.claim-ttl); a survivor then takes it, finds it submitted and moves it
                waitUntil(() -> pngsIn(shared.resolve("inbox")) == 0, 60_000);
                for (BridgeProcess p : instances) {
                    p.kill();
                }

                Map<String, JsonNode> bySource = Results.bySourceFile(results);
                assertEquals(inputs, bySource.keySet(), "one result per input");
                assertEquals(inputs.size(), Results.count(results), "no input has two results");
                for (JsonNode r : bySource.values()) {
                    assertEquals("COMPLETED", r.path("status").asText(), r.toString());
                }
                Set<String> resultSubmissions = bySource.values().stream().map(r -> r.path("submissionId").asText())
                        .collect(Collectors.toSet());
                Set<String> confirmed = sandbox.submissionIds().stream()
                        .filter(id -> !"INITIATED".equals(sandbox.submissionStatus(id))).collect(Collectors.toSet());
                assertEquals(confirmed, resultSubmissions, "exactly one confirmed submission per input");
                // and no submission presigned and left, but for the kill: a survivor takes over a row the
                // killed instance recorded presigned (its stored URL lasts 10 minutes) or uploaded with its
                // submission; one still RECEIVED is presigned anew, and a presign the killed instance had sent
                // for it stays INITIATED. At most one each: an input's worker has one presign out at a time
                // and records it before anything else
                Set<String> unconfirmed = sandbox.submissionIds().stream()
                        .filter(id -> "INITIATED".equals(sandbox.submissionStatus(id))).collect(Collectors.toSet());
                assertTrue(unconfirmed.size() <= inHandAtKill.getOrDefault("RECEIVED", 0),
                        "unconfirmed submissions " + unconfirmed + ", more than the killed instance's inputs in hand"
                                + " not presigned by its ledger " + inHandAtKill);
                // a submission is confirmed once at the sandbox however many confirms it gets: its log shows
                // them. No instance confirms one it was answered for; after the kill a survivor may confirm
                // one the killed instance was answered for (409), once
                List<ApiCall> calls = sandbox.requestLog();
                assertEquals(Set.of(), ApiCalls.confirmedAgainAfterAnAnswer(calls.subList(0, callsBeforeKill)),
                        "confirmed again after a confirm was answered, before the kill");
                assertEquals(Set.of(), ApiCalls.confirmedAgainAfterAnAnswer(calls.subList(callsBeforeKill, calls.size())),
                        "confirmed again after a confirm was answered, after the kill");
                Set<String> sources = bySource.values().stream().map(r -> r.path("sourceType").asText())
                        .collect(Collectors.toSet());
                assertEquals(Set.of("file", "s3", "sftp"), sources);
                assertEquals(0, pngsIn(shared.resolve("inbox")), "every file left the shared inbox");
                // every result written after the kill is the survivors' doing, the dead instance's
                // submissions (whose callbacks went to it) among them; those it held just before the kill
                // (taken then: it may have finished some of them itself in the moment until the kill)
                assertTrue(resultSubmissions.containsAll(heldBeforeKill),
                        "the killed instance's submissions " + heldBeforeKill + " were collected by the others");
            } finally {
                for (BridgeProcess p : instances) {
                    p.kill();
                }
                sandbox.stop();
            }
        }
    }

    private static String callbackUrl(int port) {
        return "http://127.0.0.1:" + port + "/coe/submissions-callback";
    }

    private static long pngsIn(Path dir) {
        try (var files = Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(".png")).count();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static final java.util.regex.Pattern SUBMITTED =
            java.util.regex.Pattern.compile("Submitted: ledger \\S+ submission (\\S+)");

    /** Submissions an instance logged as submitted that have no result yet. */
    private static Set<String> held(Path log, Path results) throws java.io.IOException {
        Set<String> held = submitted(log);
        Results.read(results).forEach(r -> held.remove(r.path("submissionId").asText()));
        return held;
    }

    /** The results of submissions node0 or node2 logged as submitted. */
    private static List<JsonNode> ofNode0And2(List<JsonNode> results, List<Path> logFiles) throws java.io.IOException {
        Set<String> submitted = submitted(logFiles.get(0));
        submitted.addAll(submitted(logFiles.get(2)));
        return results.stream().filter(r -> submitted.contains(r.path("submissionId").asText())).toList();
    }

    /** Submissions an instance logged as submitted (confirmed by it). */
    private static Set<String> submitted(Path log) throws java.io.IOException {
        Set<String> submitted = new HashSet<>();
        if (Files.exists(log)) {
            java.util.regex.Matcher m = SUBMITTED.matcher(Files.readString(log));
            while (m.find()) {
                submitted.add(m.group(1));
            }
        }
        return submitted;
    }

    /** The ledger rows {@code instance}'s workers have in hand, counted by state. */
    private static Map<String, Integer> inHand(String db, String instance) throws java.sql.SQLException {
        Map<String, Integer> byState = new HashMap<>();
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(db, "postgres", "");
             java.sql.PreparedStatement ps = c.prepareStatement(
                     "SELECT state, COUNT(*) FROM ktp_submission WHERE worker = ? GROUP BY state")) {
            ps.setString(1, instance);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byState.put(rs.getString(1), rs.getInt(2));
                }
            }
        }
        return byState;
    }

    private static boolean contains(Path log, String text) {
        try {
            return Files.exists(log) && Files.readString(log).contains(text);
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static long count(Path log, String text) throws java.io.IOException {
        return Files.exists(log) ? Files.readString(log).split(java.util.regex.Pattern.quote(text), -1).length - 1 : 0;
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void waitUntil(Condition condition, long millis) throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        while (!condition.holds()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("condition not met in " + millis + " ms");
            }
            Thread.sleep(100);
        }
    }
}

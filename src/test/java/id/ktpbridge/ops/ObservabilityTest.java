package id.ktpbridge.ops;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import id.ktpbridge.sandbox.ApiCall;
import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.sandbox.SandboxSettings;
import id.ktpbridge.sandbox.StorageRequest;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Health and Prometheus metrics on the management port of the running application. */
class ObservabilityTest {

    @TempDir
    Path dataDir;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void healthAndMetricsDescribeTheRun() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            // the counters of events are there at 0 before any: for the sources that run and the targets
            String atStart = get(app.managementUrl("/observe/metrics")).body();
            for (String outcome : new String[] {"COMPLETED", "ERROR", "REJECTED", "FAILED", "TIMED_OUT"}) {
                assertTrue(atStart.contains("ktp_inputs_total{outcome=\"" + outcome + "\",source=\"file\"} 0.0"), atStart);
            }
            assertFalse(atStart.contains("source=\"sftp\"") || atStart.contains("source=\"s3\""), atStart);
            assertTrue(atStart.contains("ktp_delivery_failures_total{kind=\"retry\",target=\"file\"} 0.0"), atStart);
            assertTrue(atStart.contains("ktp_delivery_failures_total{kind=\"refused\",target=\"file\"} 0.0"), atStart);

            Results.drop(app.inbox(), "u9001.png", SampleImages.card("a", "png"));
            Results.drop(app.inbox(), "u9002-notektp.jpg", SampleImages.card("b", "jpg"));
            Results.drop(app.inbox(), "u9003.jpg", "nope".getBytes());
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 3);

            HttpResponse<String> ready = get(app.managementUrl("/observe/health/ready"));
            assertEquals(200, ready.statusCode(), ready.body());
            HttpResponse<String> live = get(app.managementUrl("/observe/health/live"));
            assertEquals(200, live.statusCode(), live.body());
            HttpResponse<String> all = get(app.managementUrl("/observe/health?exposureLevel=full"));
            assertTrue(all.body().contains("ledger") && all.body().contains("onekyc"), all.body());
            // a database or OneKYC outage makes a replica not ready; it must not get it restarted
            org.apache.camel.health.HealthCheckRegistry checks = org.apache.camel.health.HealthCheckRegistry.get(app.context());
            for (String id : new String[] {"ledger", "onekyc"}) {
                org.apache.camel.health.HealthCheck check =
                        (org.apache.camel.health.HealthCheck) checks.getCheck(id).orElseThrow();
                assertTrue(check.isReadiness() && !check.isLiveness(), id + " is a readiness check only");
            }

            // the ledger's gauges follow its background reading: the rejected input's delivery may be
            // recorded a moment after its file is there, and after a reading that counted it pending
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                String read = get(app.managementUrl("/observe/metrics")).body();
                return read.contains("ktp_submissions{state=\"DELIVERED\"} 2.0")
                        && read.contains("ktp_deliveries_pending{target=\"file\"} 0.0");
            });
            String metrics = get(app.managementUrl("/observe/metrics")).body();
            assertTrue(metrics.contains("ktp_inputs_total{outcome=\"COMPLETED\",source=\"file\"} 2.0"), metrics);
            assertTrue(metrics.contains("ktp_inputs_total{outcome=\"REJECTED\",source=\"file\"} 1.0"), metrics);
            assertTrue(metrics.contains("ktp_inputs_total{outcome=\"ERROR\",source=\"file\"} 0.0"), metrics);
            assertEquals(5, metrics.lines().filter(l -> l.startsWith("ktp_inputs_total{")).count(), metrics);
            assertTrue(metrics.contains("ktp_submissions{state=\"DELIVERED\"} 2.0"), metrics);
            assertTrue(metrics.contains("ktp_token_cache_fetches_total 2.0"), "one token fetch per user");
            assertTrue(metrics.contains("ktp_token_cache_misses_total"), metrics);
            assertTrue(metrics.contains("ktp_onekyc_calls_seconds_count{endpoint=\"presign\",outcome=\"ok\"} 2"), metrics);
            assertTrue(metrics.contains("ktp_onekyc_calls_seconds_count{endpoint=\"upload\",outcome=\"ok\"} 2"), metrics);
            // fixed buckets, for quantiles across replicas
            assertTrue(metrics.contains("ktp_onekyc_calls_seconds_bucket{endpoint=\"presign\",outcome=\"ok\",le=\"30.0\"} 2"),
                    metrics);
            assertTrue(metrics.contains("ktp_deliveries_pending{target=\"file\"} 0.0"), metrics);
            assertTrue(metrics.contains("ktp_onekyc_circuit_open{endpoint=\"presign\"} 0.0"), metrics);
            assertTrue(metrics.contains("camel_exchanges"), "Camel's own metrics are there too");

            // the readings count the delivery rows that are exported, not the delivered ones
            id.ktpbridge.result.DeliveryStore store = app.bean("outbox", id.ktpbridge.result.Outbox.class).store();
            assertEquals(java.util.Map.of("file", java.util.Map.of("DELIVERED", 3)), store.counts());
            assertEquals(java.util.Map.of(), store.counts(java.util.List.of("PENDING", "REFUSED")));

            // a presign OneKYC refuses (503) for another image of a user seen before: the refusal is in
            // the presign series under its status, and the image goes with the user's cached token
            app.sandbox().settings().setFailureStatuses(List.of(503));
            app.sandbox().settings().setFailureRate("presign", 1.0);
            Files.writeString(app.inbox().resolve("u9001-again.json"), "{\"partnerUserId\":\"u9001\"}");
            Results.drop(app.inbox(), "u9001-again.png", SampleImages.card("c", "png"));
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
                    .until(() -> app.sandbox().injectedFailures("presign") >= 1);
            app.sandbox().settings().setFailureRate("presign", 0.0);
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 4);

            metrics = get(app.managementUrl("/observe/metrics")).body();
            long refused = app.sandbox().injectedFailures("presign");
            assertEquals(refused, value(metrics, "ktp_onekyc_calls_seconds_count{endpoint=\"presign\",outcome=\"503\"}"),
                    metrics);
            assertEquals(3, value(metrics, "ktp_onekyc_calls_seconds_count{endpoint=\"presign\",outcome=\"ok\"}"), metrics);
            // no other endpoint failed, and no failure was counted as another status
            List<String> failures = metrics.lines().filter(l -> l.startsWith("ktp_onekyc_calls_seconds_count{")
                    && !l.contains("outcome=\"ok\"")).toList();
            assertEquals(List.of("ktp_onekyc_calls_seconds_count{endpoint=\"presign\",outcome=\"503\"} " + refused),
                    failures, metrics);

            // the token cache: one fetch per user, a token request for each call that carries one
            assertEquals(2, value(metrics, "ktp_token_cache_fetches_total"), metrics);
            assertEquals(2, app.sandbox().requestLog().stream().filter(c -> c.endpoint().equals("token")).count());
            double hits = value(metrics, "ktp_token_cache_hits_total");
            double misses = value(metrics, "ktp_token_cache_misses_total");
            assertTrue(hits > 0, metrics);
            assertTrue(misses >= 2, "each fetch was for a request that found no token: " + metrics);
            // each attempt of a call with a user's token asks the cache once (read again, as a poll tick may
            // still be between its request and the sandbox's note of it)
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                long tokenCalls = app.sandbox().requestLog().stream()
                        .filter(c -> List.of("presign", "confirm", "status", "details").contains(c.endpoint())).count();
                String now = get(app.managementUrl("/observe/metrics")).body();
                assertEquals(tokenCalls, value(now, "ktp_token_cache_hits_total")
                        + value(now, "ktp_token_cache_misses_total"), now);
            });
        }
    }

    /**
     * Each OneKYC call is counted once, under its endpoint and the answer it got, as the sandbox tells
     * them: refusals of the token endpoint, the storage, the confirm and the details call under their
     * status, and calls the sandbox answered only after the client's timeout under no_answer, an API
     * call (the token) and an upload alike; together, every call the sandbox saw and no other.
     */
    @Test
    void eachCallIsCountedUnderItsEndpointAndTheAnswerItGot() throws Exception {
        // an answer later than these counts as none: the sandbox's latency makes calls unanswered; wide, so
        // that no other call of the run, on a loaded machine, is taken for unanswered
        Map<String, String> timeouts = Map.of("gtf.http.read-timeout", "8s", "gtf.http.upload-timeout", "3s");
        try (BridgeApp app = BridgeApp.start(dataDir, timeouts)) {
            GtfSandbox sandbox = app.sandbox();
            SandboxSettings faults = sandbox.settings();

            // a new user's image: the token endpoint, then the storage refuse it (503) until each has refused once
            faults.setFailureStatuses(List.of(503));
            faults.setFailureRate("token", 1.0);
            faults.setFailureRate("storage", 1.0);
            Results.drop(app.inbox(), "u9101.png", SampleImages.card("d", "png"));
            refuseUntilRefused(sandbox, "token");
            refuseUntilRefused(sandbox, "storage");
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 1);

            // another of that user: the confirm, then the details call refuse it (500)
            faults.setFailureStatuses(List.of(500));
            faults.setFailureRate("confirm", 1.0);
            faults.setFailureRate("details", 1.0);
            dropOfUser(app, "u9101-b", "u9101");
            refuseUntilRefused(sandbox, "confirm");
            refuseUntilRefused(sandbox, "details");
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);

            // a new user's token call is answered after the read timeout (8 s) until the sandbox has so
            // answered one; the retries after are answered at once. No other call is under way meanwhile
            int tokenPhase = sandbox.requestLog().size();
            faults.setLatencyMillis(10_000);
            Results.drop(app.inbox(), "u9102.png", SampleImages.card("e", "png"));
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
                    .until(() -> sandbox.requestLog().size() > tokenPhase);
            faults.setLatencyMillis(0);
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 3);

            // an upload answered after the upload timeout (3 s), the presign before it within the read timeout
            int uploadPhase = sandbox.storageRequests().size();
            faults.setLatencyMillis(5_000);
            dropOfUser(app, "u9101-c", "u9101");
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
                    .until(() -> sandbox.storageRequests().size() > uploadPhase);
            faults.setLatencyMillis(0);
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 4);

            // every call the sandbox saw, by endpoint and status; those it answered after the client gave
            // up are each phase's calls but the one answered (the client asked again only after none).
            // Read until the late answers are noted and the metrics have the last calls' answers
            long[] unanswered = new long[2];
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                List<ApiCall> calls = sandbox.requestLog();
                List<StorageRequest> storage = sandbox.storageRequests();
                List<StorageRequest> puts = storage.stream().filter(r -> r.method().equals("PUT")).toList();
                List<ApiCall> tokenCalls = calls.subList(tokenPhase, calls.size()).stream()
                        .filter(c -> c.endpoint().equals("token")).toList();
                List<StorageRequest> uploads = storage.subList(uploadPhase, storage.size()).stream()
                        .filter(r -> r.method().equals("PUT")).toList();
                assertTrue(tokenCalls.stream().allMatch(c -> c.httpStatus() == 200), tokenCalls.toString());
                assertTrue(uploads.stream().allMatch(r -> r.httpStatus() == 200), uploads.toString());
                unanswered[0] = tokenCalls.size() - 1;
                unanswered[1] = uploads.size() - 1;

                Map<String, Long> expected = new TreeMap<>();
                for (ApiCall c : calls) {
                    expected.merge(series(c.endpoint().equals("token") ? "user-token" : c.endpoint(), c.httpStatus()),
                            1L, Long::sum);
                }
                for (StorageRequest r : puts) {
                    expected.merge(series("upload", r.httpStatus()), 1L, Long::sum);
                }
                expected.merge(series("user-token", 200), -unanswered[0], Long::sum);
                expected.merge(series("user-token", 0), unanswered[0], Long::sum);
                expected.merge(series("upload", 200), -unanswered[1], Long::sum);
                expected.merge(series("upload", 0), unanswered[1], Long::sum);
                expected.values().removeIf(n -> n == 0);
                assertEquals(expected, callCounts(get(app.managementUrl("/observe/metrics")).body()));
            });
            assertTrue(unanswered[0] >= 1 && unanswered[1] >= 1, java.util.Arrays.toString(unanswered));

            // the refusals as the sandbox's fault counters tell them, and the unanswered calls
            String metrics = get(app.managementUrl("/observe/metrics")).body();
            assertEquals(sandbox.injectedFailures("token"), value(metrics, count("user-token", "503")), metrics);
            assertEquals(sandbox.injectedFailures("storage"), value(metrics, count("upload", "503")), metrics);
            assertEquals(sandbox.injectedFailures("confirm"), value(metrics, count("confirm", "500")), metrics);
            assertEquals(sandbox.injectedFailures("details"), value(metrics, count("details", "500")), metrics);
            assertEquals(unanswered[0], value(metrics, count("user-token", "no_answer")), metrics);
            assertEquals(unanswered[1], value(metrics, count("upload", "no_answer")), metrics);
        }
    }

    /** Lets the endpoint's refusals (set to every call) go on until it has refused one. */
    private static void refuseUntilRefused(GtfSandbox sandbox, String endpoint) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
                .until(() -> sandbox.injectedFailures(endpoint) >= 1);
        sandbox.settings().setFailureRate(endpoint, 0.0);
    }

    /** An image of a user seen before, named so by its sidecar. */
    private static void dropOfUser(BridgeApp app, String name, String user) throws Exception {
        Files.writeString(app.inbox().resolve(name + ".json"), "{\"partnerUserId\":\"" + user + "\"}");
        Results.drop(app.inbox(), name + ".png", SampleImages.card(name, "png"));
    }

    /** The key of a call count: the endpoint and the outcome the bundle labels a status with. */
    private static String series(String endpoint, int status) {
        return endpoint + " " + (status == 0 ? "no_answer" : status / 100 == 2 ? "ok" : String.valueOf(status));
    }

    private static String count(String endpoint, String outcome) {
        return "ktp_onekyc_calls_seconds_count{endpoint=\"" + endpoint + "\",outcome=\"" + outcome + "\"}";
    }

    private static final Pattern CALL_COUNT =
            Pattern.compile("ktp_onekyc_calls_seconds_count\\{endpoint=\"([^\"]+)\",outcome=\"([^\"]+)\"} (\\S+)");

    /** Every ktp_onekyc_calls_seconds_count series, by {@link #series} key; one of other labels fails. */
    private static Map<String, Long> callCounts(String metrics) {
        Map<String, Long> counts = new TreeMap<>();
        metrics.lines().filter(l -> l.startsWith("ktp_onekyc_calls_seconds_count")).forEach(l -> {
            Matcher m = CALL_COUNT.matcher(l);
            assertTrue(m.matches(), l);
            counts.put(m.group(1) + " " + m.group(2), (long) Double.parseDouble(m.group(3)));
        });
        return counts;
    }

    /** The value of one series, which must be there once. */
    private static double value(String metrics, String series) {
        List<String> lines = metrics.lines().filter(l -> l.startsWith(series + " ")).toList();
        assertEquals(1, lines.size(), series + " in " + metrics);
        return Double.parseDouble(lines.get(0).substring(series.length() + 1).trim());
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }
}

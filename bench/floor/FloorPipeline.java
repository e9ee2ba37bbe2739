import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Baseline (b), "the floor": the least a hand-written JDK-only client must do for the same work as
 * the bundle. Per image on a fixed pool of C threads: user token (cached per user), presign, PUT
 * the file (streamed from disk), confirm, poll status until final, details, write the details JSON.
 * No retries, no ledger, no callbacks: any failure is counted and the image skipped.
 *
 * <pre>java bench/floor/FloorPipeline.java --token-url URL --api-url URL --images DIR --out DIR
 *      --concurrency C [--poll-ms 100] [--user-pattern REGEX] [--client-id ID --pass-key KEY
 *      --onboarding-partner P]</pre>
 */
public final class FloorPipeline {

    private static final String STRING_FIELD = "\"%s\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"";
    private static final Map<String, Pattern> FIELDS = new ConcurrentHashMap<>();

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final Map<String, CompletableFuture<String>> tokens = new ConcurrentHashMap<>();
    private final String tokenUrl;
    private final String apiUrl;
    private final Path out;
    private final long pollMillis;
    private final Pattern userPattern;
    private final String clientId;
    private final String passKey;
    private final String onboardingPartner;

    private FloorPipeline(Map<String, String> o) {
        tokenUrl = o.get("token-url");
        apiUrl = o.get("api-url");
        out = Path.of(o.get("out"));
        pollMillis = Long.parseLong(o.getOrDefault("poll-ms", "100"));
        userPattern = Pattern.compile(o.getOrDefault("user-pattern", "(?<user>u[0-9]+)-[0-9]+"));
        clientId = o.getOrDefault("client-id", "sandbox-client");
        passKey = o.getOrDefault("pass-key", "sandbox-pass-key");
        onboardingPartner = o.getOrDefault("onboarding-partner", "KTPBRIDGE-BE-KTP_SCAN");
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new ConcurrentHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        int concurrency = Integer.parseInt(o.getOrDefault("concurrency", "8"));
        FloorPipeline floor = new FloorPipeline(o);
        Files.createDirectories(floor.out);
        List<Path> images;
        try (Stream<Path> files = Files.list(Path.of(o.get("images")))) {
            images = files.filter(p -> p.toString().matches("(?i).*\\.(png|jpe?g)")).sorted().toList();
        }
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        for (Path image : images) {
            pool.execute(() -> {
                try {
                    floor.process(image);
                    ok.incrementAndGet();
                } catch (Exception e) {
                    failed.incrementAndGet();
                    System.err.println(image.getFileName() + ": " + e);
                }
            });
        }
        pool.shutdown();
        pool.awaitTermination(7, TimeUnit.DAYS);
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("floor: %d ok, %d failed, %.2f s, %.1f images/s, %d token calls%n",
                ok.get(), failed.get(), seconds, ok.get() / seconds, floor.tokens.size());
        System.exit(failed.get() == 0 ? 0 : 1);
    }

    private void process(Path image) throws Exception {
        String file = image.getFileName().toString();
        Matcher m = userPattern.matcher(file.substring(0, file.lastIndexOf('.')));
        if (!m.matches()) {
            throw new IllegalArgumentException("no user in file name");
        }
        String token = token(m.group("user"));
        String partnerSession = UUID.randomUUID().toString();
        String sdkSession = UUID.randomUUID().toString();

        String presign = call(api("/coe/v1/submissions/urls?submissionType=KTP_SCAN", token, partnerSession, sdkSession)
                .GET());
        String submissionId = field(presign, "submissionId");
        String url = field(presign, "documentUrl");

        HttpResponse<Void> put = http.send(HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", file.toLowerCase().endsWith(".png") ? "image/png" : "image/jpeg")
                .PUT(HttpRequest.BodyPublishers.ofFile(image)).build(), HttpResponse.BodyHandlers.discarding());
        if (put.statusCode() / 100 != 2) {
            throw new IOException("upload answered " + put.statusCode());
        }

        call(api("/coe/v1/submissions/urls", token, partnerSession, sdkSession)
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"submissionId\":\"" + submissionId + "\"}")));

        while (true) {
            String status = field(call(api("/coe/v1/submissions/" + submissionId + "/status", token, partnerSession,
                    sdkSession).GET()), "status");
            if ("COMPLETED".equals(status) || "ERROR".equals(status)) {
                break;
            }
            Thread.sleep(pollMillis);
        }

        String details = call(HttpRequest.newBuilder(URI.create(apiUrl + "/coe/v1/submissions"))
                .header("x-onekyc-token", token).header("x-submission-id", submissionId).GET());
        Files.writeString(out.resolve(submissionId + ".json"), details);
    }

    /** One token per user; concurrent first requests for a user share one fetch. */
    private String token(String user) {
        CompletableFuture<String> mine = new CompletableFuture<>();
        CompletableFuture<String> existing = tokens.putIfAbsent(user, mine);
        if (existing != null) {
            return existing.join();
        }
        try {
            mine.complete(field(call(HttpRequest.newBuilder(URI.create(tokenUrl + "/v2/coe/authentication"))
                    .header("client-id", clientId).header("pass-key", passKey)
                    .header("x-onboarding-partner", onboardingPartner)
                    .header("x-partner-user-id", user).header("x-partner-user-id-type", "PARTNER_USER_ID").GET()),
                    "token"));
        } catch (Exception e) {
            mine.completeExceptionally(e);
        }
        return mine.join();
    }

    private HttpRequest.Builder api(String pathAndQuery, String token, String partnerSession, String sdkSession) {
        return HttpRequest.newBuilder(URI.create(apiUrl + pathAndQuery)).header("x-onekyc-token", token)
                .header("x-partner-session-id", partnerSession).header("x-sdk-session-id", sdkSession);
    }

    private String call(HttpRequest.Builder request) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException(request.build().uri().getPath() + " answered " + response.statusCode());
        }
        return response.body();
    }

    /** First string value of a JSON field; enough for these flat answers without a JSON library. */
    private static String field(String json, String name) throws IOException {
        Matcher m = FIELDS.computeIfAbsent(name, n -> Pattern.compile(String.format(STRING_FIELD, Pattern.quote(n))))
                .matcher(json);
        if (!m.find()) {
            throw new IOException("no \"" + name + "\" in answer");
        }
        return m.group(1).replace("\\/", "/").replace("\\\"", "\"").replace("\\\\", "\\");
    }
}

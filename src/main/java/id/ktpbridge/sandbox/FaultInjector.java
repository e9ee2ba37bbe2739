package id.ktpbridge.sandbox;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every fault decision of the sandbox in one place, so the endpoints only ask "fail this?"
 * and tests can reason about one source of randomness.
 *
 * <p>Determinism: each kind of decision (failure of one endpoint, lost response of one
 * endpoint, token revocation, expired URL, callback drop, jitter) draws from its own
 * {@link Random}, all derived from {@link SandboxSettings#getRandomSeed()}. With a seed, the
 * n-th decision of a kind is therefore always the same, and callbacks finishing on background
 * threads cannot shift the sequence seen by API calls. Across threads it is best effort: when
 * concurrent requests race for the same kind, which request gets which draw depends on arrival
 * order. A rate of 0 never draws and a rate of 1 draws nothing for the yes/no part, so all-default
 * settings consume no randomness at all.
 */
final class FaultInjector {

    private final SandboxSettings settings;
    /** Guarded by {@code this}; rebuilt whenever the seed is set again. */
    private final Map<String, Random> streams = new HashMap<>();
    private long seedGeneration = -1;

    private final AtomicLong injectedTotal = new AtomicLong();
    private final Map<String, AtomicLong> injectedByEndpoint = new ConcurrentHashMap<>();
    private final AtomicLong lostResponses = new AtomicLong();
    private final AtomicLong tokensRevoked = new AtomicLong();
    private final AtomicLong expiredUrls = new AtomicLong();
    private final AtomicLong callbacksDropped = new AtomicLong();
    private final AtomicLong uploadsDropped = new AtomicLong();
    private final AtomicLong uploadsDenied = new AtomicLong();

    FaultInjector(SandboxSettings settings) {
        this.settings = settings;
    }

    /**
     * HTTP status (500, 503 or 429) to refuse this call with instead of serving it, or 0 to serve.
     * Counted as an injected failure when non-zero.
     */
    int failureFor(String endpoint) {
        double rate = settings.getFailureRate(endpoint);
        if (rate <= 0.0) {
            return 0;
        }
        List<Integer> statuses = settings.getFailureStatuses();
        int status;
        synchronized (this) { // decision and status pick as one step of this endpoint's stream
            Random random = stream("failure/" + endpoint);
            if (rate < 1.0 && random.nextDouble() >= rate) {
                return 0;
            }
            status = statuses.size() == 1 ? statuses.get(0) : statuses.get(random.nextInt(statuses.size()));
        }
        count(endpoint);
        return status;
    }

    /** Whether an already applied presign/confirm should be answered with a 500 (lost response). */
    boolean loseResponse(String endpoint) {
        double rate = switch (endpoint) {
            case "confirm" -> settings.getConfirmLostResponseRate();
            case "presign" -> settings.getPresignLostResponseRate();
            default -> 0.0;
        };
        if (!chance("lost/" + endpoint, rate)) {
            return false;
        }
        lostResponses.incrementAndGet();
        count(endpoint);
        return true;
    }

    /** Whether the token presented with this call should be revoked before it is checked. */
    boolean revokeToken() {
        return chance("revoke", settings.getTokenRevocationRate());
    }

    void tokenRevoked() {
        tokensRevoked.incrementAndGet();
    }

    /** Whether the next presigned upload URL should be issued already expired. */
    boolean expireUrl() {
        if (!chance("expired-url", settings.getExpiredUrlRate())) {
            return false;
        }
        expiredUrls.incrementAndGet();
        return true;
    }

    /** Whether an upload that arrived whole should be acknowledged but not stored. */
    boolean dropUpload() {
        if (!chance("upload-drop", settings.getUploadDropRate())) {
            return false;
        }
        uploadsDropped.incrementAndGet();
        return true;
    }

    /** Whether a correctly signed upload should be refused as a bucket policy would (403 Access Denied). */
    boolean denyUpload() {
        if (!chance("upload-denied", settings.getUploadDeniedRate())) {
            return false;
        }
        uploadsDenied.incrementAndGet();
        return true;
    }

    /** Whether a finished submission's callback should be lost entirely. */
    boolean dropCallback() {
        if (!chance("callback-drop", settings.getCallbackDropRate())) {
            return false;
        }
        callbacksDropped.incrementAndGet();
        return true;
    }

    /** Extra delay for one request: the fixed latency plus uniform jitter in [0, jitter]. */
    long latencyMillis() {
        long base = settings.getLatencyMillis();
        long jitter = settings.getLatencyJitterMillis();
        if (jitter <= 0) {
            return base;
        }
        synchronized (this) {
            return base + (long) (stream("latency").nextDouble() * (jitter + 1));
        }
    }

    long injectedFailures() { return injectedTotal.get(); }

    long injectedFailures(String endpoint) {
        AtomicLong n = injectedByEndpoint.get(endpoint);
        return n == null ? 0 : n.get();
    }

    long lostResponses() { return lostResponses.get(); }

    long tokensRevoked() { return tokensRevoked.get(); }

    long expiredUrlsIssued() { return expiredUrls.get(); }

    long uploadsDropped() { return uploadsDropped.get(); }

    long uploadsDenied() { return uploadsDenied.get(); }

    long callbacksDropped() { return callbacksDropped.get(); }

    private void count(String endpoint) {
        injectedTotal.incrementAndGet();
        injectedByEndpoint.computeIfAbsent(endpoint, k -> new AtomicLong()).incrementAndGet();
    }

    private boolean chance(String stream, double rate) {
        if (rate <= 0.0) {
            return false;
        }
        if (rate >= 1.0) {
            return true;
        }
        synchronized (this) {
            return stream(stream).nextDouble() < rate;
        }
    }

    /** The stream of one decision kind; all streams restart when the seed is set again. */
    private Random stream(String name) {
        SandboxSettings.SeedState seed = settings.randomSeedState();
        if (seed.generation() != seedGeneration) {
            streams.clear();
            seedGeneration = seed.generation();
        }
        return streams.computeIfAbsent(name, n -> seed.seed() == null
                ? new Random()
                // String.hashCode is specified, so the derived seeds are the same on every JVM
                : new Random(seed.seed() ^ (n.hashCode() * 0x9E3779B97F4A7C15L)));
    }
}

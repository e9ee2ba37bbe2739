package id.ktpbridge.sandbox;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Live, mutable knobs of the embedded GTF sandbox. Fields are volatile because tests flip
 * them on a running sandbox (e.g. disable callbacks) while server threads read them.
 * Plain JavaBean setters so the settings can be bound from configuration properties.
 */
public class SandboxSettings {

    private volatile int serverThreads = 16;
    private volatile boolean detailsAcceptsUserToken = true;
    private volatile boolean detailsWithoutVerdict;
    private volatile boolean detailsMixedUp;
    private volatile boolean presignHandsOutFinished;
    private volatile boolean presignReusesOpenSubmission;
    private volatile String host = "127.0.0.1";
    private volatile int port = 0;
    /** Base URL put into presigned URLs; null = derived from host/port (set it when behind NAT/Docker). */
    private volatile String publicBaseUrl;

    private volatile String clientId = "sandbox-client";
    private volatile String passKey = "sandbox-pass-key";
    private volatile String onboardingPartner = "KTPBRIDGE-BE-KTP_SCAN";

    private volatile long tokenTtlSeconds = 5_184_000L;
    private volatile long partnerTokenTtlSeconds = 3_600L;
    private volatile long urlExpirySeconds = 600L;
    private volatile List<String> documentKeys = List.of("KTP_FRONT");
    private volatile long processingDelayMillis = 1_500L;

    private volatile boolean callbackEnabled = true;
    private volatile String callbackUrl;
    private volatile String callbackAuthorization;
    private volatile int callbackDuplicates = 1;
    private volatile int callbackMaxAttempts = 5;
    private volatile boolean callbackFullRecord;

    private volatile String errorUserPattern = "(?i).*error.*";
    private volatile String notEktpUserPattern = "(?i).*notektp.*";

    private volatile boolean numericErrorCodes = false;
    private volatile long maxUploadBytes = 15L * 1024 * 1024;

    // ---- fault injection (see FaultInjector); every default means "no fault" ----

    /** Endpoint names accepted by {@link #setFailureRate}; "storage" covers the presigned-URL storage. */
    public static final Set<String> FAULT_ENDPOINTS =
            Set.of("token", "partner-token", "presign", "confirm", "status", "details", "storage");
    public static final Set<Integer> FAULT_STATUSES = Set.of(500, 503, 429, 400);

    /** Seed plus a generation counter, swapped as one value so a reader never sees a torn pair. */
    record SeedState(Long seed, long generation) { }

    /** Immutable snapshots, replaced on write, so readers need no lock. */
    private volatile Map<String, Double> failureRates = Map.of();
    private volatile List<Integer> failureStatuses = List.of(500, 503, 429);
    private volatile int retryAfterSeconds = 1;
    private volatile double confirmLostResponseRate;
    private volatile double presignLostResponseRate;
    private volatile long latencyMillis;
    private volatile long latencyJitterMillis;
    private volatile double tokenRevocationRate;
    private volatile double expiredUrlRate;
    private volatile double callbackDropRate;
    private volatile double uploadDropRate;
    private volatile double uploadDeniedRate;
    private volatile long callbackLateMillis;
    private volatile SeedState randomSeed = new SeedState(null, 0);

    public String getHost() { return host; }
    public void setHost(String host) { this.host = Objects.requireNonNull(host, "host"); }

    public int getPort() { return port; }
    public void setPort(int port) { this.port = port; }

    public String getPublicBaseUrl() { return publicBaseUrl; }
    public void setPublicBaseUrl(String publicBaseUrl) { this.publicBaseUrl = publicBaseUrl; }

    public String getClientId() { return clientId; }
    public void setClientId(String clientId) { this.clientId = clientId; }

    public String getPassKey() { return passKey; }
    public void setPassKey(String passKey) { this.passKey = passKey; }

    public String getOnboardingPartner() { return onboardingPartner; }
    public void setOnboardingPartner(String onboardingPartner) { this.onboardingPartner = onboardingPartner; }

    public long getTokenTtlSeconds() { return tokenTtlSeconds; }
    public void setTokenTtlSeconds(long tokenTtlSeconds) { this.tokenTtlSeconds = tokenTtlSeconds; }

    public long getPartnerTokenTtlSeconds() { return partnerTokenTtlSeconds; }
    public void setPartnerTokenTtlSeconds(long partnerTokenTtlSeconds) { this.partnerTokenTtlSeconds = partnerTokenTtlSeconds; }

    public long getUrlExpirySeconds() { return urlExpirySeconds; }
    public void setUrlExpirySeconds(long urlExpirySeconds) { this.urlExpirySeconds = urlExpirySeconds; }

    public List<String> getDocumentKeys() { return documentKeys; }
    public void setDocumentKeys(List<String> documentKeys) {
        if (documentKeys == null || documentKeys.isEmpty()) {
            throw new IllegalArgumentException("documentKeys must not be empty");
        }
        this.documentKeys = List.copyOf(documentKeys);
    }

    public long getProcessingDelayMillis() { return processingDelayMillis; }
    public void setProcessingDelayMillis(long processingDelayMillis) { this.processingDelayMillis = processingDelayMillis; }

    public boolean isCallbackEnabled() { return callbackEnabled; }
    public void setCallbackEnabled(boolean callbackEnabled) { this.callbackEnabled = callbackEnabled; }

    public String getCallbackUrl() { return callbackUrl; }
    public void setCallbackUrl(String callbackUrl) { this.callbackUrl = callbackUrl; }

    public String getCallbackAuthorization() { return callbackAuthorization; }
    public void setCallbackAuthorization(String callbackAuthorization) { this.callbackAuthorization = callbackAuthorization; }

    public int getCallbackDuplicates() { return callbackDuplicates; }
    public void setCallbackDuplicates(int callbackDuplicates) { this.callbackDuplicates = Math.max(1, callbackDuplicates); }

    /**
     * Whether a callback carries the whole submission record, as the details call returns it (the
     * eSign products' callback), instead of the CoE's four-field notification.
     */
    public boolean isCallbackFullRecord() { return callbackFullRecord; }
    public void setCallbackFullRecord(boolean callbackFullRecord) { this.callbackFullRecord = callbackFullRecord; }

    public int getCallbackMaxAttempts() { return callbackMaxAttempts; }
    public void setCallbackMaxAttempts(int callbackMaxAttempts) { this.callbackMaxAttempts = Math.max(1, callbackMaxAttempts); }

    public String getErrorUserPattern() { return errorUserPattern; }
    public void setErrorUserPattern(String errorUserPattern) { this.errorUserPattern = errorUserPattern; }

    public String getNotEktpUserPattern() { return notEktpUserPattern; }
    public void setNotEktpUserPattern(String notEktpUserPattern) { this.notEktpUserPattern = notEktpUserPattern; }

    public boolean isNumericErrorCodes() { return numericErrorCodes; }
    public void setNumericErrorCodes(boolean numericErrorCodes) { this.numericErrorCodes = numericErrorCodes; }

    /** Request threads of the sandbox's HTTP server; each sleeps there for the configured latency. */
    public int getServerThreads() { return serverThreads; }

    public void setServerThreads(int serverThreads) { this.serverThreads = Math.max(1, serverThreads); }

    /** False: the details endpoint takes only the partner token (403 for a user token). */
    public boolean isDetailsAcceptsUserToken() { return detailsAcceptsUserToken; }

    public void setDetailsAcceptsUserToken(boolean accepts) { this.detailsAcceptsUserToken = accepts; }

    /** True: details of a finished submission say COMPLETED without result and reasonCode (a record not filled in yet). */
    public boolean isDetailsWithoutVerdict() { return detailsWithoutVerdict; }

    public void setDetailsWithoutVerdict(boolean without) { this.detailsWithoutVerdict = without; }

    /** True: details answer with the record of another finished submission, when there is one (a server's mix-up). */
    public boolean isDetailsMixedUp() { return detailsMixedUp; }

    public void setDetailsMixedUp(boolean mixedUp) { this.detailsMixedUp = mixedUp; }

    /** True: a presign answers with the latest finished submission, in its own status (a server's mix-up). */
    public boolean isPresignHandsOutFinished() { return presignHandsOutFinished; }

    public void setPresignHandsOutFinished(boolean handsOut) { this.presignHandsOutFinished = handsOut; }

    /**
     * "New or existing submission" (reference 4) read as: a presign answers with the user's
     * INITIATED submission, when there is one, instead of a new one (fresh URLs to the same objects).
     */
    public boolean isPresignReusesOpenSubmission() { return presignReusesOpenSubmission; }
    public void setPresignReusesOpenSubmission(boolean reuses) { this.presignReusesOpenSubmission = reuses; }

    public long getMaxUploadBytes() { return maxUploadBytes; }
    public void setMaxUploadBytes(long maxUploadBytes) { this.maxUploadBytes = maxUploadBytes; }

    // ---- fault injection ----

    /** Probability (0..1) that a call of {@code endpoint} is refused with an injected 500/503/429. */
    public double getFailureRate(String endpoint) {
        return failureRates.getOrDefault(endpoint, 0.0);
    }

    public synchronized void setFailureRate(String endpoint, double rate) {
        Map<String, Double> copy = new HashMap<>(failureRates);
        copy.put(faultEndpoint(endpoint), probability("failure rate of " + endpoint, rate));
        failureRates = Map.copyOf(copy);
    }

    /** All configured rates, endpoint → probability. */
    public Map<String, Double> getFailureRates() { return failureRates; }

    /** Replaces every rate (endpoints not in the map go back to 0); for binding from configuration. */
    public synchronized void setFailureRates(Map<String, Double> rates) {
        Map<String, Double> copy = new HashMap<>();
        if (rates != null) {
            rates.forEach((endpoint, rate) -> copy.put(faultEndpoint(endpoint),
                    probability("failure rate of " + endpoint, rate == null ? Double.NaN : rate)));
        }
        failureRates = Map.copyOf(copy); // validated first: all or nothing
    }

    private static String faultEndpoint(String endpoint) {
        if (!FAULT_ENDPOINTS.contains(endpoint)) {
            throw new IllegalArgumentException("unknown endpoint '" + endpoint + "', expected one of " + FAULT_ENDPOINTS);
        }
        return endpoint;
    }

    /** Statuses an injected failure is drawn from, uniformly; any of 500, 503, 429. */
    public List<Integer> getFailureStatuses() { return failureStatuses; }

    public void setFailureStatuses(List<Integer> statuses) {
        if (statuses == null || statuses.isEmpty() || !FAULT_STATUSES.containsAll(statuses)) {
            throw new IllegalArgumentException("failure statuses must be a non-empty subset of " + FAULT_STATUSES);
        }
        this.failureStatuses = List.copyOf(statuses);
    }

    /** Value of the Retry-After header sent with injected 429s (and storage SlowDown 503s). */
    public int getRetryAfterSeconds() { return retryAfterSeconds; }
    public void setRetryAfterSeconds(int retryAfterSeconds) {
        if (retryAfterSeconds < 0) {
            throw new IllegalArgumentException("retryAfterSeconds must be >= 0");
        }
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** Probability that a successful confirm is applied but answered with a 500 (lost response). */
    public double getConfirmLostResponseRate() { return confirmLostResponseRate; }
    public void setConfirmLostResponseRate(double rate) {
        this.confirmLostResponseRate = probability("confirmLostResponseRate", rate);
    }

    /** Probability that a successful presign creates its submission but is answered with a 500. */
    public double getPresignLostResponseRate() { return presignLostResponseRate; }
    public void setPresignLostResponseRate(double rate) {
        this.presignLostResponseRate = probability("presignLostResponseRate", rate);
    }

    /** Fixed extra delay before every request (API and storage) is handled. */
    public long getLatencyMillis() { return latencyMillis; }
    public void setLatencyMillis(long latencyMillis) { this.latencyMillis = nonNegative("latencyMillis", latencyMillis); }

    /** Extra random delay, uniform in [0, jitter], added on top of {@link #getLatencyMillis()}. */
    public long getLatencyJitterMillis() { return latencyJitterMillis; }
    public void setLatencyJitterMillis(long latencyJitterMillis) {
        this.latencyJitterMillis = nonNegative("latencyJitterMillis", latencyJitterMillis);
    }

    /** Probability per token-bearing API call that the presented token is revoked just before it is checked. */
    public double getTokenRevocationRate() { return tokenRevocationRate; }
    public void setTokenRevocationRate(double rate) { this.tokenRevocationRate = probability("tokenRevocationRate", rate); }

    /** Probability that a presigned upload URL is issued already expired. */
    public double getExpiredUrlRate() { return expiredUrlRate; }
    public void setExpiredUrlRate(double rate) { this.expiredUrlRate = probability("expiredUrlRate", rate); }

    /** Probability that the callback of a finished submission (all duplicate copies) is never sent. */
    public double getCallbackDropRate() { return callbackDropRate; }
    public void setCallbackDropRate(double rate) { this.callbackDropRate = probability("callbackDropRate", rate); }

    /** Share of uploads answered 200 but not stored (a write the storage lost): the confirm then finds no upload (422). */
    public double getUploadDropRate() { return uploadDropRate; }
    public void setUploadDropRate(double rate) { this.uploadDropRate = probability("uploadDropRate", rate); }

    /**
     * Share of correctly signed uploads refused 403 AccessDenied "Access Denied", as a bucket policy
     * refuses them: not an expired URL, so a fresh one is refused alike.
     */
    public double getUploadDeniedRate() { return uploadDeniedRate; }
    public void setUploadDeniedRate(double rate) { this.uploadDeniedRate = probability("uploadDeniedRate", rate); }

    /** Extra delay between a submission finishing and its callback being sent. */
    public long getCallbackLateMillis() { return callbackLateMillis; }
    public void setCallbackLateMillis(long callbackLateMillis) {
        this.callbackLateMillis = nonNegative("callbackLateMillis", callbackLateMillis);
    }

    /** Seed of the fault decisions; null = unseeded (different every run). */
    public Long getRandomSeed() { return randomSeed.seed(); }

    /** Setting a seed, even the same one again, restarts the decision sequence from its beginning. */
    public synchronized void setRandomSeed(Long seed) {
        randomSeed = new SeedState(seed, randomSeed.generation() + 1);
    }

    SeedState randomSeedState() { return randomSeed; }

    private static double probability(String name, double rate) {
        if (!(rate >= 0.0 && rate <= 1.0)) { // also rejects NaN
            throw new IllegalArgumentException(name + " must be between 0 and 1, was " + rate);
        }
        return rate;
    }

    private static long nonNegative(String name, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must be >= 0");
        }
        return value;
    }
}

package id.ktpbridge.sandbox;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * In-process emulator of the GTF OneKYC KTP Scan API: token gateway, API gateway and the
 * presigned object storage on one local port. Used by the demo run and by tests; the
 * inspection methods below let tests assert what a client actually did.
 */
public final class GtfSandbox {

    private static final Logger LOG = LoggerFactory.getLogger(GtfSandbox.class);

    private final SandboxSettings settings;
    private final SandboxCore core;
    private final StorageEndpoint storage;
    private final ApiRouter router;
    private final ScheduledExecutorService scheduler;
    private final ExecutorService callbackHttp;
    private final CallbackSender callbacks;
    private final FaultInjector faults;
    private HttpServer server;
    private ExecutorService serverThreads;
    private volatile String baseUrl;
    private boolean stopped;

    public GtfSandbox(SandboxSettings settings) {
        // the JDK server writes headers and body separately; without TCP_NODELAY a kept-alive client
        // waits ~40 ms for a delayed ACK on every call, which a real gateway does not cost
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
        this.settings = settings;
        this.scheduler = Executors.newScheduledThreadPool(2, daemonThreads("gtf-sandbox-processing"));
        this.callbackHttp = Executors.newCachedThreadPool(daemonThreads("gtf-sandbox-callback"));
        this.callbacks = new CallbackSender(scheduler, callbackHttp);
        this.faults = new FaultInjector(settings);
        SubmissionProcessor processor = new SubmissionProcessor(settings, scheduler, callbacks, faults);
        this.core = new SandboxCore(settings, processor, faults, this::baseUrl);
        this.storage = new StorageEndpoint(core);

        TokenEndpoints tokens = new TokenEndpoints(core);
        UploadEndpoints uploads = new UploadEndpoints(core);
        StatusEndpoint status = new StatusEndpoint(core);
        DetailsEndpoint details = new DetailsEndpoint(core);
        processor.fullRecordsFrom(details::render);
        // integer error codes where the reference pages show them (user token, details)
        this.router = new ApiRouter(core, storage)
                .route("token", "GET", "/v2/coe/authentication", true, "GENERIC_SERVICE_ERROR", tokens::userToken)
                .route("partner-token", "GET", "/v1/coe/partner/authentication", false,
                        "Unknown error processing the request", tokens::partnerToken)
                .route("presign", "GET", "/coe/v1/submissions/urls", false, "SOMETHING_WENT_WRONG", uploads::presign)
                .route("confirm", "PUT", "/coe/v1/submissions/urls", false, "GENERIC_SERVICE_ERROR", uploads::confirm)
                .route("status", "GET", "/coe/v1/submissions/([^/]+)/status", false, "SOMETHING_WENT_WRONG",
                        status::status)
                .route("details", "GET", "/coe/v1/submissions", true, "GENERIC_SERVICE_ERROR", details::details);
    }

    public GtfSandbox() {
        this(new SandboxSettings());
    }

    /** Binds and starts the server; with port 0 an ephemeral port is chosen. One-shot: no restart after stop. */
    public synchronized GtfSandbox start() {
        if (stopped) {
            throw new IllegalStateException("GTF sandbox was stopped; create a new instance");
        }
        if (server != null) {
            return this;
        }
        try {
            server = HttpServer.create(new InetSocketAddress(settings.getHost(), settings.getPort()), 0);
        } catch (IOException e) {
            throw new UncheckedIOException("GTF sandbox cannot bind " + settings.getHost() + ":" + settings.getPort(), e);
        }
        serverThreads = Executors.newFixedThreadPool(settings.getServerThreads(), daemonThreads("gtf-sandbox-http"));
        server.setExecutor(serverThreads);
        server.createContext("/", router);
        server.start();
        String publicBase = settings.getPublicBaseUrl();
        baseUrl = publicBase != null && !publicBase.isBlank()
                ? stripSlash(publicBase)
                : "http://" + urlHost(settings.getHost()) + ":" + server.getAddress().getPort();
        LOG.info("GTF sandbox listening on {}", baseUrl);
        return this;
    }

    /** Stops the server and all background work; pending callbacks are dropped. */
    public synchronized void stop() {
        stopped = true;
        if (server != null) {
            server.stop(0);
            serverThreads.shutdownNow();
            server = null;
            LOG.info("GTF sandbox stopped");
        }
        scheduler.shutdownNow();
        callbackHttp.shutdownNow();
        try {
            scheduler.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** e.g. {@code http://127.0.0.1:41234}; token gateway, API gateway and storage all live here. */
    public String baseUrl() {
        String url = baseUrl;
        if (url == null) {
            throw new IllegalStateException("GTF sandbox not started");
        }
        return url;
    }

    public synchronized int port() {
        if (server == null) {
            throw new IllegalStateException("GTF sandbox not started");
        }
        return server.getAddress().getPort();
    }

    /** The live settings; changes take effect for subsequent requests. */
    public SandboxSettings settings() {
        return settings;
    }

    // ---- inspection hooks for tests and the demo ----

    /** All tokens minted (user and partner). */
    public long tokenIssuedCount() {
        return core.tokens.issuedCount();
    }

    /** User tokens minted for one partner user id. */
    public long tokenIssuedCount(String partnerUserId) {
        return core.tokens.issuedCount(partnerUserId);
    }

    public long partnerTokenIssuedCount() {
        return core.tokens.partnerIssuedCount();
    }

    /** Invalidates every token issued so far; they answer 401 from now on. */
    public void revokeAllTokens() {
        core.tokens.revokeAll();
    }

    public List<StorageRequest> storageRequests() {
        return storage.requests();
    }

    /** Successful confirms of a submission (0 when unknown). */
    public int confirmCount(String submissionId) {
        Submission s = core.submissions.get(submissionId);
        return s == null ? 0 : s.confirmCount();
    }

    /** All confirm requests that reached an existing submission, including rejected ones. */
    public int confirmAttempts(String submissionId) {
        Submission s = core.submissions.get(submissionId);
        return s == null ? 0 : s.confirmAttempts();
    }

    /** SHA-256 of each stored upload of a submission, by document key (empty when unknown). */
    public java.util.Map<String, String> uploadedSha256s(String submissionId) {
        Submission s = core.submissions.get(submissionId);
        return s == null ? java.util.Map.of() : s.uploadedSha256s();
    }

    /** Submission ids in creation order. */
    public List<String> submissionIds() {
        return core.submissions.ids();
    }

    /** INITIATED, IN_PROGRESS, COMPLETED or ERROR; null when unknown. */
    public String submissionStatus(String submissionId) {
        Submission s = core.submissions.get(submissionId);
        return s == null ? null : s.status().name();
    }

    public int submissionCount() {
        return core.submissions.size();
    }

    /** Presigns answered with the user's submission still waiting for its upload (see SandboxSettings). */
    public long presignsReused() {
        return core.submissions.reusedCount();
    }

    /** Callback POSTs answered with 2xx (each duplicate copy counts). */
    public long callbacksDelivered() {
        return callbacks.deliveredCount();
    }

    /** Callback POSTs attempted, successful or not. */
    public long callbackAttempts() {
        return callbacks.attemptCount();
    }

    // ---- fault injection counters (see SandboxSettings for the knobs) ----

    /**
     * Responses falsified by fault injection: calls refused with an injected 500/503/429
     * (storage included) plus lost responses of applied presigns/confirms.
     */
    public long injectedFailures() {
        return faults.injectedFailures();
    }

    /** As {@link #injectedFailures()} for one endpoint: token, partner-token, presign, confirm, status, details, storage. */
    public long injectedFailures(String endpoint) {
        return faults.injectedFailures(endpoint);
    }

    /** Presigns/confirms that took effect but whose response was replaced by a 500 (part of injectedFailures). */
    public long lostResponses() {
        return faults.lostResponses();
    }

    /** Tokens revoked by {@code tokenRevocationRate} (not by {@link #revokeAllTokens()}). */
    public long tokensRevokedByFaults() {
        return faults.tokensRevoked();
    }

    /** Presigned upload URLs issued already expired by {@code expiredUrlRate}. */
    public long expiredUrlsIssued() {
        return faults.expiredUrlsIssued();
    }

    /** Uploads acknowledged but not stored by {@code uploadDropRate}. */
    public long uploadsDropped() {
        return faults.uploadsDropped();
    }

    /** Uploads refused 403 Access Denied by {@code uploadDeniedRate}. */
    public long uploadsDenied() {
        return faults.uploadsDenied();
    }

    /** Callbacks (with all their duplicate copies) never sent because of {@code callbackDropRate}. */
    public long callbacksDropped() {
        return faults.callbacksDropped();
    }

    /** Every OneKYC API call (not storage) in arrival order. */
    public List<ApiCall> requestLog() {
        return router.requestLog();
    }

    private static String urlHost(String host) {
        if ("0.0.0.0".equals(host) || "::".equals(host)) {
            return "127.0.0.1"; // a wildcard bind address is not reachable as a URL host
        }
        return host.contains(":") ? "[" + host + "]" : host;
    }

    private static String stripSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}

package id.ktpbridge;

import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Stream;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.batch.BatchMonitor;
import id.ktpbridge.batch.DropFolder;
import id.ktpbridge.batch.ProgressReporter;
import id.ktpbridge.collect.CallbackAuth;
import id.ktpbridge.collect.CallbackReceiver;
import id.ktpbridge.collect.CallbackNotReady;
import id.ktpbridge.collect.CallerAllowlist;
import id.ktpbridge.collect.ClusteredQuartz;
import id.ktpbridge.collect.Collector;
import id.ktpbridge.collect.Poller;
import id.ktpbridge.collect.SlowRequests;
import id.ktpbridge.gtf.CircuitBreaker;
import id.ktpbridge.gtf.GtfClient;
import id.ktpbridge.gtf.GtfHttp;
import id.ktpbridge.gtf.GtfSettings;
import id.ktpbridge.gtf.RateLimiter;
import id.ktpbridge.ingest.CountingPollStrategy;
import id.ktpbridge.ingest.DropFolderClock;
import id.ktpbridge.ingest.DropFolderStore;
import id.ktpbridge.ingest.EmptyFiles;
import id.ktpbridge.ingest.FailureReport;
import id.ktpbridge.ingest.FileQuarantine;
import id.ktpbridge.ingest.FileSidecar;
import id.ktpbridge.ingest.FileSystems;
import id.ktpbridge.ingest.FutureDatedFiles;
import id.ktpbridge.ingest.FutureDatedLeft;
import id.ktpbridge.ingest.ImageInspector;
import id.ktpbridge.ingest.ListingHealthCheck;
import id.ktpbridge.ingest.PartnerUserResolver;
import id.ktpbridge.ingest.PausedFiles;
import id.ktpbridge.ingest.PlacedName;
import id.ktpbridge.ingest.SettledInPlace;
import id.ktpbridge.ingest.SourceMoveRefusals;
import id.ktpbridge.ingest.SourceRelease;
import id.ktpbridge.ingest.SourceStamp;
import id.ktpbridge.ingest.UntakeableFiles;
import id.ktpbridge.ledger.ClaimRenewal;
import id.ktpbridge.ledger.DataSources;
import id.ktpbridge.ledger.H2FileUrls;
import id.ktpbridge.ledger.InstanceLock;
import id.ktpbridge.ledger.InstanceLockWatch;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerIdempotentRepository;
import id.ktpbridge.ledger.LedgerRetention;
import id.ktpbridge.ledger.Leases;
import id.ktpbridge.ledger.SchemaMigrator;
import id.ktpbridge.result.DeliveryStore;
import id.ktpbridge.result.Outbox;
import id.ktpbridge.result.ResultPublisher;
import id.ktpbridge.s3.S3PollGate;
import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.sandbox.SandboxSettings;
import id.ktpbridge.sftp.SftpListingClaims;
import id.ktpbridge.submit.FailureRecorder;
import id.ktpbridge.submit.GoneCheck;
import id.ktpbridge.submit.InputsInHand;
import id.ktpbridge.submit.Intake;
import id.ktpbridge.submit.ReplacedInputs;
import id.ktpbridge.submit.SourcePlaces;
import id.ktpbridge.submit.StrandedInputs;
import id.ktpbridge.submit.SubmissionWorkers;
import id.ktpbridge.submit.Submitter;
import id.ktpbridge.target.FileResultTarget;
import id.ktpbridge.target.HttpTargetLimits;
import id.ktpbridge.target.HttpTargetRequest;
import id.ktpbridge.target.JdbcResultTarget;
import id.ktpbridge.target.ResultsDatabase;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.component.file.GenericFileFilter;
import org.apache.camel.component.http.HttpComponent;
import org.apache.camel.health.HealthCheckRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import id.ktpbridge.ops.BridgeMetrics;
import id.ktpbridge.ops.LedgerHealthCheck;
import id.ktpbridge.ops.LedgerSnapshot;
import id.ktpbridge.ops.OneKycHealthCheck;
import id.ktpbridge.ops.OneKycProbe;
import org.apache.camel.spi.Registry;
import org.apache.camel.support.processor.idempotent.MemoryIdempotentRepository;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The wiring of the whole bundle on one screen: every bean the routes use, built from the
 * properties (see README for each one) and bound in the registry under the name the routes use.
 */
public class BridgeConfiguration implements CamelConfiguration {

    private static final Logger LOG = LoggerFactory.getLogger(BridgeConfiguration.class);
    /** The callback path of routes/callback.yaml (reference section 9). */
    static final String CALLBACK_PATH = "/coe/submissions-callback";

    private final BridgeMain main;

    /** @param main the bundle's own main, which batch mode stops; null under another Camel Main runtime */
    public BridgeConfiguration(BridgeMain main) {
        this.main = main;
    }

    @Override
    public void configure(CamelContext context) throws Exception {
        long startedAt = System.currentTimeMillis();
        context.getPropertiesComponent().addPropertiesFunction(new AbsolutePathFunction(context));
        Settings s = new Settings(context);
        Registry registry = context.getRegistry();
        ObjectMapper json = new ObjectMapper();

        Path dataDir = s.path("ktp.data-dir");
        Files.createDirectories(dataDir);
        boolean cluster = s.flag("ktp.cluster.enabled", false);
        String instance = instanceId(s);
        // before the pool, so it is let go after the pool has closed
        instanceLock(s, context, instance, cluster);
        DataSource dataSource = dataSource(s, dataDir, context);
        SchemaMigrator.migrate(dataSource);
        Ledger ledger = new Ledger(dataSource);
        registry.bind("ktpDataSource", dataSource);
        registry.bind("ledger", ledger);
        // every health check's error is shown by its kind only (Camel finds the one strategy bound)
        registry.bind("safeHealthErrors", new id.ktpbridge.ops.SafeHealthErrors());

        // inputs taken, per source: claimed while in progress, remembered once done (restarts, instances)
        long claimTtl = s.duration("ktp.source.claim-ttl", Duration.ofMinutes(10)).toMillis();
        List<LedgerIdempotentRepository> inputRepositories = List.of(
                new LedgerIdempotentRepository(dataSource, "file", claimTtl, instance),
                new LedgerIdempotentRepository(dataSource, "sftp", claimTtl, instance),
                new LedgerIdempotentRepository(dataSource, "s3", claimTtl, instance));
        registry.bind("sftpProcessedInputs", inputRepositories.get(1));
        SftpListingClaims sftpListingClaims = new SftpListingClaims(inputRepositories.get(1));
        registry.bind("sftpListingClaims", sftpListingClaims);
        // the main listing's (ingest-sftp's) polls are counted for readiness, sftp-source; the oversized
        // files' listing asks the same server once a minute and does not speak for it
        registry.bind("sftpCountedListingClaims", new CountingPollStrategy(sftpListingClaims));
        registry.bind("s3ProcessedInputs", inputRepositories.get(2));

        DeliveryStore deliveries = new DeliveryStore(dataSource);
        fileClaims(s, context, registry, cluster, inputRepositories.get(0));
        if (cluster && s.optional("ktp.db.url").map(u -> u.startsWith("jdbc:h2:")).orElse(true)) {
            throw new IllegalStateException("ktp.cluster.enabled=true needs a database all instances share:"
                    + " set ktp.db.url (KTP_DB_URL) to a PostgreSQL URL");
        }
        // what the ledger holds at start, by state: a restart that finds fewer inputs than the last
        // run left shows at once
        Map<String, Integer> states = ledger.stateCounts();
        LOG.info("Ledger at start: {} inputs {}", states.values().stream().mapToInt(Integer::intValue).sum(), states);
        if (s.flag("ktp.recovery.release-claims-on-start", !cluster)) {
            // a single instance owns every claim: those left by a previous run died with it
            int released = ledger.releaseStaleClaims(Long.MAX_VALUE);
            for (LedgerIdempotentRepository repository : inputRepositories) {
                released += repository.releaseClaims();
            }
            // deliveries the previous run had taken and never reported back are due now
            released += deliveries.releaseLeases(System.currentTimeMillis());
            if (released > 0) {
                LOG.info("{} claim(s) of the previous run released", released);
            }
        }
        Leases leases = new Leases(dataSource, instance);
        registry.bind("leases", leases);
        LedgerRetention retention = new LedgerRetention(dataSource, s.duration("ktp.ledger.retention",
                Duration.ofDays(90)), leases, s.duration("ktp.ledger.retention-interval", Duration.ofHours(1)));
        retention.claimTtl(Duration.ofMillis(claimTtl));
        registry.bind("ledgerRetention", retention);
        if (cluster) {
            // Quartz on connections of its own, which workers filling the ledger's pool cannot hold up
            DataSource quartzPool = pool(context, ledgerUrl(s, dataDir), s.string("ktp.db.user", "sa"),
                    s.string("ktp.db.password", ""), ClusteredQuartz.CONNECTIONS, "ktp-quartz", socketTimeout(s));
            ClusteredQuartz.configure(context, dataSource, quartzPool, instance, s);
        }

        String callbackToken = s.optional("ktp.callback.auth-token").orElse(null);
        GtfSettings gtfSettings = gtfSettings(s);
        if (sandboxOn(s)) {
            if (callbackToken == null) {
                callbackToken = UUID.randomUUID().toString();
            }
            GtfSandbox sandbox = startSandbox(s, context, gtfSettings, callbackToken);
            registry.bind("gtfSandbox", sandbox);
            gtfSettings = gtfSettings.withBaseUrls(sandbox.baseUrl(), sandbox.baseUrl());
        } else {
            requireRealGtf(s);
            LOG.info("OneKYC: token gateway {}, API gateway {} (no embedded sandbox)", s.string("gtf.token-url"),
                    s.string("gtf.api-url"));
        }

        HttpClient http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(gtfSettings.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        CircuitBreaker breaker = new CircuitBreaker(s.integer("gtf.circuit-breaker.failure-threshold", 10),
                s.duration("gtf.circuit-breaker.open-for", Duration.ofSeconds(30)));
        // a call after a pause that hangs fails at its whole answer limit; a few seconds more for the
        // rate limiter and the wake-up after the pause
        breaker.callsTakeUpTo(GtfHttp.wholeAnswerLimit(gtfSettings.readTimeout()).plusSeconds(5));
        GtfHttp gtfHttp = new GtfHttp(http, json, gtfSettings.retryMaxAttempts(),
                gtfSettings.retryInitialDelay(), gtfSettings.retryMaxDelay(), breaker,
                new RateLimiter(s.decimal("gtf.rate-limit.per-second", 0, 0)));
        gtfHttp.maxRetryAfter(s.duration("gtf.retry.max-retry-after", GtfHttp.DEFAULT_MAX_RETRY_AFTER));
        gtfHttp.retryUsedUpQuota(s.flag("gtf.retry.quota-exceeded", true));
        GtfClient gtf = new GtfClient(gtfSettings, gtfHttp, json);
        gtf.detailsUserHeaders(s.choice("gtf.details.partner-user-headers", "never", "never", "auto", "always"));
        gtf.uploadContentType(uploadContentType(s));
        gtf.uploadMethod(s.choice("gtf.upload.method", "PUT", "PUT", "POST"));
        registry.bind("gtfClient", gtf);

        List<String> targets = Arrays.stream(s.string("ktp.results.targets", "file").split(","))
                .map(String::trim).filter(t -> !t.isEmpty()).toList();
        Outbox outbox = new Outbox(deliveries, ledger, context.createProducerTemplate(), targets,
                s.duration("ktp.results.retry.initial-backoff", Duration.ofSeconds(2)),
                s.duration("ktp.results.retry.max-backoff", Duration.ofMinutes(5)),
                s.integer("ktp.results.retry.batch-size", 100),
                // longer than any single attempt may take, so an attempt under way is never started twice
                s.duration("ktp.results.retry.lease", Duration.ofMinutes(2)));
        outbox.retryExecutor(context.getExecutorServiceManager().newFixedThreadPool(this, "ktp-delivery-retry",
                targets.size()));
        // the file target has no time limit of its own: on a hung network share it holds a worker this
        // long at most, its attempt going on on a thread of the target's
        outbox.immediateAttempts(targets.stream().distinct().collect(java.util.stream.Collectors.toMap(t -> t,
                        t -> context.getExecutorServiceManager().newCachedThreadPool(this, "ktp-delivery-" + t))),
                s.duration("ktp.results.immediate-attempt-wait", Duration.ofSeconds(30)));
        registry.bind("outbox", outbox);
        deliveries.pendingOutside(targets).forEach((target, pending) -> LOG.warn("{} result deliveries to {} are"
                + " pending, but ktp.results.targets no longer names it: they wait until it does, their inputs kept"
                + " in the ledger past ktp.ledger.retention (README, Result targets)", pending,
                target));
        if (targets.contains("jdbc") && s.optional("ktp.results.jdbc.url")
                .filter(url -> H2FileUrls.sameLocalFile(url, ledgerUrl(s, dataDir))).isPresent()) {
            // a pool of its own would checkpoint the ledger's file outside the ledger's checkpoint gate
            throw new IllegalStateException("Setting 'ktp.results.jdbc.url' (KTP_RESULTS_JDBC_URL) names the ledger's own"
                    + " H2 file: leave it unset, and the results table is kept in the ledger's database");
        }
        targets(s, context, registry, json, ledger, targets);
        ResultPublisher publisher = new ResultPublisher(ledger, json, outbox);
        publisher.keepImageUrls(s.choice("ktp.results.image-urls", "omit", "omit", "keep").equals("keep"));
        Duration retryDelay = s.duration("ktp.poll.initial-backoff", Duration.ofSeconds(2));
        Collector collector = new Collector(ledger, gtf, publisher, retryDelay, s.integer("ktp.db.retry-attempts", 6),
                Duration.ofMillis(s.integer("ktp.db.retry-delay", 500)));
        collector.notFoundGrace(s.duration("ktp.poll.not-found-grace", Collector.DEFAULT_NOT_FOUND_GRACE));
        collector.verdictRequired(s.flag("gtf.details.require-result", true));
        collector.maxRetryDelay(s.duration("ktp.poll.max-backoff", Duration.ofSeconds(30)));
        registry.bind("resultPublisher", publisher);
        registry.bind("collector", collector);

        String dedupe = s.choice("ktp.source.dedupe", "content", "content", "none");
        Intake intake = new Intake(ledger, new ImageInspector(s.number("ktp.source.max-size", 10L << 20)),
                new PartnerUserResolver(s.optional("ktp.source.user-id-pattern").orElse(null),
                        s.string("ktp.source.user-id-allowed"), s.string("ktp.source.user-id-type-allowed"),
                        s.string("gtf.partner-user-id-type")),
                publisher, json, gtfSettings.onboardingPartner(), dataDir.resolve("spool"),
                dedupe.equals("content"));
        intake.clustered(cluster);
        intake.spoolMemory(s.number("ktp.source.spool-memory-bytes", Intake.DEFAULT_SPOOL_MEMORY));
        if (!cluster && ownsItsLedger(s)) {
            // no other process uses this data folder (the ledger is this process's alone), and no route runs yet
            int removed = intake.removeLeftoverSpoolCopies();
            if (removed > 0) {
                LOG.info("{} spool copies left by an earlier process that did not stop were deleted", removed);
            }
        }
        intake.brokenReadWindow(s.duration("ktp.source.s3.broken-read-window", Intake.DEFAULT_BROKEN_READ_WINDOW));
        intake.localReadWindow(s.duration("ktp.source.file.broken-read-window", Intake.DEFAULT_BROKEN_READ_WINDOW));
        InputsInHand inputsInHand = new InputsInHand(ledger, instance, claimTtl, cluster);
        registry.bind("inputsInHand", inputsInHand);
        intake.inputsInHand(inputsInHand);
        // with the file drop off this instance may not see the folder the others read: it judges no file gone
        DropFolderStore dropFolderStore = s.flag("ktp.source.file.enabled", true)
                ? new DropFolderStore(s.path("ktp.source.dir"), dataDir.resolve("drop-folder-store")) : null;
        ReplacedInputs replacedInputs = new ReplacedInputs(ledger, publisher, leases, inputsInHand, dropFolderStore,
                Duration.ofMillis(claimTtl), s.duration("ktp.poll.reconfirm-after", Duration.ofSeconds(30)),
                s.duration("ktp.poll.deadline", Duration.ofMinutes(30)));
        SourcePlaces places = SourcePlaces.from(s);
        // SFTP and S3 inputs whose file or object was deleted or moved away while they waited: the checks
        // of the sources that are on (SftpConfiguration, S3Configuration) tell the sweep which are gone
        replacedInputs.remote(places, Stream.of("sftpGoneCheck", "s3GoneCheck")
                .map(name -> registry.lookupByNameAndType(name, GoneCheck.class)).filter(Objects::nonNull).toList());
        intake.replacedInputs(replacedInputs);
        intake.pollTimes(s.duration("ktp.poll.reconfirm-after", Duration.ofSeconds(30)),
                s.duration("ktp.poll.deadline", Duration.ofMinutes(30)));
        registry.bind("replacedInputs", replacedInputs);
        // inputs an earlier run left where no source of this configuration reads: ended where the ledger is
        // this process's alone, else counted in a WARN (another instance may read that place)
        StrandedInputs strandedInputs = new StrandedInputs(ledger, replacedInputs, places,
                !cluster && ownsItsLedger(s), startedAt, Duration.ofMillis(claimTtl));
        registry.bind("strandedInputs", strandedInputs);
        // at start, once the routes run (results are delivered), before the start ends and before batch
        // mode's monitor begins; route end-stranded-inputs looks again should this look fail
        context.addStartupListener(new org.apache.camel.StartupListener() {
            @Override
            public void onCamelContextStarted(CamelContext ctx, boolean alreadyStarted) {
                // not yet
            }

            @Override
            public void onCamelContextFullyStarted(CamelContext ctx, boolean alreadyStarted) {
                try {
                    strandedInputs.atStart();
                } catch (RuntimeException e) {
                    LOG.warn("Inputs left where no source of this configuration reads could not be looked for ({});"
                            + " looked for again in a minute", e.getMessage());
                }
            }
        });
        if (cluster) {
            renewClaims(context, inputRepositories, inputsInHand, claimTtl);
        }
        registry.bind("intake", intake);
        Submitter submitter = new Submitter(gtf, ledger, collector, gtfSettings.primaryDocumentKey(),
                s.duration("ktp.poll.first-delay", Duration.ofSeconds(3)),
                s.duration("ktp.poll.deadline", Duration.ofMinutes(30)));
        submitter.retryWindow(s.duration("ktp.submit.retry-window", Submitter.DEFAULT_RETRY_WINDOW));
        submitter.waitOutUsedUpQuota(s.flag("gtf.retry.quota-exceeded", true));
        registry.bind("submitter", submitter);
        registry.bind("failureRecorder", new FailureRecorder(ledger, publisher));
        registry.bind("failureReport", new FailureReport(json));
        FileSidecar fileSidecar = new FileSidecar(json, s.path("ktp.source.done-dir"), s.path("ktp.source.failed-dir"));
        fileSidecar.readWindow(s.duration("ktp.source.file.broken-read-window", Intake.DEFAULT_BROKEN_READ_WINDOW));
        registry.bind("fileSidecar", fileSidecar);
        registry.bind("fileDoneName", PlacedName.done(s.path("ktp.source.done-dir")));
        boolean copyToDone = FileSystems.apart(s.path("ktp.source.dir"), s.path("ktp.source.done-dir"));
        if (copyToDone) {
            LOG.info("The done folder is on another file system than the drop folder: submitted files are copied"
                    + " there, then deleted");
        }
        context.getPropertiesComponent().addOverrideProperty("ktp.source.rename-using-copy", String.valueOf(copyToDone));
        registry.bind("sourceRelease", new SourceRelease(ledger, s.integer("ktp.db.retry-attempts", 6),
                s.integer("ktp.db.retry-delay", 500)));
        registry.bind("sourceStamp", new SourceStamp());
        SettledInPlace settledFiles = new SettledInPlace();
        PausedFiles pausedFiles = new PausedFiles();
        FutureDatedLeft futureDatedLeft = new FutureDatedLeft(new FutureDatedFiles(s.string("ktp.source.include")));
        DropFolderClock dropFolderClock = new DropFolderClock(s.path("ktp.source.dir"),
                s.duration("ktp.source.read-lock-min-age", Duration.ofSeconds(2)).toMillis(), futureDatedLeft);
        // a worker asks again, by the same clock, whether the file it came to has stopped changing
        intake.dropFolderClock(dropFolderClock);
        // files the read lock can never take are left out first: they would take a scan's places
        UntakeableFiles untakeableFiles = new UntakeableFiles(s.string("ktp.source.include"),
                settledFiles.before(pausedFiles.before(fileTimes(s, dropFolderClock))));
        GenericFileFilter<File> fileListingFilter = untakeableFiles;
        // a file listed shows the file system the drop folder holds its files on (see DropFolderStore)
        registry.bind("fileListingFilter", dropFolderStore == null ? fileListingFilter
                : dropFolderStore.noting(fileListingFilter));
        registry.bind("fileMoveRefusals", new SourceMoveRefusals(settledFiles));
        registry.bind("fileQuarantine", new FileQuarantine(new FailureReport(json), s.path("ktp.source.failed-dir"),
                settledFiles, pausedFiles));

        int concurrency = s.integer("ktp.concurrency", 8);
        registry.bind("submitWorkers", SubmissionWorkers.create(context, concurrency,
                s.integer("ktp.source.queue-size", concurrency)));
        ExecutorService pollWorkers = context.getExecutorServiceManager().newFixedThreadPool(this, "ktp-poll", concurrency);
        registry.bind("pollWorkers", pollWorkers);
        Duration staleClaimAfter = s.duration("ktp.poll.stale-claim-after", Duration.ofMinutes(5));
        warnIfDetailsCanOutlastTheirClaim(gtfSettings, staleClaimAfter);
        Poller poller = new Poller(ledger, gtf, collector, s.integer("ktp.poll.batch-size", 100), retryDelay,
                s.duration("ktp.poll.max-backoff", Duration.ofSeconds(30)),
                staleClaimAfter,
                s.duration("ktp.poll.reconfirm-after", Duration.ofSeconds(30)),
                // cluster mode: no tick lease, the clustered Quartz store gives each tick to one instance
                cluster ? null : registry.lookupByNameAndType("leases", Leases.class),
                3 * s.duration("ktp.poll.interval", Duration.ofSeconds(1)).toMillis());
        poller.statusPolling(s.flag("ktp.poll.enabled", true));
        registry.bind("poller", poller);

        boolean callbacks = s.flag("ktp.callback.enabled", true);
        // with the endpoint off (polling only) its credentials are not asked for: a token nobody
        // knows refuses any callback that reached the receiver all the same
        CallbackAuth callbackAuth = callbacks
                ? new CallbackAuth(s.string("ktp.callback.auth-mode", "bearer"), callbackToken,
                        s.string("ktp.callback.username", ""), s.string("ktp.callback.password", ""),
                        s.string("ktp.callback.api-key-header", "X-API-Key"), s.string("ktp.callback.api-key", ""),
                        s.string("ktp.callback.hmac-header", "X-Signature"), s.string("ktp.callback.hmac-secret", ""))
                : new CallbackAuth("bearer", UUID.randomUUID().toString());
        CallerAllowlist callers = new CallerAllowlist(s.string("ktp.callback.allowed-cidrs", ""));
        boolean recordIsResult = s.choice("ktp.callback.result-source", "details", "details", "callback")
                .equals("callback");
        boolean trustForwardedFor = s.flag("ktp.callback.trust-forwarded-for", false);
        if (callbacks && recordIsResult && callbackAuth.isNone() && callers.isEmpty()) {
            // a result taken from the body would let anyone who can reach the port write results
            throw new IllegalStateException("ktp.callback.result-source=callback takes results from callback bodies:"
                    + " it needs ktp.callback.auth-mode other than none, or ktp.callback.allowed-cidrs");
        }
        if (callbacks && recordIsResult && callbackAuth.isNone() && trustForwardedFor) {
            // the allowlist then checks the X-Forwarded-For entry, which a caller that reaches the port
            // without the proxy (another pod, through the ClusterIP Service) writes itself
            throw new IllegalStateException("ktp.callback.result-source=callback takes results from callback bodies:"
                    + " with ktp.callback.trust-forwarded-for the caller ktp.callback.allowed-cidrs checks is read"
                    + " from X-Forwarded-For, which anyone who reaches the port without the proxy can write: it needs"
                    + " ktp.callback.auth-mode other than none");
        }
        CallbackReceiver callbackReceiver = new CallbackReceiver(callbackAuth, callers,
                trustForwardedFor, s.integer("ktp.callback.max-body-size", 65536),
                json, ledger, collector, recordIsResult);
        callbackReceiver.noteBeforeAnswer(!s.flag("ktp.poll.enabled", true));
        callbackReceiver.ledgerRetries(s.integer("ktp.db.retry-attempts", 6),
                Duration.ofMillis(s.integer("ktp.db.retry-delay", 500)));
        callbackReceiver.recordsBudget(s.number("ktp.callback.record-queue-bytes", 16L << 20));
        ExecutorService notePool = callbackNotePool(context, s.integer("ktp.callback.note-queue-size", 1000));
        callbackReceiver.notePool(notePool);
        // notes still waiting at a stop are not needed: status polling finds their results, and with
        // it off each callback was noted before its answer. Not left to Camel's 10 s wait for busy pools
        context.addService(new ServiceSupport() {
            @Override
            protected void doStop() {
                context.getExecutorServiceManager().shutdownNow(notePool);
            }
        });
        registry.bind("callbackReceiver", callbackReceiver);

        if (callbacks) {
            // runs once the HTTP server is up and before any route starts
            context.addStartupListener((ctx, alreadyStarted) -> CallbackNotReady.install(ctx,
                    CALLBACK_PATH, s.string("ktp.callback.methods", "POST")));
            Duration requestTimeout = s.duration("ktp.callback.request-timeout", Duration.ofSeconds(30));
            context.addStartupListener((ctx, alreadyStarted) -> SlowRequests.install(ctx, requestTimeout));
        }
        DropFolder dropFolder = new DropFolder(s.path("ktp.source.dir"), s.string("ktp.source.include"),
                settledFiles::holds, futureDatedLeft::holds);
        // said by the scan too, not only by a batch's end or a progress line (an idle service has neither)
        untakeableFiles.onUndecodable(dropFolder::noteUndecodable);
        // with the file drop off, files left in its folder are never taken: not counted as waiting
        registry.bind("progressReporter", new ProgressReporter(ledger,
                s.flag("ktp.source.file.enabled", true) ? dropFolder::waiting : () -> 0));
        observability(context, registry, ledger, gtf, outbox, publisher, targets);
        if (s.flag("ktp.exit-when-done", false)) {
            BatchMonitor monitor = new BatchMonitor(context, ledger, outbox::pendingCount, outbox.store()::refusedSince,
                    s.duration("ktp.batch.delivery-wait", Duration.ofMinutes(2)), dropFolder,
                    s.duration("ktp.batch.max-wait", Duration.ofMinutes(35)), Duration.ofMillis(100), main::finish);
            monitor.sourceFileNames(s.flag("ktp.batch.summary.file-names", false));
            monitor.notWaitingFor(strandedInputs::stillOpen);
            // once every route has started: the monitor stops the file route when the run is done, and a stop
            // while the routes still start failed the start (an empty folder is found done at once)
            context.addStartupListener(new org.apache.camel.StartupListener() {
                @Override
                public void onCamelContextStarted(CamelContext ctx, boolean alreadyStarted) {
                    // not yet
                }

                @Override
                public void onCamelContextFullyStarted(CamelContext ctx, boolean alreadyStarted) {
                    monitor.start();
                }
            });
        }
    }

    /**
     * Prometheus metrics of the bundle (Camel's own metrics use the same registry) and the health
     * checks of the ledger and of OneKYC, served on the management port.
     */
    private static void observability(CamelContext context, Registry registry, Ledger ledger, GtfClient gtf,
                                      Outbox outbox, ResultPublisher publisher, List<String> targets) throws Exception {
        // Camel's metrics service may have made its registry already: share it, so one scrape shows both
        MeterRegistry meters = registry.lookupByNameAndType("metricsRegistry", MeterRegistry.class);
        if (meters == null) {
            meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            registry.bind("metricsRegistry", meters);
        }
        Settings settings = new Settings(context);
        LedgerSnapshot snapshot = new LedgerSnapshot(context, ledger, outbox.store(),
                settings.duration("ktp.management.ledger-refresh", Duration.ofSeconds(5)),
                settings.duration("ktp.management.ended-refresh", Duration.ofMinutes(1)));
        if (!settings.flag("ktp.poll.enabled", true)) {
            snapshot.statusPollingOff(settings.duration("ktp.poll.reconfirm-after", Duration.ofSeconds(30)));
        }
        context.addService(snapshot);
        registry.bind("ledgerSnapshot", snapshot);
        // the KtpSourceType each ingest route sets (routes/ingest-*.yaml), of the routes this instance runs
        List<String> sources = Stream.of("file", "sftp", "s3")
                .filter(type -> settings.flag("ktp.source." + type + ".enabled", "file".equals(type))).toList();
        if (sources.isEmpty()) {
            // the shipped Kubernetes ConfigMap has every source off: ready replicas that take nothing
            LOG.warn("No source is on (ktp.source.file.enabled, ktp.source.sftp.enabled, ktp.source.s3.enabled):"
                    + " this instance takes no input; it collects outcomes and delivers results only");
        }
        BridgeMetrics metrics = new BridgeMetrics(meters, snapshot, gtf, sources, targets);
        gtf.http().observer(metrics);
        publisher.metrics(metrics);
        outbox.metrics(metrics);
        registry.lookupByNameAndType("poller", Poller.class).metrics(metrics);
        // all: the ledger, OneKYC and the sources; ledger: the ledger only, so an outage of OneKYC
        // or a source does not take every replica out of the Service (and callbacks with them)
        boolean dependenciesGate = "all".equalsIgnoreCase(settings.choice("ktp.health.readiness", "all", "all", "ledger"));
        // the breaker learns only from calls: while none are made, a connection tells (the sandbox's too)
        OneKycProbe probe = new OneKycProbe(gtf.http().breaker(),
                List.of(gtf.settings().tokenUrl(), gtf.settings().apiUrl()),
                settings.duration("ktp.health.onekyc.probe-interval", Duration.ofMinutes(1)),
                gtf.settings().connectTimeout());
        context.addStartupListener((ctx, alreadyStarted) -> {
            HealthCheckRegistry checks = HealthCheckRegistry.get(ctx);
            if (checks != null) {
                checks.register(new LedgerHealthCheck(snapshot));
                checks.register(new OneKycHealthCheck(gtf.http().breaker(), dependenciesGate, probe));
                // the first probe at once: the first readiness call then finds its outcome
                probe.startIfDue();
                // Camel's consumer checks forget the failures when a back-off ends; these do not
                if (dependenciesGate && sources.contains("sftp")) {
                    checks.register(new ListingHealthCheck("sftp-source", "SFTP source: listing the inbox",
                            registry.lookupByNameAndType("sftpCountedListingClaims", CountingPollStrategy.class)
                                    .failures()));
                }
                if (dependenciesGate && sources.contains("s3")) {
                    checks.register(new ListingHealthCheck("s3-source", "S3 source: listing the bucket",
                            registry.lookupByNameAndType("s3SourceGate", S3PollGate.class).failures()));
                }
                if (!dependenciesGate) {
                    // Camel's consumer checks are readiness checks of the sources: left out
                    String excluded = checks.getExcludePattern();
                    checks.setExcludePattern(excluded == null || excluded.isBlank() ? "consumer:*"
                            : excluded + ",consumer:*");
                }
            }
        });
    }

    /** {@code gtf.upload.content-type}: detect, none, or a MIME type sent as it is (see GtfClient). */
    private static String uploadContentType(Settings s) {
        String value = s.string("gtf.upload.content-type", "detect").trim();
        if (value.equalsIgnoreCase("detect") || value.equalsIgnoreCase("none")) {
            return value.toLowerCase(java.util.Locale.ROOT);
        }
        if (!value.matches("[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(\\s*;[\\x20-\\x7E]*)?")) {
            throw new IllegalStateException("Setting 'gtf.upload.content-type' (" + Settings.envName("gtf.upload.content-type") + ") must be detect,"
                    + " none or a MIME type such as application/octet-stream, not '" + value + "'");
        }
        return value;
    }

    /**
     * On PostgreSQL, an instance without cluster mode refuses to start beside any other instance,
     * one in cluster mode beside an instance without it, and any instance beside a live one under
     * the same {@code ktp.cluster.instance-id} (see {@link InstanceLock}). Checked again every
     * {@code ktp.db.instance-lock-check}; an instance that finds its lock or its id taken by another
     * (after a lost connection) stops, since the other has released its claims, or works under
     * the same id, by then.
     */
    private void instanceLock(Settings s, CamelContext context, String instance, boolean cluster) throws Exception {
        String url = s.optional("ktp.db.url").orElse("");
        if (!url.startsWith("jdbc:postgresql:") || !s.flag("ktp.db.instance-lock", true)) {
            return;
        }
        InstanceLock held = InstanceLock.take(url, s.string("ktp.db.user", "sa"), s.string("ktp.db.password", ""),
                instance, cluster);
        context.addService(new InstanceLockWatch(context, held,
                s.duration("ktp.db.instance-lock-check", Duration.ofSeconds(10)), () -> stop(context)));
    }

    /**
     * Whether no other process can use this ledger while this one runs: an embedded H2 file or
     * in-memory database (H2 locks its file), or PostgreSQL with the exclusive instance lock.
     */
    private static boolean ownsItsLedger(Settings s) {
        String url = s.optional("ktp.db.url").orElse("");
        if (url.isEmpty()) {
            return true;
        }
        if (url.startsWith("jdbc:postgresql:")) {
            return s.flag("ktp.db.instance-lock", true);
        }
        String upper = url.toUpperCase(java.util.Locale.ROOT);
        return upper.startsWith("JDBC:H2:") && !upper.startsWith("JDBC:H2:TCP:") && !upper.startsWith("JDBC:H2:SSL:")
                && !upper.contains("AUTO_SERVER=TRUE") && !upper.contains("FILE_LOCK=NO");
    }

    /** Stops the bundle with exit code 1 (under another Camel Main runtime: stops Camel). */
    private void stop(CamelContext context) {
        if (main != null) {
            main.finish(1, null);
            return;
        }
        Thread stopper = new Thread(() -> {
            try {
                context.stop();
            } catch (RuntimeException e) {
                LOG.warn("Camel did not stop cleanly", e);
            }
        }, "ktp-instance-lock-stop");
        stopper.start();
    }

    /**
     * Keeps this instance's input claims alive while it works on them, and the holds on the ledger
     * rows of those inputs (see InputsInHand): see ClaimRenewal.
     */
    private void renewClaims(CamelContext context, List<LedgerIdempotentRepository> repositories,
                             InputsInHand inputsInHand, long claimTtl) throws Exception {
        ScheduledExecutorService renewal = context.getExecutorServiceManager()
                .newSingleThreadScheduledExecutor(this, "ktp-claim-renewal");
        List<ClaimRenewal.Renewal> renewals = new ArrayList<>();
        for (LedgerIdempotentRepository repository : repositories) {
            renewals.add(new ClaimRenewal.Renewal("Input claims", repository::renewClaims));
        }
        // the holds on the inputs in hand (and their rows touched: the sweep of replaced inputs leaves them alone)
        renewals.add(new ClaimRenewal.Renewal("Holds on the inputs in hand", inputsInHand::renew));
        new ClaimRenewal(renewal, renewals, Math.max(1_000, claimTtl / 3)).start();
        // stopped with the routes' work done: left to Camel's last sweep of its pools, its next
        // renewal (queued, minutes ahead) held every stop for that sweep's whole 10 s wait
        context.addService(new ServiceSupport() {
            @Override
            protected void doStop() {
                context.getExecutorServiceManager().shutdownNow(renewal);
            }
        });
    }

    /**
     * The file source's claims. Instances sharing a folder claim each file in the shared ledger and
     * keep the claim a while after the move, so another instance's scan cannot catch the file on its
     * way out. A single instance has nobody to coordinate with: its claims stay in memory (four
     * ledger writes less per file) and are released at once, so a batch run exits without waiting.
     */
    private static void fileClaims(Settings s, CamelContext context, Registry registry, boolean cluster,
                                   LedgerIdempotentRepository shared) {
        registry.bind("fileClaims", cluster ? shared : MemoryIdempotentRepository.memoryIdempotentRepository(100_000));
        if (s.optional("ktp.source.claim-release-delay").isEmpty()) {
            context.getPropertiesComponent().addOverrideProperty("ktp.source.claim-release-delay", cluster ? "10000" : "0");
        }
    }

    /**
     * The file drop's look at each listed file's time stamp before the read lock's: {@code clock}
     * (which asks first whether a file the route takes is dated in the future: dated now) holds a
     * file back until it is the read lock's minimum age by the drop folder's clock, then an empty one
     * waits until it has stayed empty for {@code ktp.source.empty-file-min-age} by that clock (its
     * bytes may still come).
     */
    private static EmptyFiles fileTimes(Settings s, DropFolderClock clock) {
        return new EmptyFiles(s.duration("ktp.source.empty-file-min-age", Duration.ofMinutes(1)).toMillis(), clock);
    }

    /**
     * Two threads note the callbacks the callback queue had no room for; up to {@code queueSize} more
     * wait. Past that a callback is refused (503), not noted on the HTTP request's thread, whose
     * answer would then wait on the ledger.
     */
    private ExecutorService callbackNotePool(CamelContext context, int queueSize) {
        org.apache.camel.spi.ThreadPoolProfile profile = new org.apache.camel.spi.ThreadPoolProfile("ktp-callback-note");
        profile.setPoolSize(2);
        profile.setMaxPoolSize(2);
        profile.setMaxQueueSize(queueSize);
        profile.setRejectedPolicy(org.apache.camel.util.concurrent.ThreadPoolRejectedPolicy.Abort);
        return context.getExecutorServiceManager().newThreadPool(this, "ktp-callback-note", profile);
    }

    /**
     * A details call runs under a collection claim; all its attempts, with their timeouts and the
     * waits between them, should end before another worker may take the claim over.
     */
    private static void warnIfDetailsCanOutlastTheirClaim(GtfSettings gtf, Duration staleClaimAfter) {
        int attempts = Math.max(1, gtf.retryMaxAttempts());
        long waitMillis = Math.max(GtfHttp.CLAIMED_CALL_MAX_RETRY_AFTER.toMillis(), gtf.retryMaxDelay().toMillis());
        long longest = attempts * (gtf.connectTimeout().toMillis() + GtfHttp.wholeAnswerLimit(gtf.readTimeout()).toMillis())
                + (attempts - 1) * waitMillis;
        if (longest >= staleClaimAfter.toMillis()) {
            LOG.warn("A details call can take up to {} s (gtf.retry.max-attempts, gtf.http.*-timeout,"
                    + " gtf.retry.max-delay), not less than ktp.poll.stale-claim-after ({} s): another worker may"
                    + " take its claim over meanwhile and ask again", longest / 1000, staleClaimAfter.toSeconds());
        }
    }

    /**
     * {@code ktp.cluster.instance-id}, or the host name with a random suffix (each start a new
     * instance); {@link StartupChecks} holds it to the ledger's 128 characters.
     */
    static String instanceId(Settings s) {
        return s.string("ktp.cluster.instance-id", hostName() + "-" + UUID.randomUUID().toString().substring(0, 8));
    }

    private static String hostName() {
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.net.UnknownHostException e) {
                host = "instance";
            }
        }
        return host;
    }

    private static DataSource dataSource(Settings s, Path dataDir, CamelContext context) throws Exception {
        String url = ledgerUrl(s, dataDir);
        return pool(context, url, s.string("ktp.db.user", "sa"), s.string("ktp.db.password", ""),
                s.integer("ktp.db.max-connections", 32), "ktp-ledger", socketTimeout(s));
    }

    private static String ledgerUrl(Settings s, Path dataDir) {
        return s.optional("ktp.db.url").orElse(
                "jdbc:h2:file:" + dataDir.resolve("ledger").toString().replace('\\', '/')
                        // H2 writes commits in the background; the ledger flushes them itself before each
                        // step that must survive a killed process (see DurableFlush). RETENTION_TIME=1000:
                        // space of replaced pages may be reused after 1 s (the default keeps it 45 s, and
                        // the file grew ~60 KB per image under steady load); not 0, with which H2 can
                        // free a page a concurrent reader still follows ("Chunk ... not found").
                        // TRACE_LEVEL_FILE=0: no ledger.trace.db, where H2 writes each failed statement
                        // with the value that did not fit (a result document); the error reaches the
                        // bundle anyway. Only here: setting it needs admin rights, which a user's own URL
                        // may not give
                        + ";DB_CLOSE_ON_EXIT=FALSE;QUERY_CACHE_SIZE=32;RETENTION_TIME=1000;TRACE_LEVEL_FILE=0");
    }

    private static FileResultTarget fileResultTarget(Settings s) {
        String permissions = s.string("ktp.results.file.permissions", FileResultTarget.DEFAULT_PERMISSIONS);
        try {
            return new FileResultTarget(s.path("ktp.results.dir"), s.flag("ktp.results.file.fsync", true), permissions);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("Setting 'ktp.results.file.permissions' ("
                    + Settings.envName("ktp.results.file.permissions") + "): must be nine rwx letters, such as "
                    + FileResultTarget.DEFAULT_PERMISSIONS + ", or umask, not '" + permissions + "'", e);
        }
    }

    private static Duration socketTimeout(Settings s) {
        return s.duration("ktp.db.socket-timeout", Duration.ofMinutes(2));
    }

    private static DataSource pool(CamelContext context, String url, String user, String password, int size,
                                   String name, Duration socketTimeout) throws Exception {
        DataSources.Pool pool = DataSources.create(url, user, password, size, name, socketTimeout);
        context.addService(new ServiceSupport() {
            @Override
            protected void doStop() throws Exception {
                pool.closer().close();
            }
        });
        return pool.dataSource();
    }

    /** The HTTP and JDBC targets; their beans exist whether or not they are in ktp.results.targets. */
    private static void targets(Settings s, CamelContext context, Registry registry, ObjectMapper json,
                                Ledger ledger, List<String> targets) throws Exception {
        if (targets.contains("http") && s.optional("ktp.results.http.url").isEmpty()) {
            throw new IllegalStateException("ktp.results.targets contains http but ktp.results.http.url"
                    + " (KTP_RESULTS_HTTP_URL) is not set");
        }
        long connectTimeout = s.duration("ktp.results.http.connect-timeout", Duration.ofSeconds(5)).toMillis();
        long timeout = s.duration("ktp.results.http.timeout", Duration.ofSeconds(30)).toMillis();
        long lease = s.duration("ktp.results.retry.lease", Duration.ofMinutes(2)).toMillis();
        // an attempt outliving its lease would be started a second time by the retry schedule: the
        // deadline ends each one within the first half, the rest is left for recording its outcome
        long deadline = s.duration("ktp.results.http.deadline", Duration.ofMillis(lease / 2)).toMillis();
        if (2 * deadline > lease) {
            throw new IllegalStateException("ktp.results.http.deadline (" + deadline + " ms) must be at most half"
                    + " ktp.results.retry.lease (" + lease + " ms)");
        }
        if (deadline <= connectTimeout + timeout) {
            // the deadline would cut off an answer the timeout still waits for
            throw new IllegalStateException("ktp.results.http.deadline (" + deadline + " ms; half"
                    + " ktp.results.retry.lease unless set) must be more than ktp.results.http.connect-timeout"
                    + " + ktp.results.http.timeout (" + (connectTimeout + timeout) + " ms)");
        }
        // the result target's endpoint names it (routes/deliver-http.yaml): an operator's own http
        // routes keep whole answers and no deadline
        registry.bind("httpTargetLimits", new HttpTargetLimits(Duration.ofMillis(deadline)));
        // Camel serves https:// URLs with a component of its own: both get the same settings. The
        // socket timeout also bounds a TLS handshake that gets no answer.
        for (String scheme : new String[] {"http", "https"}) {
            HttpComponent http = context.getComponent(scheme, HttpComponent.class);
            http.setConnectTimeout(connectTimeout);
            http.setConnectionRequestTimeout(connectTimeout);
            http.setSoTimeout(timeout);
            http.setResponseTimeout(timeout);
            // the client's own retry sleeps through a Retry-After on the worker that stored the
            // result, however long; the outbox retries instead, and honours it
            http.setAutomaticRetriesDisabled(true);
        }
        registry.bind("fileResultTarget", fileResultTarget(s));
        registry.bind("httpTargetRequest", new HttpTargetRequest(s.string("ktp.results.http.headers", ""),
                s.string("ktp.results.http.auth-mode", "none"), s.string("ktp.results.http.auth-token", ""),
                s.string("ktp.results.http.username", ""), s.string("ktp.results.http.password", "")));

        // a results database of its own is opened at its first use: one that is down while the bundle
        // starts holds up only the deliveries to it (ResultsDatabase), and without jdbc among the
        // targets nothing opens it at all
        ResultsDatabase resultsDb;
        if (s.optional("ktp.results.jdbc.url").isPresent()) {
            String url = s.string("ktp.results.jdbc.url");
            if (targets.contains("jdbc")) {
                requireDriver(url);
            }
            String user = s.string("ktp.results.jdbc.user", "");
            String password = s.string("ktp.results.jdbc.password", "");
            int size = s.integer("ktp.results.jdbc.max-connections", 8);
            Duration socketTimeout = socketTimeout(s);
            // the target sets each connection's own limit from the statement timeout (JdbcResultTarget)
            resultsDb = ResultsDatabase.own(() -> DataSources.createTryingOnce(url, user, password, size,
                    "ktp-results", socketTimeout));
        } else {
            resultsDb = ResultsDatabase.ledgers(ledger.dataSource(), ledger.writesMadeElsewhere());
        }
        context.addService(new ServiceSupport() {
            @Override
            protected void doStop() {
                resultsDb.close();
            }
        });
        if (targets.contains("jdbc")) {
            resultsDb.checkAtStart();
        }
        registry.bind("jdbcResultTarget", new JdbcResultTarget(resultsDb, json,
                s.duration("ktp.results.jdbc.statement-timeout", JdbcResultTarget.DEFAULT_STATEMENT_TIMEOUT)));
    }

    /**
     * A URL no driver takes (a typo in the scheme, a port that is no number) is a setting to fix, not
     * a database that is down: opening the pool would fail with the same SQL state (08001) as one.
     */
    private static void requireDriver(String url) {
        try {
            java.sql.DriverManager.getDriver(url);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("Setting 'ktp.results.jdbc.url' (KTP_RESULTS_JDBC_URL) is no JDBC URL"
                    + " the bundle's drivers take: jdbc:postgresql://<host>:<port>/<database> or jdbc:h2:...");
        }
    }

    private static GtfSettings gtfSettings(Settings s) {
        return new GtfSettings(
                s.string("gtf.token-url", ""), s.string("gtf.api-url", ""),
                s.string("gtf.client-id"), s.string("gtf.pass-key"), s.string("gtf.onboarding-partner"),
                s.string("gtf.path.user-token", "/v2/coe/authentication"),
                s.string("gtf.path.partner-token", "/v1/coe/partner/authentication"),
                s.string("gtf.path.presign", "/coe/v1/submissions/urls"),
                s.string("gtf.path.confirm", "/coe/v1/submissions/urls"),
                s.string("gtf.path.status", "/coe/v1/submissions/{submissionId}/status"),
                s.string("gtf.path.details", "/coe/v1/submissions"),
                s.string("gtf.submission-type", "KTP_SCAN"),
                s.string("gtf.primary-document-key", "KTP_FRONT"),
                s.choice("gtf.details.token-source", "user", "user", "partner"),
                s.duration("gtf.http.connect-timeout", Duration.ofSeconds(5)),
                s.duration("gtf.http.read-timeout", Duration.ofSeconds(30)),
                s.duration("gtf.http.upload-timeout", Duration.ofMinutes(2)),
                s.duration("gtf.token.refresh-skew", Duration.ofMinutes(5)),
                s.integer("gtf.token.cache-size", 10_000),
                s.integer("gtf.retry.max-attempts", 4),
                s.duration("gtf.retry.initial-delay", Duration.ofMillis(500)),
                s.duration("gtf.retry.max-delay", Duration.ofSeconds(30)),
                sessionPerCall(s, "gtf.partner-session-id.mode"), sessionPerCall(s, "gtf.sdk-session-id.mode"));
    }

    /** {@code gtf.sandbox.faults.*}: a flaky OneKYC on demand, for demos and tests (all off by default). */
    private static void faults(Settings s, SandboxSettings sb) {
        double rate = s.fraction("gtf.sandbox.faults.failure-rate", 0);
        for (String endpoint : SandboxSettings.FAULT_ENDPOINTS) {
            sb.setFailureRate(endpoint, s.fraction("gtf.sandbox.faults.failure-rate." + endpoint, rate));
        }
        s.optional("gtf.sandbox.faults.failure-statuses").ifPresent(v -> {
            try {
                sb.setFailureStatuses(Arrays.stream(v.split(",")).map(String::trim).map(Integer::valueOf).toList());
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("Setting 'gtf.sandbox.faults.failure-statuses'"
                        + " (GTF_SANDBOX_FAULTS_FAILURE_STATUSES) must list statuses out of "
                        + new java.util.TreeSet<>(SandboxSettings.FAULT_STATUSES) + ", not '" + v + "'", e);
            }
        });
        sb.setConfirmLostResponseRate(s.fraction("gtf.sandbox.faults.lost-response-rate", 0));
        sb.setPresignLostResponseRate(s.fraction("gtf.sandbox.faults.lost-response-rate", 0));
        sb.setExpiredUrlRate(s.fraction("gtf.sandbox.faults.expired-url-rate", 0));
        sb.setTokenRevocationRate(s.fraction("gtf.sandbox.faults.token-revocation-rate", 0));
        sb.setCallbackDropRate(s.fraction("gtf.sandbox.faults.callback-drop-rate", 0));
        sb.setUploadDropRate(s.fraction("gtf.sandbox.faults.upload-drop-rate", 0));
        sb.setUploadDeniedRate(s.fraction("gtf.sandbox.faults.upload-denied-rate", 0));
        sb.setLatencyMillis(s.duration("gtf.sandbox.faults.latency", Duration.ZERO).toMillis());
        if (s.optional("gtf.sandbox.faults.seed").isPresent()) {
            sb.setRandomSeed(s.number("gtf.sandbox.faults.seed", 0));
        }
    }

    /** {@code per-submission} (the default) or {@code per-call}; anything else stops the start. */
    private static boolean sessionPerCall(Settings s, String key) {
        return s.choice(key, "per-submission", "per-submission", "per-call").equals("per-call");
    }

    /**
     * {@code gtf.sandbox.enabled}: {@code auto} (the default) runs the embedded sandbox only while no
     * OneKYC URL is set and the credentials are the sandbox's own, so setting {@code GTF_API_URL}
     * alone is never answered by made-up results, nor are real credentials whose URLs went missing
     * (a misspelt variable); {@code true} with a URL set is a contradiction and stops the start.
     */
    static boolean sandboxOn(Settings s) {
        String choice = s.choice("gtf.sandbox.enabled", "auto", "auto", "true", "false");
        List<String> urls = Stream.of("gtf.token-url", "gtf.api-url").filter(k -> s.optional(k).isPresent()).toList();
        if (choice.equals("true") && !urls.isEmpty()) {
            throw new IllegalStateException("Setting 'gtf.sandbox.enabled' (GTF_SANDBOX_ENABLED) is true, so the"
                    + " embedded sandbox would answer instead of the OneKYC named by " + String.join(" and ", urls)
                    + ": set it to false (or auto) to call that OneKYC, or leave the URLs empty for the sandbox");
        }
        if (choice.equals("auto") && urls.isEmpty()) {
            for (String[] sandboxValue : SANDBOX_VALUES) {
                if (!sandboxValue[1].equals(s.string(sandboxValue[0], sandboxValue[1]))) {
                    throw new IllegalStateException("Setting '" + sandboxValue[0] + "' (" + Settings.envName(sandboxValue[0])
                            + ") is not the embedded sandbox's, but no OneKYC is named: set gtf.token-url and gtf.api-url"
                            + " (GTF_TOKEN_URL, GTF_API_URL), or gtf.sandbox.enabled=true to run the sandbox with it");
                }
            }
        }
        return choice.equals("true") || choice.equals("auto") && urls.isEmpty();
    }

    /** The bundled settings the embedded sandbox takes, which OneKYC itself would refuse. */
    private static final String[][] SANDBOX_VALUES = {{"gtf.client-id", "sandbox-client"},
        {"gtf.pass-key", "sandbox-pass-key"}, {"gtf.onboarding-partner", "KTPBRIDGE-BE-KTP_SCAN"}};

    private static void requireRealGtf(Settings s) {
        for (String key : new String[] {"gtf.token-url", "gtf.api-url"}) {
            String url = s.string(key);
            if (!url.matches("https?://[^/?#@\\s]+/?")) {
                // no user:password@ either: it would travel in every request line and reach the log
                throw new IllegalStateException("Setting '" + key + "' (" + Settings.envName(key)
                        + ") must be a base URL: scheme, host and port only");
            }
            String host = URI.create(url).getHost();
            if (url.startsWith("http://") && !"localhost".equals(host) && !"127.0.0.1".equals(host)) {
                // allowed for a test double or a TLS-terminating sidecar, but worth a line at every start
                LOG.warn("{} uses http://: the pass-key and user tokens travel unencrypted to {}", key, host);
            }
        }
        // the bundled file's values are the sandbox's: OneKYC itself would refuse them, image by image (a
        // sandbox run apart, as the tests and benchmarks do, takes them)
        for (String[] sandboxValue : SANDBOX_VALUES) {
            if (sandboxValue[1].equals(s.string(sandboxValue[0], sandboxValue[1]))) {
                LOG.warn("Setting '{}' ({}) still has the embedded sandbox's value, and the sandbox is off:"
                        + " OneKYC refuses it; set the one GTF issued", sandboxValue[0], Settings.envName(sandboxValue[0]));
            }
        }
    }

    /**
     * The callback port the sandbox calls back on. With {@code ktp.callback.port=0} (any free port)
     * the port is chosen here and given to the callback server, not yet started: the sandbox needs
     * it before the server has bound one, and Camel's server does not tell the port it bound.
     */
    private static int callbackPortForSandbox(Settings s, CamelContext context) {
        int port = s.integer("ktp.callback.port", 8080);
        var server = context.hasService(org.apache.camel.component.platform.http.main.MainHttpServer.class);
        if (port != 0 || server == null || server.isStarted() || server.isStarting()) {
            return port;
        }
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1,
                java.net.InetAddress.getByName(s.string("camel.server.host", "0.0.0.0")))) {
            port = probe.getLocalPort();
        } catch (java.io.IOException e) {
            throw new IllegalStateException("no free port for the callback server (ktp.callback.port=0)", e);
        }
        server.setPort(port);
        var management = context.hasService(org.apache.camel.component.platform.http.main.ManagementHttpServer.class);
        if (management != null && management.getPort() == 0) {
            // a management port of 0 too is served by the callback server (Camel looks its router up by port)
            management.setPort(port);
        }
        LOG.info("Callback server on free port {} (ktp.callback.port=0), where the embedded sandbox calls back", port);
        return port;
    }

    private static GtfSandbox startSandbox(Settings s, CamelContext context, GtfSettings gtf, String callbackToken)
            throws Exception {
        SandboxSettings sb = new SandboxSettings();
        sb.setPort(s.integer("gtf.sandbox.port", 0));
        sb.setClientId(gtf.clientId());
        sb.setPassKey(gtf.passKey());
        sb.setOnboardingPartner(gtf.onboardingPartner());
        sb.setTokenTtlSeconds(s.number("gtf.sandbox.token-ttl", 5_184_000L));
        sb.setUrlExpirySeconds(s.number("gtf.sandbox.url-expiry", 600L));
        sb.setProcessingDelayMillis(s.duration("gtf.sandbox.processing-delay", Duration.ofMillis(1500)).toMillis());
        sb.setDocumentKeys(Arrays.stream(s.string("gtf.sandbox.document-keys", "KTP_FRONT").split(","))
                .map(String::trim).filter(k -> !k.isEmpty()).toList());
        sb.setPresignReusesOpenSubmission(s.flag("gtf.sandbox.presign-reuses-open-submission", false));
        // no callback server (ktp.callback.enabled=false): nothing to call back, and whatever else holds its
        // port would be sent the callbacks with their token
        sb.setCallbackEnabled(s.flag("gtf.sandbox.callback.enabled", true) && s.flag("ktp.callback.enabled", true));
        sb.setCallbackUrl(s.optional("gtf.sandbox.callback.url").orElseGet(() ->
                "http://127.0.0.1:" + callbackPortForSandbox(s, context) + "/coe/submissions-callback"));
        sb.setCallbackAuthorization("Bearer " + callbackToken);
        sb.setCallbackDuplicates(s.integer("gtf.sandbox.callback.duplicates", 1));
        sb.setCallbackFullRecord(s.choice("gtf.sandbox.callback.body", "notification", "notification", "record")
                .equals("record"));
        faults(s, sb);
        s.optional("gtf.sandbox.error-user-pattern").ifPresent(sb::setErrorUserPattern);
        s.optional("gtf.sandbox.not-ektp-user-pattern").ifPresent(sb::setNotEktpUserPattern);
        GtfSandbox sandbox = new GtfSandbox(sb).start();
        context.addService(new ServiceSupport() {
            @Override
            protected void doStop() {
                sandbox.stop();
            }
        });
        LOG.info("Embedded GTF sandbox listening on {} (no OneKYC URL is set: no real OneKYC is called)",
                sandbox.baseUrl());
        return sandbox;
    }
}

package id.ktpbridge.ops;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

import id.ktpbridge.gtf.CallObserver;
import id.ktpbridge.gtf.GtfClient;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.result.DeliveryStore;
import id.ktpbridge.result.ResultStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The bundle's own Prometheus metrics (next to Camel's route metrics), served on the management
 * port at {@code /observe/metrics}. Ledger-based gauges show the last reading of {@link LedgerSnapshot}.
 */
public class BridgeMetrics implements CallObserver {

    private final MeterRegistry registry;
    private final Counter pollTicks;

    /**
     * @param sources the source types this instance takes inputs from (their {@code KtpSourceType}):
     *     its {@code ktp_inputs} series are there at 0 from the start
     * @param targets the configured result targets
     */
    public BridgeMetrics(MeterRegistry registry, LedgerSnapshot ledger, GtfClient gtf, List<String> sources,
                         List<String> targets) {
        this.registry = registry;
        // the ledger's figures come from its last background reading (NaN before the first): a
        // scrape never waits on the database
        for (SubmissionState state : SubmissionState.values()) {
            Gauge.builder("ktp_submissions", ledger, l -> read(l, v -> v.states().getOrDefault(state.name(), 0)))
                    .description("Inputs in the ledger by state").tag("state", state.name()).register(registry);
        }
        Gauge.builder("ktp_polls_due", ledger, l -> read(l, LedgerSnapshot.Values::pollsDue))
                .description("Confirmed submissions whose status poll is due").register(registry);
        Gauge.builder("ktp_polls_overdue", ledger, l -> read(l, LedgerSnapshot.Values::pollsOverdue))
                .description("Confirmed submissions past ktp.poll.deadline").register(registry);
        FunctionCounter.builder("ktp_token_cache_hits", gtf.tokens(), t -> t.hits())
                .description("Token requests served a usable cached token at once").register(registry);
        FunctionCounter.builder("ktp_token_cache_misses", gtf.tokens(), t -> t.misses())
                .description("Token requests that found no usable token (they fetched one or waited for a fetch)")
                .register(registry);
        FunctionCounter.builder("ktp_token_cache_fetches", gtf.tokens(), t -> t.fetches())
                .description("Tokens fetched from OneKYC").register(registry);
        Gauge.builder("ktp_token_cache_size", gtf.tokens(), t -> t.size()).register(registry);
        for (String endpoint : GtfClient.ENDPOINTS) {
            Gauge.builder("ktp_onekyc_circuit_open", gtf.http().breaker(), b -> b.isOpen(endpoint) ? 1 : 0)
                    .description("1 while calls to this OneKYC endpoint are paused after repeated failures")
                    .tag("endpoint", endpoint).register(registry);
        }
        for (String target : targets) {
            Gauge.builder("ktp_deliveries_pending", ledger,
                    l -> read(l, v -> deliveries(v, target, DeliveryStore.PENDING))).tag("target", target).register(registry);
            Gauge.builder("ktp_deliveries_refused", ledger,
                    l -> read(l, v -> deliveries(v, target, DeliveryStore.REFUSED))).tag("target", target).register(registry);
        }
        // registered up front, so a scrape shows 0 on an instance that never got a tick
        pollTicks = Counter.builder("ktp_poll_ticks")
                .description("Poll ticks run by this instance (in cluster mode: its share of the cluster's ticks)")
                .register(registry);
        // the counters of events, too: rate() and increase() miss the first event of a series that
        // appears with it, and a dashboard shows no data where it should show 0
        for (String source : sources) {
            for (ResultStatus status : ResultStatus.values()) {
                inputs(source, status.name());
            }
        }
        for (String target : targets) {
            deliveryFailures(target, false);
            deliveryFailures(target, true);
        }
    }

    /** NaN before the first reading and while the ledger does not answer: a frozen last value would look current. */
    private static double read(LedgerSnapshot ledger, ToDoubleFunction<LedgerSnapshot.Values> value) {
        LedgerSnapshot.Values v = ledger.values();
        return v == null || ledger.problem() != null ? Double.NaN : value.applyAsDouble(v);
    }

    private static int deliveries(LedgerSnapshot.Values v, String target, String state) {
        return v.deliveries().getOrDefault(target, java.util.Map.of()).getOrDefault(state, 0);
    }

    /** One per poll tick this instance runs. */
    public void pollTicked() {
        pollTicks.increment();
    }

    /** One per published result: source and outcome. */
    public void inputFinished(String sourceType, String status) {
        inputs(sourceType == null ? "unknown" : sourceType, status).increment();
    }

    /** A failed delivery attempt (retried or refused). */
    public void deliveryFailed(String target, boolean permanent) {
        deliveryFailures(target, permanent).increment();
    }

    /** Built in one place for the start and the events: the same series either way, never a second one. */
    private Counter inputs(String source, String outcome) {
        return Counter.builder("ktp_inputs").description("Inputs with a result, by source and outcome")
                .tag("source", source).tag("outcome", outcome).register(registry);
    }

    private Counter deliveryFailures(String target, boolean permanent) {
        return Counter.builder("ktp_delivery_failures").description("Failed delivery attempts, by target and kind")
                .tag("target", target).tag("kind", permanent ? "refused" : "retry").register(registry);
    }

    private static final java.time.Duration[] CALL_BUCKETS = java.util.stream.LongStream
            .of(50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000)
            .mapToObj(java.time.Duration::ofMillis).toArray(java.time.Duration[]::new);

    @Override
    public void observe(String endpoint, int status, long nanos) {
        String outcome = status == 0 ? "no_answer" : status / 100 == 2 ? "ok" : String.valueOf(status);
        Timer.builder("ktp_onekyc_calls").description("OneKYC calls by endpoint and outcome")
                .tag("endpoint", endpoint).tag("outcome", outcome)
                // a few fixed buckets: quantiles across replicas (histogram_quantile), not a decaying max
                .serviceLevelObjectives(CALL_BUCKETS).register(registry)
                .record(nanos, TimeUnit.NANOSECONDS);
    }
}

package id.ktpbridge.ops;

import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.result.DeliveryStore;
import org.apache.camel.CamelContext;
import org.apache.camel.support.service.ServiceSupport;

/**
 * What the management port reports about the ledger (its health, the gauges read from it), read
 * by a task of its own every {@code ktp.management.ledger-refresh} and served from memory. The
 * health and metrics endpoints answer on one request thread, the liveness probe's too: a query
 * waiting on a database that is down or frozen must not hold it, or the liveness probe times out
 * and every replica is restarted for an outage a restart does not cure.
 */
public class LedgerSnapshot extends ServiceSupport {

    /**
     * One reading of the ledger; {@code deliveries} holds the PENDING and REFUSED rows by target and
     * state; {@code at} is when it was taken (epoch ms).
     */
    public record Values(Map<String, Integer> states, long open, long pollsDue, long pollsOverdue,
                         Map<String, Map<String, Integer>> deliveries, long at) {
    }

    private final CamelContext context;
    private final Ledger ledger;
    private final DeliveryStore deliveries;
    private final Duration every;
    private final Clock clock;
    /**
     * How often the rows in final states are counted again ({@code ktp.management.ended-refresh}).
     * Open rows are few and counted at each reading; the ended ones are nearly the whole ledger
     * over a long retention, and counting them every few seconds would scan its index on state
     * each time, on every replica.
     */
    private final long endedEveryMillis;
    private Map<String, Integer> endedCounts;
    private long endedReadAt;
    /** A reading older than this means the database stopped answering (a query hangs). */
    private final long staleAfterMillis;
    private volatile Values values;
    private volatile String error;
    private ScheduledExecutorService executor;

    private static final List<String> FINAL_STATES =
            Arrays.stream(SubmissionState.values()).filter(SubmissionState::isFinal).map(Enum::name).toList();

    /**
     * @param every      how often the ledger is read
     * @param endedEvery how often its ended rows are counted again (at least every reading)
     */
    public LedgerSnapshot(CamelContext context, Ledger ledger, DeliveryStore deliveries, Duration every,
                          Duration endedEvery) {
        this(context, ledger, deliveries, every, endedEvery, Clock.systemUTC());
    }

    /** With the clock that dates the readings (tests move it by hand). */
    LedgerSnapshot(CamelContext context, Ledger ledger, DeliveryStore deliveries, Duration every,
                   Duration endedEvery, Clock clock) {
        this.context = context;
        this.ledger = ledger;
        this.deliveries = deliveries;
        this.every = every;
        this.clock = clock;
        this.endedEveryMillis = Math.max(every.toMillis(), endedEvery.toMillis());
        // two missed readings, plus the connection pool's own wait for a connection (10 s)
        this.staleAfterMillis = 2 * every.toMillis() + 10_000;
    }

    /** Status polling off: a tick takes only some confirmed submissions (see {@link Ledger#pollBacklog(long, boolean, long)}). */
    private volatile boolean callbacksOnly;
    private volatile long firstLookAfterMillis;

    /** {@code ktp.poll.enabled=false}: polls are counted due as the tick takes them then. */
    public void statusPollingOff(Duration reconfirmAfter) {
        this.callbacksOnly = true;
        this.firstLookAfterMillis = reconfirmAfter.toMillis();
    }

    /** The last reading, or null before the first one. */
    public Values values() {
        return values;
    }

    /** Why the ledger counts as unreachable, or null while its last reading is recent and good. */
    public String problem() {
        String failed = error;
        if (failed != null) {
            return "ledger database not reachable: " + failed;
        }
        Values last = values;
        if (last == null) {
            return "ledger not read yet";
        }
        long age = clock.millis() - last.at();
        return age > staleAfterMillis ? "ledger database has not answered for " + age / 1000 + " s" : null;
    }

    /** Reads the ledger now (the task's step; tests call it to skip the wait). */
    public synchronized void refresh() {
        try {
            long now = clock.millis();
            long[] polls = ledger.pollBacklog(now, callbacksOnly, firstLookAfterMillis);
            Map<String, Integer> open = ledger.openCounts();
            if (endedCounts == null || now - endedReadAt >= endedEveryMillis) {
                Map<String, Integer> all = new TreeMap<>(ledger.stateCounts());
                all.keySet().retainAll(FINAL_STATES);
                endedCounts = Map.copyOf(all);
                endedReadAt = now;
            }
            Map<String, Integer> states = new TreeMap<>(endedCounts);
            states.putAll(open);
            values = new Values(Map.copyOf(states), open.values().stream().mapToLong(Integer::longValue).sum(),
                    polls[0], polls[1],
                    Map.copyOf(deliveries.counts(List.of(DeliveryStore.PENDING, DeliveryStore.REFUSED))),
                    // dated when the ledger answered: a slow reading that answers is a ledger that works
                    clock.millis());
            error = null;
        } catch (RuntimeException e) {
            error = e.getMessage();
        }
    }

    @Override
    protected void doStart() {
        executor = context.getExecutorServiceManager().newSingleThreadScheduledExecutor(this, "ktp-ledger-snapshot");
        executor.scheduleWithFixedDelay(this::refresh, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    protected void doStop() {
        if (executor != null) {
            context.getExecutorServiceManager().shutdownNow(executor);
            executor = null;
        }
    }
}

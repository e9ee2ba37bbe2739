package id.ktpbridge.result;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import id.ktpbridge.RetryAfter;
import id.ktpbridge.ThrottledWarning;
import id.ktpbridge.ingest.FailureReport;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerException;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ops.BridgeMetrics;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.http.base.HttpOperationFailedException;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers each stored result to every configured target through {@code direct:deliver-result}.
 * A target that fails is retried with back-off until it takes the result; one failing target
 * never blocks or loses the others. State lives in {@link DeliveryStore}.
 *
 * <p>A result is first tried at once, on the thread that stored it, which waits for each target
 * at most {@link #immediateAttempts its time limit}. While a target is down ({@link #targetDown}),
 * or after an attempt outlasted that limit, new results for it go straight to the retry schedule
 * instead, so a target that hangs does not hold up the submission and collection workers; its
 * first success ends that. A target that answers with a {@code Retry-After} is asked nothing more,
 * by new results or retry passes, until then.
 */
public class Outbox {

    public static final Set<String> KNOWN_TARGETS = Set.of("file", "s3", "http", "jdbc");
    public static final String DELIVER_ENDPOINT = "direct:deliver-result";
    /** Header naming the target a delivery is for; {@code deliver-results.yaml} routes on it. */
    public static final String TARGET = "KtpResultTarget";

    private static final Logger LOG = LoggerFactory.getLogger(Outbox.class);
    /** 4xx answers that are retried (see {@link #isPermanent}). */
    private static final Set<Integer> RETRIED_4XX = Set.of(401, 403, 404, 407, 408, 423, 425, 429);
    /** The longest {@code Retry-After} of a target honoured; a longer one is cut to this. */
    static final Duration MAX_RETRY_AFTER = Duration.ofHours(1);

    private final DeliveryStore store;
    private final Ledger ledger;
    private final ProducerTemplate producer;
    private final List<String> targets;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final int batchSize;
    private final Duration lease;
    /**
     * Targets whose last failed attempt found them down ({@link #targetDown}), with the time (epoch
     * ms) they were marked so: only an attempt begun after that clears the mark (see {@link #answered}).
     */
    private final java.util.Map<String, Long> failing = new ConcurrentHashMap<>();
    /**
     * Targets that asked to be left alone until a time by a {@code Retry-After}, or are probed less
     * often while down: neither new results nor retry passes reach them before then (this instance's view).
     */
    private final java.util.Map<String, Pause> pausedUntil = new ConcurrentHashMap<>();

    /** Left alone until {@code until}, asked at {@code setAt} (epoch ms). */
    private record Pause(long until, long setAt) {
        Pause and(Pause later) {
            return new Pause(Math.max(until, later.until), Math.max(setAt, later.setAt));
        }
    }
    /**
     * Attempts in a row that found a target down. From the second on, the target is probed less
     * and less often (see {@link #probeDelay}), and said to be down in one line a minute.
     */
    private final java.util.Map<String, DownSpell> downSpells = new ConcurrentHashMap<>();
    private final java.util.Map<String, ThrottledWarning> stillDown = new ConcurrentHashMap<>();
    /** The longest pause between two probes of a target that stays down: one back within it is found so soon. */
    static final Duration MAX_PROBE_DELAY = Duration.ofMinutes(1);
    /**
     * {@code inARow} attempts found the target down, the last counted at {@code countedAt} (epoch
     * ms). An attempt that began before that was under way at the same moment of the outage (the
     * immediate attempts of several results run side by side) and does not count again.
     */
    private record DownSpell(int inARow, long countedAt) {
    }

    /** Targets whose retry pass is under way (a pass may outlast the schedule's period). */
    private final Set<String> retrying = ConcurrentHashMap.newKeySet();
    /** Runs each target's retry pass; the caller's thread unless {@link #retryExecutor} says otherwise. */
    private volatile Executor retryExecutor = Runnable::run;
    /** Where each target's immediate attempts run; a target without one: on the caller's thread, unbounded. */
    private volatile Map<String, Executor> attemptExecutors = Map.of();
    private volatile Duration attemptWait = Duration.ZERO;
    private volatile BridgeMetrics metrics;

    public Outbox(DeliveryStore store, Ledger ledger, ProducerTemplate producer, List<String> targets,
                  Duration initialBackoff, Duration maxBackoff, int batchSize, Duration lease) {
        for (String t : targets) {
            if (!KNOWN_TARGETS.contains(t)) {
                throw new IllegalStateException("ktp.results.targets: unknown target '" + t + "' (known: "
                        + KNOWN_TARGETS + ")");
            }
        }
        if (targets.isEmpty()) {
            throw new IllegalStateException("ktp.results.targets names no target");
        }
        this.store = store;
        this.ledger = ledger;
        this.producer = producer;
        this.targets = List.copyOf(targets);
        this.initialBackoff = initialBackoff;
        this.maxBackoff = maxBackoff;
        this.batchSize = batchSize;
        this.lease = lease;
    }

    public void metrics(BridgeMetrics metrics) {
        this.metrics = metrics;
    }

    /**
     * Where the retry passes run: a thread per target, so a target that hangs until its timeout
     * holds up only its own retries, not those of the others.
     */
    public void retryExecutor(Executor executor) {
        this.retryExecutor = executor;
    }

    /**
     * Runs each target's immediate attempts on its own executor, the storing thread waiting at most
     * {@code wait} for one: a target without a time limit of its own (the file target on a hung
     * network share) then holds a worker for that long once, instead of every worker for ever.
     */
    public void immediateAttempts(Map<String, ? extends Executor> perTarget, Duration wait) {
        this.attemptWait = wait;
        this.attemptExecutors = Map.copyOf(perTarget);
    }

    public List<String> targets() {
        return targets;
    }

    public DeliveryStore store() {
        return store;
    }

    /**
     * Queues a result for every target on the caller's connection (its transaction stores the
     * result). The new rows are leased to the caller, who attempts them with {@link #deliverNow}.
     *
     * @return the targets queued by this call
     */
    public List<String> enqueue(Connection c, String ledgerId) throws SQLException {
        return store.enqueue(c, ledgerId, targets, lease.toMillis());
    }

    /**
     * One immediate attempt per queued target, with the document in hand; failures stay queued for the
     * retry schedule.
     *
     * @param queuedAt when the rows were queued (leased to the caller), at the latest
     */
    public void deliverNow(String ledgerId, String name, String status, String body, List<String> queued,
                           long queuedAt) {
        Stored stored = new Stored(ledgerId, name, status, body);
        // the rows were leased when they were queued (before now); attempts one after another can take a while
        long heldUntil = System.currentTimeMillis() + lease.toMillis();
        boolean afterAnother = false;
        for (String target : queued) {
            try {
                long now = System.currentTimeMillis();
                // the first target too, once half its lease has passed since it was queued (the flush before
                // the attempt can wait long on a busy ledger): past it, the retry schedule may have taken it.
                // After another target's attempt, a whole lease again: one attempt may take nearly all of it
                boolean renew = afterAnother || now >= queuedAt + lease.toMillis() / 2;
                long leasedUntil = afterAnother ? heldUntil : queuedAt + lease.toMillis();
                if (renew && !store.renewLease(ledgerId, target, leasedUntil, now, lease.toMillis())) {
                    // the earlier targets took so long that the lease ran out: the retry schedule may
                    // already be attempting it, and a second attempt now would send it twice
                    continue;
                }
                long paused = pausedUntil(target, now);
                if (failing.containsKey(target) || paused > now) {
                    store.release(ledgerId, target, Math.max(now, paused));
                    continue;
                }
                afterAnother = true;
                attemptNow(stored, ledgerId, target);
            } catch (LedgerException e) {
                // the result is stored and queued; its delivery row stays due, so the retry schedule
                // takes it up (at worst the target receives it twice, as after a crash)
                LOG.warn("Delivery state of ledger {} for {} not recorded ({}); the retry schedule takes it up",
                        ledgerId, target, e.getMessage());
            }
        }
    }

    /**
     * {@link #deliverNow} for the rows a write queued at {@code queuedAt} at the latest, its reply
     * lost (its commit made): only those whose lease from then still holds untouched. One whose
     * lease ran out, or that the retry schedule took (a lease of its own, later), is the schedule's.
     */
    public void deliverStillLeased(String ledgerId, String name, String status, String body, List<String> queued,
                                   long queuedAt) {
        List<String> held = new ArrayList<>();
        for (String target : queued) {
            try {
                if (store.renewLease(ledgerId, target, queuedAt + lease.toMillis(), System.currentTimeMillis(),
                        lease.toMillis())) {
                    held.add(target);
                }
            } catch (LedgerException e) {
                LOG.warn("Delivery state of ledger {} for {} not read ({}); the retry schedule takes it up",
                        ledgerId, target, e.getMessage());
            }
        }
        deliverNow(ledgerId, name, status, body, held, System.currentTimeMillis());
    }

    /** An immediate attempt, on the target's executor and bounded by {@link #immediateAttempts} when it has one. */
    private void attemptNow(Stored stored, String ledgerId, String target) {
        Executor executor = attemptExecutors.get(target);
        if (executor == null) {
            attempt(stored, ledgerId, target, 0);
            return;
        }
        CompletableFuture<Boolean> running;
        try {
            running = CompletableFuture.supplyAsync(() -> attempt(stored, ledgerId, target, 0), executor);
        } catch (RejectedExecutionException e) {
            store.release(ledgerId, target, System.currentTimeMillis()); // shutting down: the retry schedule's
            return;
        }
        try {
            running.get(attemptWait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            // The attempt goes on and records its own outcome: the row stays leased to it (released,
            // a retry could send it a second time). Until the target answers, new results skip it.
            long markedAt = System.currentTimeMillis();
            failing.merge(target, markedAt, Math::max);
            // its late answer does not lift the mark, even a success: a target that answers, but only
            // after the wait, would hold the next new result's worker as long again. An attempt of the
            // retry schedule answered within the wait lifts it (see answered)
            running.whenComplete((up, late) -> {
                if (late != null) {
                    Throwable cause = late instanceof CompletionException && late.getCause() != null
                            ? late.getCause() : late;
                    LOG.warn("Delivery state of ledger {} for {} not recorded ({}); the retry schedule takes it up",
                            ledgerId, target, FailureReport.safeMessage(cause));
                }
            });
            LOG.warn("Delivery of ledger {} to {} still running after {} ms; it goes on, and new results for {}"
                    + " go to the retry schedule until it answers", ledgerId, target, attemptWait.toMillis(), target);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // shutting down: the attempt records its own outcome
        }
    }

    /**
     * Camel bean method for the retry schedule: for each target whose last pass has ended, a pass
     * over its due deliveries (see {@link #retryExecutor}).
     */
    public void retryDue() {
        for (String target : targets) {
            if (!retrying.add(target)) {
                continue;
            }
            try {
                retryExecutor.execute(() -> {
                    try {
                        retryDue(target);
                    } catch (RuntimeException e) {
                        LOG.warn("Retry pass for {} ended early: {}", target, e.getMessage());
                    } finally {
                        retrying.remove(target);
                    }
                });
            } catch (RejectedExecutionException e) {
                retrying.remove(target); // shutting down
            }
        }
    }

    /**
     * Re-attempts up to {@code batchSize} due deliveries to one target, most overdue first. A pass
     * ends at the first attempt that finds the target down ({@link #targetDown}): each further
     * attempt would only wait for the same timeout, and the rest keep their turn. It ends too once
     * the target asked for a pause ({@code Retry-After}). A document the target answered with an
     * error is put back for later and the pass goes on. A pass takes the rows due when it began
     * only: one it put back (due again at least 1 ms later, see {@link #backoff}) waits for the next.
     */
    private void retryDue(String target) {
        long began = System.currentTimeMillis();
        List<String> only = List.of(target);
        for (int i = 0; i < batchSize; i++) {
            if (pausedUntil(target, 0L) > System.currentTimeMillis()) {
                return;
            }
            DeliveryStore.Due due = store.takeDue(began, System.currentTimeMillis(), only, lease.toMillis())
                    .orElse(null);
            if (due == null || !attempt(load(due.ledgerId()), due.ledgerId(), target, due.attempts())) {
                return;
            }
        }
    }

    /** Pending deliveries to the configured targets. */
    public int pendingCount() {
        return store.pendingCount(targets);
    }

    /** What a delivery sends: the stored document and the headers the targets route and name it by. */
    private record Stored(String ledgerId, String name, String status, String body) {
    }

    private Stored load(String ledgerId) {
        LedgerRecord record = ledger.findById(ledgerId).orElse(null);
        String body = record == null ? null : ledger.resultJson(ledgerId).orElse(null);
        return record == null ? new Stored(ledgerId, null, null, null)
                : new Stored(ledgerId, ResultDocument.name(record), record.resultStatus(), body);
    }

    /** @return false when the attempt found the target down or slow ({@link #targetDown}) */
    private boolean attempt(Stored stored, String ledgerId, String target, int previousAttempts) {
        if (stored.body() == null) {
            store.refused(ledgerId, target, "no stored result document");
            if (metrics != null) {
                metrics.deliveryFailed(target, true);
            }
            LOG.error("Result of ledger {} cannot be delivered to {}: the ledger holds no result document for it"
                    + " (removed by the retention, or never stored)", ledgerId, target);
            return true;
        }
        long began = System.currentTimeMillis();
        Exchange done = producer.send(DELIVER_ENDPOINT, exchange -> {
            exchange.getMessage().setBody(stored.body());
            exchange.getMessage().setHeader(ResultPublisher.RESULT_NAME, stored.name());
            exchange.getMessage().setHeader(ResultPublisher.RESULT_STATUS, stored.status());
            exchange.getMessage().setHeader(ResultPublisher.LEDGER_ID, ledgerId);
            exchange.getMessage().setHeader(TARGET, target);
        });
        Exception failure = done.getException();
        if (failure == null || alreadyThere(failure)) {
            store.delivered(ledgerId, target);
            answered(target, began, true);
            LOG.debug("Result of ledger {} delivered to {}", ledgerId, target);
        } else if (isPermanent(failure)) {
            // it answered about this document: up, but a pause it asked for stands
            answered(target, began, false);
            if (metrics != null) {
                metrics.deliveryFailed(target, true);
            }
            // the target's answer may echo the document (NIK, name): it goes to ktp_delivery.last_error, not the log
            store.refused(ledgerId, target, describe(failure));
            LOG.error("Target {} refused the result of ledger {} for good: {} (response in ktp_delivery.last_error)",
                    target, ledgerId, summary(failure));
        } else {
            boolean down = targetDown(failure);
            int inARow = 0;
            if (down) {
                long now = System.currentTimeMillis();
                failing.merge(target, now, Math::max);
                inARow = downSpells.compute(target, (t, was) -> was == null ? new DownSpell(1, now)
                        : began >= was.countedAt() ? new DownSpell(was.inARow() + 1, now) : was).inARow();
            }
            if (metrics != null) {
                metrics.deliveryFailed(target, false);
            }
            // a target that says when to come back (429, 503) is not asked before then, for this
            // result or any other; one down is asked again later and later while it stays so
            long asked = retryAfter(failure);
            long pause = Math.max(asked, probeDelay(inARow));
            if (pause > 0) {
                long now = System.currentTimeMillis();
                pausedUntil.merge(target, new Pause(now + pause, now), Pause::and);
            }
            long wait = Math.max(backoff(previousAttempts + 1), asked);
            store.retryLater(ledgerId, target, System.currentTimeMillis() + wait, describe(failure));
            if (inARow < 2) {
                LOG.warn("Delivery of ledger {} to {} failed ({}); retrying in {} ms", ledgerId, target,
                        summary(failure), wait);
            } else {
                stillDown.computeIfAbsent(target, t -> new ThrottledWarning(LOG, "Target {} still down after {} failed"
                        + " attempts in a row (last: {}); results wait, and it is tried again in {} ms",
                        MAX_PROBE_DELAY.toMillis())).warn(target, inARow, summary(failure), pause);
            }
            return !down;
        }
        return true;
    }

    /**
     * Whether a failure concerns the target as a whole: no answer (a refused connection, a
     * timeout, a disk or database error), an answer that says so (408, 429, 502, 503, 504), one
     * about its address or credentials (3xx, 401, 403, 404: every document would meet it), or any
     * refusal by an S3 store. Only a server error the target answered about this document (a 500,
     * say: one payload it cannot handle) is not. Only the first kind ends a retry pass and holds
     * new results back: a target that keeps failing a few documents must not keep the others from it.
     */
    static boolean targetDown(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof HttpOperationFailedException http) {
                int code = http.getStatusCode();
                return code < 500 || code == 502 || code == 503 || code == 504;
            }
        }
        return true;
    }

    /** The target's {@code Retry-After}, at most {@link #MAX_RETRY_AFTER}; -1 without one. */
    static long retryAfter(Throwable failure) {
        if (!(failure instanceof HttpOperationFailedException http) || http.getResponseHeaders() == null) {
            return -1;
        }
        return http.getResponseHeaders().entrySet().stream()
                .filter(h -> "Retry-After".equalsIgnoreCase(h.getKey()))
                .mapToLong(h -> Math.min(RetryAfter.millis(h.getValue()), MAX_RETRY_AFTER.toMillis()))
                .findFirst().orElse(-1);
    }

    /**
     * How long a target found down {@code inARow} times in a row is left alone: not at all after
     * the first (the next pass tries it), then the back-off of one attempt fewer, at most
     * {@link #MAX_PROBE_DELAY}, so a target down for hours is asked once a minute, not every pass.
     */
    long probeDelay(int inARow) {
        return inARow < 2 ? 0 : Math.min(backoff(inARow - 1), MAX_PROBE_DELAY.toMillis());
    }

    /** Until when the target is left alone (epoch ms); {@code otherwise} when it is not. */
    private long pausedUntil(String target, long otherwise) {
        Pause p = pausedUntil.get(target);
        return p == null ? otherwise : p.until();
    }

    /**
     * An attempt begun at {@code began} was answered (taken, or this document refused): the target is
     * up, unless an attempt begun later found it down or was asked to pause since, and new results
     * go to it at once again if it answered within the immediate attempts' wait. Only one taken
     * ends a pause: a refusal of one document is no sign that the target wants more. Attempts of several
     * results run side by side: a success sent before a 429 came back says nothing against the
     * target's wish to be left alone, nor against an outage found after it was sent.
     */
    private void answered(String target, long began, boolean taken) {
        // a slow answer (past the immediate attempts' wait) does not say new results can go at once
        long wait = attemptWait.toMillis();
        if (wait <= 0 || System.currentTimeMillis() - began < wait) {
            // begun in the mark's own millisecond counts as after it: a retry that quick follows the
            // failure that marked it (ms clock), and at worst one more result is tried at once
            failing.computeIfPresent(target, (t, markedAt) -> began >= markedAt ? null : markedAt);
        }
        if (taken) {
            pausedUntil.computeIfPresent(target, (t, p) -> began > p.setAt() ? null : p);
        }
        DownSpell[] ended = {null};
        downSpells.computeIfPresent(target, (t, was) -> {
            if (began > was.countedAt()) {
                ended[0] = was;
                return null;
            }
            return was;
        });
        if (ended[0] != null && ended[0].inARow() >= 2) {
            LOG.info("Target {} answers again after {} failed attempts in a row", target, ended[0].inARow());
        }
    }

    /** At least 1 ms: a row put back is due after the pass that put it back began (see {@link #retryDue}). */
    long backoff(int attempts) {
        return Math.max(1, Math.min(maxBackoff.toMillis(),
                initialBackoff.toMillis() * (1L << Math.min(attempts - 1, 20))));
    }

    /**
     * Answers that refuse this document are final: 4xx other than the ones below, and explicit
     * refusals. Retried: 5xx, timeouts, I/O errors, and 401/403/404/407/408/423/425/429, which say
     * that the target, its address, its credentials or a proxy's on the way are not ready, or that it
     * is busy, and can be put right.
     */
    static boolean isPermanent(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof PermanentDeliveryFailure) {
                return true;
            }
            if (t instanceof HttpOperationFailedException http) {
                int code = http.getStatusCode();
                return code >= 400 && code < 500 && !RETRIED_4XX.contains(code);
            }
        }
        return false;
    }

    /** 409 Conflict: the receiver already holds a result under this submission (a redelivery after a crash). */
    static boolean alreadyThere(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof HttpOperationFailedException http) {
                return http.getStatusCode() == 409;
            }
        }
        return false;
    }

    /** For the ledger: the status and the start of the response body. */
    private static String describe(Throwable failure) {
        String text = failure instanceof HttpOperationFailedException http
                ? "HTTP " + http.getStatusCode() + " " + abbreviate(http.getResponseBody())
                : summary(failure);
        return abbreviate(text);
    }

    /** For the log (and, but for HTTP, the ledger): the status code or the root cause, never a response body. */
    private static String summary(Throwable failure) {
        if (failure instanceof HttpOperationFailedException http) {
            return "HTTP " + http.getStatusCode();
        }
        // the database's own exception rather than its cause: under an H2 lock timeout that is the
        // store's error, which quotes the locked row
        SQLException database = failure instanceof SQLException sql ? sql : null;
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
            if (database == null && root instanceof SQLException sql) {
                database = sql;
            }
        }
        return abbreviate(database != null ? databaseError(database) : FailureReport.safeMessage(root));
    }

    /**
     * A database error without its text: drivers quote the row they refused (PostgreSQL's "Failing
     * row contains (...)" and "Key (...)=(...)", H2's "VALUES (...)"), which holds the partner user
     * id, the source file and the document. The SQL state, and from PostgreSQL the table and
     * constraint it names apart from the values, say what broke.
     */
    private static String databaseError(SQLException e) {
        StringBuilder text = new StringBuilder(e.getClass().getSimpleName()).append(" (SQL state ")
                .append(e.getSQLState() == null ? "unknown" : e.getSQLState());
        ServerErrorMessage server = e instanceof PSQLException pg ? pg.getServerErrorMessage() : null;
        if (server != null && server.getTable() != null) {
            text.append(", table ").append(server.getTable());
        }
        if (server != null && server.getConstraint() != null) {
            text.append(", constraint ").append(server.getConstraint());
        }
        return text.append(')').toString();
    }

    private static String abbreviate(String s) {
        if (s == null) {
            return "";
        }
        return s.length() > 500 ? s.substring(0, 500) + "..." : s;
    }
}

package id.ktpbridge.gtf;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import id.ktpbridge.RetryAfter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends one OneKYC request: retries transient failures (no answer, 429, 5xx, and a 2xx that
 * counts as one of those) with bounded exponential back-off and jitter, honours
 * {@code Retry-After}, and unwraps the {@code {success, data, errors}} envelope.
 */
public class GtfHttp {

    private static final Logger LOG = LoggerFactory.getLogger(GtfHttp.class);
    /** The longest Retry-After waited for in place unless configured ({@code gtf.retry.max-retry-after}). */
    public static final Duration DEFAULT_MAX_RETRY_AFTER = Duration.ofMinutes(10);
    /**
     * The longest Retry-After a details call waits for: it is made under a collection claim, which
     * another worker takes over once it is {@code ktp.poll.stale-claim-after} old. A longer wait
     * gives the claim back; the poller asks again later.
     */
    public static final Duration CLAIMED_CALL_MAX_RETRY_AFTER = Duration.ofSeconds(30);
    /** The longest Retry-After a status call waits for: a poll tick waits for each one of its batch. */
    public static final Duration POLL_CALL_MAX_RETRY_AFTER = Duration.ofSeconds(30);
    /**
     * The longest {@code Retry-After} a token fetch waits out in place: every caller of that user
     * waits for the same fetch, poll ticks among them. A longer one fails the fetch, with the wait
     * it asked for ({@link GtfApiException#retryAfterMillis}) for the caller to honour.
     */
    public static final Duration TOKEN_CALL_MAX_RETRY_AFTER = POLL_CALL_MAX_RETRY_AFTER;
    /** The timeout taken for a request without one of its own, for its answer's limit: see {@link #send}. */
    private static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(30);
    /** See {@link #wholeAnswerLimit}. */
    private static final Duration BODY_GRACE = Duration.ofSeconds(10);
    /** One daemon thread for every call's limit (see {@link #send}); a limit leaves its queue once its call is done. */
    private static final java.util.concurrent.ScheduledExecutorService WATCHDOG = watchdog();
    /** Causes of further errors of one envelope kept in the message, at most. */
    private static final int MAX_FURTHER_CAUSES = 5;

    private final HttpClient client;
    private final ObjectMapper json;
    private final int maxAttempts;
    private final Duration initialDelay;
    private final Duration maxDelay;
    private final CircuitBreaker breaker;
    private final RateLimiter rateLimiter;
    private volatile CallObserver observer = CallObserver.NONE;
    /** A redirect is not followed (see {@link GtfApiException#isBareRefusal}): one line a minute says where it pointed. */
    private final id.ktpbridge.ThrottledWarning redirected = new id.ktpbridge.ThrottledWarning(LOG,
            "{} answered HTTP {} redirecting to host {}: redirects are not followed; taken as a passing failure", 60_000);
    private volatile long maxRetryAfterMillis = DEFAULT_MAX_RETRY_AFTER.toMillis();
    private volatile boolean retryUsedUpQuota = true;

    public GtfHttp(HttpClient client, ObjectMapper json, int maxAttempts, Duration initialDelay, Duration maxDelay) {
        this(client, json, maxAttempts, initialDelay, maxDelay, new CircuitBreaker(Integer.MAX_VALUE, Duration.ZERO),
                new RateLimiter(0));
    }

    public GtfHttp(HttpClient client, ObjectMapper json, int maxAttempts, Duration initialDelay, Duration maxDelay,
                   CircuitBreaker breaker, RateLimiter rateLimiter) {
        this.client = client;
        this.json = json;
        this.maxAttempts = Math.max(1, maxAttempts);
        this.initialDelay = initialDelay;
        this.maxDelay = maxDelay;
        this.breaker = breaker;
        this.rateLimiter = rateLimiter;
    }

    public CircuitBreaker breaker() {
        return breaker;
    }

    public void observer(CallObserver observer) {
        this.observer = observer;
    }

    /**
     * The longest {@code Retry-After} waited for in place: the worker that made the call is held
     * meanwhile (which is what the server asks: nothing sent before then). A longer one fails the
     * call over to its caller's own retry or outcome.
     */
    public void maxRetryAfter(Duration max) {
        this.maxRetryAfterMillis = max.toMillis();
    }

    /**
     * Whether a presign refused with {@code 429 SUBMISSION_QUOTA_EXCEEDED} and no {@code Retry-After}
     * is tried again with the back-off like other throttling ({@code gtf.retry.quota-exceeded}). The
     * reference leaves the quota's window open and says to retry a 429 with back-off, so it is by
     * default; {@code false} takes it as used up for this input.
     */
    public void retryUsedUpQuota(boolean retry) {
        this.retryUsedUpQuota = retry;
    }

    public long maxRetryAfterMillis() {
        return maxRetryAfterMillis;
    }

    /**
     * Sends a request and reads its answer as text, within {@link #wholeAnswerLimit} of the
     * request's timeout. The JDK's own timeout ends with the headers, so a body that stalls half-way
     * would hold the worker for ever. Past the limit a watchdog interrupts the call, which makes the
     * JDK cancel the exchange, and the call fails as unanswered, like any timeout. A watchdog rather
     * than a body subscriber of our own: the JDK hands a foreign subscriber's data over through its
     * executor, which cost about a third more CPU per image. Only an answer without a length is read
     * by one of ours, for its size limit ({@link #MAX_ANSWER_BYTES}).
     */
    public HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        long limitMillis = wholeAnswerLimit(request.timeout().orElse(DEFAULT_REQUEST_TIMEOUT)).toMillis();
        Thread caller = Thread.currentThread();
        // 0: under way, 1: answered, 2: cut off; changed, and the interrupt sent, under its own lock
        java.util.concurrent.atomic.AtomicInteger state = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.ScheduledFuture<?> watchdog = WATCHDOG.schedule(() -> {
            synchronized (state) {
                if (state.compareAndSet(0, 2)) {
                    caller.interrupt();
                }
            }
        }, limitMillis, java.util.concurrent.TimeUnit.MILLISECONDS);
        try {
            HttpResponse<String> response = client.send(request, BOUNDED);
            if (response.body() == NOT_READ) {
                throw new java.io.IOException("an answer declared larger than " + MAX_ANSWER_BYTES + " bytes (not read)");
            }
            return response;
        } catch (InterruptedException e) {
            if (state.get() == 2) {
                // the watchdog's, not a stop's (a stop at that very moment is taken for it)
                throw new java.net.http.HttpTimeoutException("no whole answer within " + limitMillis + " ms");
            }
            throw e;
        } finally {
            watchdog.cancel(false);
            synchronized (state) {
                if (!state.compareAndSet(0, 1)) {
                    Thread.interrupted(); // the watchdog's interrupt, if the answer came just before it
                }
            }
        }
    }

    /**
     * The largest answer read (OneKYC's and the storage's answers are a few KB; room is left for
     * records that carry images). One whose Content-Length declares more is not read at all; one
     * without a length (chunked, or ended by closing) is read until more than this has come. Either
     * way its connection is closed and the call fails as unanswered.
     */
    static final long MAX_ANSWER_BYTES = 4 << 20;
    /** The body of an answer not read (compared by identity). */
    @SuppressWarnings("StringOperationCanBeSimplified")
    private static final String NOT_READ = new String("");
    /**
     * The JDK's own text reader when the answer declares its length (see {@link #send} on why),
     * unless it declares too much; one that counts what comes when it declares none.
     */
    private static final HttpResponse.BodyHandler<String> BOUNDED = info -> {
        long length = info.headers().firstValueAsLong("Content-Length").orElse(-1);
        if (length > MAX_ANSWER_BYTES) {
            return new NotRead();
        }
        return length >= 0 ? HttpResponse.BodySubscribers.ofString(charset(info.headers()))
                : new Capped(charset(info.headers()));
    };

    /** Cancels the answer's body at once, which closes its connection. */
    private static final class NotRead implements HttpResponse.BodySubscriber<String> {

        @Override
        public java.util.concurrent.CompletionStage<String> getBody() {
            return java.util.concurrent.CompletableFuture.completedFuture(NOT_READ);
        }

        @Override
        public void onSubscribe(java.util.concurrent.Flow.Subscription subscription) {
            subscription.cancel();
        }

        @Override
        public void onNext(java.util.List<java.nio.ByteBuffer> item) {
        }

        @Override
        public void onError(Throwable throwable) {
        }

        @Override
        public void onComplete() {
        }
    }

    /**
     * Reads an answer without a length as text, as the JDK's own reader does, until more than
     * {@link #MAX_ANSWER_BYTES} have come: then it cancels the body, which closes its connection,
     * and fails with an {@link IOException} (which {@link #send} passes on like the one for an answer
     * {@link NotRead}). The Flow's rules call its methods one at a time.
     */
    private static final class Capped implements HttpResponse.BodySubscriber<String> {

        private final java.nio.charset.Charset charset;
        private final java.util.concurrent.CompletableFuture<String> body =
                new java.util.concurrent.CompletableFuture<>();
        /** Kept as they come, as the JDK's reader keeps them: the client no longer uses them. */
        private final List<java.nio.ByteBuffer> received = new ArrayList<>();
        private long size;
        private java.util.concurrent.Flow.Subscription subscription;

        Capped(java.nio.charset.Charset charset) {
            this.charset = charset;
        }

        @Override
        public java.util.concurrent.CompletionStage<String> getBody() {
            return body;
        }

        @Override
        public void onSubscribe(java.util.concurrent.Flow.Subscription subscription) {
            if (this.subscription != null) {
                subscription.cancel();
                return;
            }
            this.subscription = subscription;
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(java.util.List<java.nio.ByteBuffer> item) {
            if (body.isDone()) {
                return; // what was on its way when the body was cancelled
            }
            for (java.nio.ByteBuffer buffer : item) {
                size += buffer.remaining();
                received.add(buffer);
            }
            if (size > MAX_ANSWER_BYTES) {
                received.clear();
                subscription.cancel();
                // the size only: the body's content stays out of the message
                body.completeExceptionally(new IOException("an answer without a Content-Length went past "
                        + MAX_ANSWER_BYTES + " bytes (not read further)"));
            }
        }

        @Override
        public void onError(Throwable throwable) {
            received.clear();
            body.completeExceptionally(throwable);
        }

        @Override
        public void onComplete() {
            if (body.isDone()) {
                return;
            }
            byte[] bytes = new byte[(int) size];
            int at = 0;
            for (java.nio.ByteBuffer buffer : received) {
                int n = buffer.remaining();
                buffer.get(bytes, at, n);
                at += n;
            }
            received.clear();
            body.complete(new String(bytes, charset));
        }
    }

    /** The answer's charset as its Content-Type names it; UTF-8 (JSON's) when it names none or an unknown one. */
    static java.nio.charset.Charset charset(java.net.http.HttpHeaders headers) {
        String type = headers.firstValue("Content-Type").orElse("");
        int at = type.toLowerCase(java.util.Locale.ROOT).indexOf("charset=");
        if (at < 0) {
            return java.nio.charset.StandardCharsets.UTF_8;
        }
        String name = type.substring(at + "charset=".length()).split(";", 2)[0].trim().replace("\"", "");
        try {
            return java.nio.charset.Charset.forName(name);
        } catch (IllegalArgumentException unknown) {
            return java.nio.charset.StandardCharsets.UTF_8;
        }
    }

    /**
     * How long a request with this timeout may take to its whole answer: the timeout for the
     * headers, and as long again, at most 10 s, for the body (OneKYC's and the storage's answers
     * are small).
     */
    public static Duration wholeAnswerLimit(Duration timeout) {
        return timeout.plus(timeout.compareTo(BODY_GRACE) < 0 ? timeout : BODY_GRACE);
    }

    private static java.util.concurrent.ScheduledExecutorService watchdog() {
        var timer = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "ktp-http-answer-limit");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    /** Reports a call made outside {@link #call} (the upload to the storage) to the observer. */
    public void observe(String endpoint, int status, long nanos) {
        observer.observe(endpoint, status, nanos);
    }

    /** Returns the envelope's {@code data} (an empty object when absent) or throws {@link GtfApiException}. */
    public JsonNode call(String endpoint, Supplier<HttpRequest> request) {
        return call(endpoint, request, maxRetryAfterMillis);
    }

    /**
     * As {@link #call(String, Supplier)}, waiting for a {@code Retry-After} of at most {@code
     * longestWaitMillis} (and never longer than {@code gtf.retry.max-retry-after}).
     */
    public JsonNode call(String endpoint, Supplier<HttpRequest> request, long longestWaitMillis) {
        return call(endpoint, request, longestWaitMillis, data -> { });
    }

    /**
     * As {@link #call(String, Supplier, long)}, with {@code usable} judging the {@code data} of a
     * 2xx before it counts as a success: a {@link GtfApiException} it throws is taken as that
     * attempt's answer, observed, counted by the circuit breaker and retried by what it counts as
     * (one that counts as no answer is tried again with the back-off).
     */
    public JsonNode call(String endpoint, Supplier<HttpRequest> request, long longestWaitMillis,
                         java.util.function.Consumer<JsonNode> usable) {
        long longestWait = Math.min(longestWaitMillis, maxRetryAfterMillis);
        boolean unansweredBefore = false;
        for (int attempt = 1; ; attempt++) {
            GtfApiException failure;
            long retryAfterMillis = -1;
            HttpRequest sent = null;
            boolean sending = false;
            long start = 0;
            try {
                breaker.awaitClosed(endpoint);
                try {
                    sent = request.get();
                } catch (IllegalArgumentException e) {
                    throw unsendable(endpoint);
                }
                // the request's slot is taken once it is built: its token, when fetched, took a slot
                // of its own, and a slot taken before would have passed by the time the token came
                rateLimiter.acquire();
                start = System.nanoTime();
                HttpResponse<String> response;
                try {
                    sending = true;
                    response = send(sent);
                } catch (IllegalArgumentException e) {
                    throw unsendable(endpoint);
                } catch (IOException e) {
                    observer.observe(endpoint, 0, System.nanoTime() - start);
                    throw e;
                }
                long took = System.nanoTime() - start;
                LOG.debug("{} -> HTTP {}", endpoint, response.statusCode());
                if (response.statusCode() / 100 == 2) {
                    try {
                        JsonNode data = usableData(endpoint, response, usable);
                        observer.observe(endpoint, response.statusCode(), took);
                        breaker.onSuccess(endpoint);
                        return data;
                    } catch (GtfApiException refusal) {
                        // a refusal in a 2xx, or a body that is no envelope or not usable: observed and
                        // retried by what it counts as (no answer for the latter), not as the 2xx it came in
                        observer.observe(endpoint, refusal.httpStatus(), took);
                        failure = refusal;
                    }
                } else {
                    observer.observe(endpoint, response.statusCode(), took);
                    failure = error(endpoint, response);
                    if (response.statusCode() / 100 == 3) {
                        redirected.warn(endpoint, response.statusCode(), locationHost(response));
                    }
                }
                retryAfterMillis = retryAfter(response);
            } catch (IOException e) {
                // which server did not answer: a closed port and a host that does not resolve read alike
                String problem = e.getClass().getSimpleName() + server(sent);
                // no connection was made, so no byte of the request went out: OneKYC cannot have
                // applied it (a confirm so failed is not taken as confirmed), unlike a lost answer
                failure = neverSent(e) ? GtfApiException.notSent(endpoint, problem, e)
                        : new GtfApiException(endpoint, problem, e);
            } catch (GtfApiException e) {
                // the request could not be built (its token could not be had): after an unanswered
                // attempt, that attempt may still have been applied; else it never went out, whatever
                // the token call's own attempts were
                throw unansweredBefore ? e.followingUnansweredAttempt() : e.notFollowingUnansweredAttempt();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (sending) {
                    // a call under way that got no answer, as an interrupted upload is observed
                    observer.observe(endpoint, 0, System.nanoTime() - start);
                }
                // a stop: in the sending, this attempt may have been applied; in the wait for a closed
                // circuit or the rate limit, it never went out
                throw interrupted(endpoint, attempt, sending || unansweredBefore, e);
            }
            if (failure.isTransient() && failure.httpStatus() == 429) {
                breaker.onThrottled(endpoint); // it answered: paused after a run of them, but not down
            } else if (failure.isTransient()) {
                breaker.onTransientFailure(endpoint);
            } else {
                breaker.onSuccess(endpoint); // the service answered: it is up, the request was the problem
            }
            // a used-up quota without Retry-After is retried unless gtf.retry.quota-exceeded=false
            boolean retry = failure.isTransient()
                    || failure.isQuotaExceeded() && (retryAfterMillis >= 0 || retryUsedUpQuota);
            // a wait longer than a worker may be held is left to the caller's own retry or outcome
            if (!retry || attempt >= maxAttempts || retryAfterMillis > longestWait) {
                if (retryAfterMillis >= 0) {
                    failure.retryAfter(retryAfterMillis); // not waited out here: for the caller's own next try
                }
                throw unansweredBefore ? failure.followingUnansweredAttempt() : failure;
            }
            unansweredBefore |= failure.isUnanswered();
            long wait = retryAfterMillis >= 0 ? retryAfterMillis : backoff(attempt);
            LOG.info("{} attempt {}/{} failed ({}); retrying in {} ms", endpoint, attempt, maxAttempts,
                    failure.httpStatus() == 0 ? failure.errorCause() : "HTTP " + failure.httpStatus(), wait);
            try {
                Thread.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                // a stop in the back-off or a Retry-After: applied only if an attempt went unanswered
                throw interrupted(endpoint, attempt + 1, unansweredBefore, e);
            }
        }
    }

    /**
     * The JDK refuses a header value (a control character in the pass-key or a partner user id, say;
     * tokens are checked when fetched) and quotes it in its message: neither goes anywhere.
     */
    private static GtfApiException unsendable(String endpoint) {
        return GtfApiException.unsendable(endpoint, "a request header value is not valid in HTTP");
    }

    /** A connection refused, a host that does not resolve, a connect that timed out: nothing was sent. */
    static boolean neverSent(IOException e) {
        return e instanceof java.net.ConnectException || e instanceof java.net.http.HttpConnectTimeoutException;
    }

    /**
     * The failure of a call stopped before its attempt {@code attempt} was answered. Unless it may
     * have been applied (that attempt was being sent, or an earlier one got no answer or a server
     * error), it failed {@linkplain GtfApiException#stoppedUnapplied unapplied}: it was never sent,
     * or every earlier attempt was refused (a 429 whose Retry-After a shutdown cut short, say).
     */
    private static GtfApiException interrupted(String endpoint, int attempt, boolean mayHaveBeenApplied,
                                               InterruptedException e) {
        if (mayHaveBeenApplied) {
            return new GtfApiException(endpoint, "interrupted", e);
        }
        return GtfApiException.stoppedUnapplied(endpoint, attempt == 1 ? "interrupted before it was sent"
                : "interrupted before it was sent again (every attempt so far refused)", e);
    }

    /**
     * The host a redirect points to, for the log: its path and query stay out, as they may carry a
     * signature or a token.
     */
    static String locationHost(HttpResponse<?> response) {
        String location = response.headers().firstValue("Location").orElse(null);
        if (location == null) {
            return "(none given)";
        }
        try {
            String host = URI.create(location.trim()).getHost();
            return host != null ? host : "(this host)";
        } catch (IllegalArgumentException e) {
            return "(unreadable)";
        }
    }

    /** " (host:port)" of a request, for a line about a server that did not answer; its path and query stay out. */
    private static String server(HttpRequest request) {
        if (request == null || request.uri().getHost() == null) {
            return "";
        }
        URI uri = request.uri();
        int port = uri.getPort() >= 0 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
        return " (" + uri.getHost() + ":" + port + ")";
    }

    long backoff(int attempt) {
        long base = Math.min(maxDelay.toMillis(), initialDelay.toMillis() * (1L << Math.min(attempt - 1, 20)));
        return base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
    }

    /**
     * The wait a {@code Retry-After} header asks for, in milliseconds (delay-seconds or an HTTP
     * date), or -1 when there is none or it cannot be read. Honoured in full: coming back earlier
     * than asked is what the header forbids. Not capped by {@code gtf.retry.max-delay}.
     */
    static long retryAfter(HttpResponse<?> response) {
        return RetryAfter.millis(response.headers().firstValue("Retry-After").orElse(null));
    }

    /**
     * The {@code data} of a 2xx, judged by {@code usable}. A body whose shape trips the reading up
     * (a field of an unexpected kind) fails as one that is no envelope, counted as no answer: never
     * as an exception of another kind, which no caller would take for a failed call.
     */
    private JsonNode usableData(String endpoint, HttpResponse<String> response,
                                java.util.function.Consumer<JsonNode> usable) {
        try {
            JsonNode data = data(endpoint, response);
            usable.accept(data);
            return data;
        } catch (GtfApiException e) {
            throw e;
        } catch (RuntimeException e) {
            LOG.debug("{} answered HTTP {} with a body that could not be read ({})", endpoint, response.statusCode(),
                    e.getClass().getSimpleName());
            throw new GtfApiException(endpoint, response.statusCode(), null, GtfApiException.NOT_AN_ENVELOPE);
        }
    }

    private JsonNode data(String endpoint, HttpResponse<String> response) {
        JsonNode root = parse(endpoint, response);
        // false, or "false" from a server that writes its scalars as strings (as it does its numbers)
        JsonNode success = root.path("success");
        boolean refused = success.isBoolean() && !success.asBoolean()
                || success.isTextual() && "false".equalsIgnoreCase(success.asText().trim());
        boolean succeeded = success.isBoolean() && success.asBoolean()
                || success.isTextual() && "true".equalsIgnoreCase(success.asText().trim());
        // errors given without a success that says otherwise (none, null, 0, "no"): a refusal, not the
        // 2xx it came in (a 110 then gets the token refreshed, a refused confirm is not "confirmed")
        if (refused || !succeeded && carriesErrors(root)) {
            throw firstError(endpoint, response.statusCode(), root);
        }
        if (!root.has("success") && !root.has("data")) {
            // JSON, but not OneKYC's envelope (a proxy's {"message": ...}): as good as no answer
            throw new GtfApiException(endpoint, response.statusCode(), null, GtfApiException.NOT_AN_ENVELOPE);
        }
        JsonNode data = root.get("data");
        return data == null || data.isNull() ? JsonNodeFactory.instance.objectNode() : data;
    }

    /** Whether the envelope names an error: a non-empty {@code errors} list, or one error object. */
    private static boolean carriesErrors(JsonNode root) {
        JsonNode errors = root.path("errors");
        return (errors.isArray() || errors.isObject()) && !errors.isEmpty();
    }

    private GtfApiException error(String endpoint, HttpResponse<String> response) {
        try {
            JsonNode root = json.readTree(response.body());
            return firstError(endpoint, response.statusCode(), root == null ? JsonNodeFactory.instance.objectNode() : root);
        } catch (IOException | RuntimeException e) {
            // unreadable, or of a shape the reading trips over: the status alone, as for a page without an envelope
            return new GtfApiException(endpoint, response.statusCode(), null, null);
        }
    }

    /**
     * The first error decides (its code and cause); the causes of further errors, which the
     * envelope may carry (reference 2.1), go into the message. {@code errors[].code} arrives as a
     * string on most pages and as a number on others: accept both. An {@code errors} that is one
     * error object rather than a list of them is read as that one error.
     */
    private static GtfApiException firstError(String endpoint, int status, JsonNode root) {
        JsonNode listed = root.path("errors");
        JsonNode errors = listed.isObject() ? JsonNodeFactory.instance.arrayNode().add(listed) : listed;
        JsonNode first = errors.path(0);
        String code = first.hasNonNull("code") ? first.get("code").asText() : null;
        String cause = first.hasNonNull("cause") ? first.get("cause").asText() : null;
        List<String> more = new ArrayList<>();
        for (int i = 1; errors.isArray() && i < errors.size() && more.size() < MAX_FURTHER_CAUSES; i++) {
            JsonNode e = errors.get(i);
            more.add(e.hasNonNull("cause") ? e.get("cause").asText() : String.valueOf(e.path("code").asText(null)));
        }
        return new GtfApiException(endpoint, status, code, cause, more);
    }

    private JsonNode parse(String endpoint, HttpResponse<String> response) {
        try {
            JsonNode root = json.readTree(response.body());
            if (root == null || !root.isObject()) {
                throw new GtfApiException(endpoint, response.statusCode(), null, GtfApiException.NOT_A_JSON_OBJECT);
            }
            return root;
        } catch (IOException e) {
            throw new GtfApiException(endpoint, response.statusCode(), null, GtfApiException.MALFORMED_JSON);
        }
    }

    public HttpClient client() {
        return client;
    }
}

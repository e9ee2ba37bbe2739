package id.ktpbridge.collect;

import java.io.IOException;
import java.util.Set;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import id.ktpbridge.ThrottledWarning;
import id.ktpbridge.gtf.GtfClient;
import id.ktpbridge.gtf.StatusWord;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.LedgerRetries;
import org.apache.camel.Exchange;
import org.apache.camel.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of {@code POST /coe/submissions-callback}: checks auth and body and answers at
 * once (401 / 400 with a JSON error and nothing written, else 200). The details fetch happens
 * afterwards, off the request thread, in {@link #collect(String, JsonNode)}.
 */
public class CallbackReceiver {

    /** Header carrying the accepted submission id to the asynchronous collection. */
    public static final String SUBMISSION_ID = "KtpCallbackSubmissionId";
    /** Header carrying a callback's own submission record, when that is to be taken as the result. */
    public static final String RECORD = "KtpCallbackRecord";
    /** Header: the bytes of the record's body, counted against the records' budget while queued. */
    static final String RECORD_BYTES = "KtpCallbackRecordBytes";
    /** Header: an ERROR callback's reason code ("" for none), kept in the ledger (see {@link Ledger#callbackError}). */
    static final String ERROR_REASON = "KtpCallbackErrorReason";

    private static final Logger LOG = LoggerFactory.getLogger(CallbackReceiver.class);
    /** Anyone who can reach the port can cause these: at most one line a minute each. */
    private final ThrottledWarning refusedCaller = new ThrottledWarning(LOG,
            "Callback from a caller outside ktp.callback.allowed-cidrs refused", 60_000);
    private final ThrottledWarning unknownSubmission = new ThrottledWarning(LOG,
            "Callback for unknown submission {} ignored", 60_000);
    private final ThrottledWarning queueFull = new ThrottledWarning(LOG,
            "Callback queue full (ktp.callback.queue-size): callback for submission {} noted, collected by the"
                    + " poll tick", 60_000);
    private final ThrottledWarning notesFull = new ThrottledWarning(LOG,
            "Callback queue full and ktp.callback.note-queue-size callbacks waiting to be noted in the ledger:"
                    + " callback answered 503 for OneKYC to send it again", 60_000);
    // refusals, one line a minute per kind: without them a credential rotated at OneKYC and not here
    // has every callback refused without a trace. Never the body, a header value or a credential
    private final ThrottledWarning unauthorized = new ThrottledWarning(LOG,
            "Callback refused with 401: missing or invalid credentials for ktp.callback.auth-mode {} (did the"
                    + " credential change at OneKYC?)", 60_000);
    private final ThrottledWarning malformed = new ThrottledWarning(LOG, "Callback refused with 400: {}", 60_000);
    private final ThrottledWarning unnamedStatus = new ThrottledWarning(LOG, "Callback with status {}, a word the"
            + " reference does not name: acknowledged, not taken as final (status polling or ktp.poll.deadline"
            + " settles the submission)", 60_000);
    private final ThrottledWarning notJson = new ThrottledWarning(LOG,
            "Callback refused with 415: its Content-Type is not application/json", 60_000);
    private final ThrottledWarning tooLarge = new ThrottledWarning(LOG,
            "Callback refused with 413: its body is larger than ktp.callback.max-body-size ({} bytes)", 60_000);
    private final ThrottledWarning unknownCoding = new ThrottledWarning(LOG,
            "Callback refused with 415: its Content-Encoding is {}, not identity, gzip or deflate", 60_000);
    private static final Pattern SUBMISSION_ID_SHAPE = GtfClient.SUBMISSION_ID_SHAPE;
    /**
     * The statuses that end a submission. The CoE callback has only these; any other word (eSign's
     * callback sends PARTIALLY_COMPLETED, a later COMPLETED follows; IN_PROGRESS; a word the
     * reference does not name) is acknowledged and left alone: refused, the callback would be sent
     * again and again, and polling or the details call settles the submission either way.
     */
    private static final Set<String> FINAL_STATUSES = Set.of("COMPLETED", "ERROR");
    /** The reference's statuses that do not end a submission. */
    private static final Set<String> PASSING_STATUSES = Set.of("IN_PROGRESS", "PARTIALLY_COMPLETED", "INITIATED");

    private final CallbackAuth auth;
    private final CallerAllowlist callers;
    private final boolean trustForwardedFor;
    private final int maxBodyBytes;
    private final ObjectMapper json;
    private final Ledger ledger;
    private final Collector collector;
    private final boolean recordIsResult;
    private final java.util.concurrent.atomic.AtomicLong recordsQueued = new java.util.concurrent.atomic.AtomicLong();
    private volatile long recordsBudget = 16L << 20;
    private volatile boolean noteBeforeAnswer;
    /** Notes of callbacks the queue had no room for: a bounded pool that refuses when full (see {@link #noteLater}). */
    private volatile java.util.concurrent.Executor notes = task -> {
        throw new java.util.concurrent.RejectedExecutionException("no note pool set");
    };
    /** ktp.db.retry-attempts and ktp.db.retry-delay, their defaults until {@link #ledgerRetries} is called. */
    private volatile int ledgerRetries = 6;
    private volatile long ledgerRetryDelayMillis = 500;

    /**
     * @param recordIsResult {@code ktp.callback.result-source=callback}: a callback that carries a
     *                       completed submission record with {@code submissionDetails} (the eSign
     *                       products' callback), or an ERROR, is the result, and no details call is
     *                       made for it
     */
    public CallbackReceiver(CallbackAuth auth, CallerAllowlist callers, boolean trustForwardedFor, int maxBodyBytes,
                            ObjectMapper json, Ledger ledger, Collector collector, boolean recordIsResult) {
        this.auth = auth;
        this.callers = callers;
        this.trustForwardedFor = trustForwardedFor;
        this.maxBodyBytes = maxBodyBytes;
        this.json = json;
        this.ledger = ledger;
        this.collector = collector;
        this.recordIsResult = recordIsResult;
    }

    /**
     * With status polling off ({@code ktp.poll.enabled=false}) a callback is the only news of its
     * result, and the queue it waits in is memory: it is noted in the ledger before it is answered,
     * so a stop or a kill before it is collected leaves it to the poll tick, and a ledger that cannot
     * take the note answers 503 for OneKYC to send it again. With polling on, the poller finds such
     * a result anyway and the answer waits for nothing.
     */
    public void noteBeforeAnswer(boolean on) {
        this.noteBeforeAnswer = on;
    }

    /**
     * {@code ktp.db.retry-attempts} and {@code ktp.db.retry-delay}: a callback's note or claim that
     * fails for a passing reason (a database failover) is tried again, as it was answered already
     * and is not sent again.
     */
    public void ledgerRetries(int retries, java.time.Duration firstDelay) {
        this.ledgerRetries = retries;
        this.ledgerRetryDelayMillis = firstDelay.toMillis();
    }

    /** Camel bean method: validates the request and sets the HTTP answer. */
    public void receive(Exchange exchange) {
        var msg = exchange.getMessage();
        // a callback URL registered with a query string is taken, but the HTTP server hands its
        // parameters over as message headers, where they would pass for a proxy's X-Forwarded-For or
        // for credentials: a header a parameter names is not read at all (the real one neither)
        String query = msg.getHeader(Exchange.HTTP_RAW_QUERY, msg.getHeader(Exchange.HTTP_QUERY, String.class),
                String.class);
        Set<String> parameters = Set.of();
        if (query != null && !query.isEmpty()) {
            try {
                parameters = queryParameterNames(query);
                parameters.forEach(msg::removeHeader);
            } catch (IllegalArgumentException e) {
                msg.removeHeaders("*");
                malformed.warn("the query string does not decode");
                answer(exchange, 400, error("MALFORMED_CALLBACK", "the query string does not decode"));
                return;
            }
        }
        // the request's own headers: a form body's fields are message headers too
        CallbackRequest request = new CallbackRequest(msg, parameters);
        String caller = callerAddress(request);
        byte[] raw = msg.getBody(byte[].class);
        msg.removeHeaders("*");
        if (!callers.allows(caller)) {
            refusedCaller.warn();
            answer(exchange, 403, error("FORBIDDEN", "the caller's address is not allowed"));
            return;
        }
        if (!auth.accepts(request::header, raw)) {
            unauthorized.warn(auth.mode());
            answer(exchange, 401, error("UNAUTHORIZED", "missing or invalid credentials"));
            return;
        }
        // the CoE callback page does not state a Content-Type: none is read as JSON, another type is refused
        String contentType = java.util.Objects.requireNonNullElse(request.header("Content-Type"), "").trim();
        if (!contentType.isEmpty() && !contentType.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
            notJson.warn();
            answer(exchange, 415, error("UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json"));
            return;
        }
        if (raw != null && raw.length > maxBodyBytes) {
            tooLarge.warn(maxBodyBytes);
            answer(exchange, 413, error("PAYLOAD_TOO_LARGE", "the body is larger than " + maxBodyBytes + " bytes"));
            return;
        }
        // a sender that compresses its body: taken (the reference names no coding, and a 400 for
        // compressed JSON would be taken as final); a credential over the body covered the bytes sent
        String coding = java.util.Objects.requireNonNullElse(request.header("Content-Encoding"), "").trim()
                .toLowerCase(java.util.Locale.ROOT);
        if (raw != null && !coding.isEmpty() && !coding.equals("identity")) {
            if (!CallbackBodyCoding.known(coding)) {
                unknownCoding.warn(id.ktpbridge.LogSafe.text(coding, 40));
                exchange.getMessage().setHeader("Accept-Encoding", "identity, gzip, deflate");
                answer(exchange, 415, error("UNSUPPORTED_MEDIA_TYPE",
                        "Content-Encoding must be identity, gzip or deflate"));
                return;
            }
            try {
                raw = CallbackBodyCoding.decode(coding, raw, maxBodyBytes);
            } catch (CallbackBodyCoding.TooLarge e) {
                tooLarge.warn(maxBodyBytes);
                answer(exchange, 413, error("PAYLOAD_TOO_LARGE", "the body is larger than " + maxBodyBytes
                        + " bytes once decompressed"));
                return;
            } catch (IOException e) {
                malformed.warn("the body does not decompress as its Content-Encoding says");
                answer(exchange, 400, error("MALFORMED_CALLBACK", "the body does not decompress as its"
                        + " Content-Encoding says"));
                return;
            }
        }
        String body = raw == null ? null : CallbackBodyText.of(raw, contentType);
        String problem = null;
        String submissionId = null;
        JsonNode node = null;
        try {
            // one JSON value and nothing after it: "{...}{...}" or "{...}garbage" is no callback either
            node = body == null || body.isBlank() ? null
                    : json.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readTree(body);
            if (node == null || !node.isObject()) {
                problem = "the body must be a JSON object";
            } else if (!node.path("submissionId").isTextual()
                    || !SUBMISSION_ID_SHAPE.matcher(node.get("submissionId").asText()).matches()) {
                problem = "submissionId must be a string of letters, digits, '-' or '_'";
            } else if (!node.path("status").isTextual()) {
                problem = "status must be a string";
            } else if (!optionalText(node, "result") || !optionalText(node, "reasonCode")) {
                problem = "result and reasonCode must be strings or null";
            } else {
                submissionId = node.get("submissionId").asText();
            }
        } catch (IOException e) {
            problem = "the body is not valid JSON";
        }
        if (problem == null) {
            // compared, and taken as the result's status, in one form: "completed" is COMPLETED
            StatusWord.normalise(node);
        }
        if (problem != null) {
            // the problem is one of the texts above: it quotes nothing of the body
            malformed.warn(problem);
            answer(exchange, 400, error("MALFORMED_CALLBACK", problem));
            return;
        }
        if (!FINAL_STATUSES.contains(node.get("status").asText())) {
            if (PASSING_STATUSES.contains(node.get("status").asText())) {
                LOG.debug("Callback for submission {} says {}: acknowledged, nothing to collect yet", submissionId,
                        node.get("status").asText());
            } else {
                // it may be a final word of a server's own: polling or the deadline settles it
                unnamedStatus.warn(id.ktpbridge.LogSafe.text(node.get("status").asText(), 40));
            }
            answer(exchange, 200, json.createObjectNode().put("received", true));
            return;
        }
        String errorReason = errorReason(node);
        if (noteBeforeAnswer) {
            try {
                ledger.noteCallback(submissionId, errorReason);
                // on disk before the 200: OneKYC does not send an answered callback again
                ledger.flush();
            } catch (RuntimeException e) {
                LOG.warn("A callback could not be noted in the ledger ({}); answered 503 for it to be sent again",
                        e.getClass().getSimpleName());
                msg.setHeader("Retry-After", "5");
                answer(exchange, 503, error("TEMPORARILY_UNAVAILABLE", "the callback could not be recorded; send it again"));
                return;
            }
        }
        msg.setHeader(SUBMISSION_ID, submissionId);
        msg.setHeader(ERROR_REASON, errorReason);
        if (recordIsResult && isWholeOutcome(node) && recordsQueued.addAndGet(raw.length) <= recordsBudget) {
            msg.setHeader(RECORD, node);
            msg.setHeader(RECORD_BYTES, raw.length);
        } else if (recordIsResult && isWholeOutcome(node)) {
            recordsQueued.addAndGet(-raw.length);
        }
        answer(exchange, 200, json.createObjectNode().put("received", true));
    }

    /**
     * Camel bean method, run asynchronously: records the callback and collects the result if it is ours.
     *
     * @param record the callback's own submission record when it is to be the result, else null
     */
    public void collect(@Header(SUBMISSION_ID) String submissionId, @Header(RECORD) JsonNode record,
                        @Header(RECORD_BYTES) Integer recordBytes, @Header(ERROR_REASON) String errorReason) {
        try {
            collect(submissionId, record, errorReason);
        } finally {
            released(recordBytes);
        }
    }

    private void collect(String submissionId, JsonNode record, String errorReason) {
        // the usual case, a confirmed row: noted and claimed in one write; one token for its tries, so
        // that a try after a lost reply knows the claim it made
        long token = Ledger.newClaimToken();
        Ledger.Claim claimed = retried(submissionId, () -> ledger.claimByCallback(submissionId, errorReason, token))
                .orElse(null);
        if (claimed != null) {
            collector.collectClaimed(claimed.row(), Collector.VIA_CALLBACK, record, claimed.token());
            return;
        }
        LedgerRecord r = retried(submissionId, () -> ledger.noteCallback(submissionId, errorReason)).orElse(null);
        if (r == null) {
            unknownSubmission.warn(submissionId);
            return;
        }
        switch (r.state()) {
            case CONFIRMED -> collector.collect(r, Collector.VIA_CALLBACK, record);
            case RECEIVED, PRESIGNED, UPLOADED ->
                    LOG.debug("Callback for submission {} arrived before its confirm was recorded", submissionId);
            default -> LOG.debug("Duplicate callback for submission {} ignored ({})", submissionId, r.state());
        }
    }

    /**
     * The pool {@link #noteLater} hands its notes to. It must refuse a task when it is full
     * ({@link java.util.concurrent.RejectedExecutionException}), not run it on the caller's thread:
     * that thread is the HTTP request's, and a note can wait on ledger retries for many seconds.
     */
    public void notePool(java.util.concurrent.Executor pool) {
        this.notes = pool;
    }

    /**
     * Camel bean method, on the request's thread, for a callback the queue had no room for: its note
     * ({@link #noteOnly}) is handed to the note pool. When that is full too (the ledger has been slow
     * for a while) the answer becomes 503 with Retry-After, and OneKYC sends the callback again.
     */
    public void noteLater(Exchange exchange) {
        var msg = exchange.getMessage();
        String submissionId = msg.getHeader(SUBMISSION_ID, String.class);
        Integer recordBytes = msg.getHeader(RECORD_BYTES, Integer.class);
        String errorReason = msg.getHeader(ERROR_REASON, String.class);
        try {
            notes.execute(() -> noteOnly(submissionId, recordBytes, errorReason));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            released(recordBytes);
            notesFull.warn();
            msg.setHeader("Retry-After", "5");
            answer(exchange, 503, error("TEMPORARILY_UNAVAILABLE", "too many callbacks waiting; send it again"));
        }
    }

    /**
     * A callback the queue had no room for: only noted, so the poll tick (which runs with status
     * polling off too) collects it once its row is due.
     */
    private void noteOnly(String submissionId, Integer recordBytes, String errorReason) {
        released(recordBytes);
        retried(submissionId, () -> ledger.noteCallback(submissionId, errorReason));
        queueFull.warn(submissionId);
    }

    /**
     * A note or claim of an answered callback, tried again while the ledger fails for a passing
     * reason: lost, the poller would ask status instead of details (status may be the endpoint that
     * is down) and could end the submission TIMED_OUT although OneKYC announced its outcome. Both
     * writes are safe to repeat: a note sets callback_at once, a claim takes only a confirmed row or
     * its own (a claim written whose reply was lost is found by its token when tried again).
     */
    private <T> T retried(String submissionId, java.util.function.Supplier<T> write) {
        java.util.concurrent.atomic.AtomicReference<T> result = new java.util.concurrent.atomic.AtomicReference<>();
        LedgerRetries.run(() -> result.set(write.get()), ledgerRetries, ledgerRetryDelayMillis, (e, wait) -> LOG.warn(
                "Callback for submission {} not recorded in the ledger yet ({}); trying again in {} ms", submissionId,
                e.getMessage(), wait));
        return result.get();
    }

    private void released(Integer recordBytes) {
        if (recordBytes != null) {
            recordsQueued.addAndGet(-recordBytes);
        }
    }

    /**
     * {@code ktp.callback.record-queue-bytes}: the records waiting in the callback queue hold at most
     * this many body bytes (their parsed form takes a few times that), as a burst of large records (the queue holds ktp.callback.queue-size
     * callbacks) would otherwise fill the heap. A record past it is not kept: its outcome is fetched
     * with the details call, as in details mode.
     */
    public void recordsBudget(long bytes) {
        this.recordsBudget = bytes;
    }

    /** Body bytes of the records now queued. */
    public long recordsQueued() {
        return recordsQueued.get();
    }

    /**
     * The names of a raw query string's parameters as the HTTP server reads them (Netty's decoder,
     * which Vert.x uses): it also splits at {@code ;} and takes {@code =a=1} as a parameter
     * {@code a}, so a name read any other way could slip past.
     */
    static java.util.Set<String> queryParameterNames(String rawQuery) {
        return new io.netty.handler.codec.http.QueryStringDecoder(rawQuery, java.nio.charset.StandardCharsets.UTF_8,
                false).parameters().keySet();
    }

    private String callerAddress(CallbackRequest request) {
        if (trustForwardedFor) {
            String forwarded = nearestForwarded(request.lines("X-Forwarded-For"));
            if (forwarded != null) {
                return forwarded;
            }
        }
        return request.remoteAddress();
    }

    /**
     * The address the proxy in front of the bundle saw: the last {@code X-Forwarded-For} entry.
     * The proxy appends it to whatever the caller sent, so the entries before it are the caller's
     * own word. Several header lines count as one list.
     */
    static String nearestForwarded(Object header) {
        String joined = header instanceof Iterable<?> lines
                ? String.join(",", java.util.stream.StreamSupport.stream(lines.spliterator(), false)
                        .map(String::valueOf).toList())
                : header == null ? null : header.toString();
        if (joined == null || joined.isBlank()) {
            return null;
        }
        String[] entries = joined.split(",");
        String last = entries[entries.length - 1].trim();
        return last.isEmpty() ? null : last;
    }

    /**
     * An ERROR, which has no OCR data to fetch, or a COMPLETED record with its
     * {@code submissionDetails} and its verdict: either says all the details call would. One without
     * a {@code result} is not filled in yet, and the details call (with
     * {@code gtf.details.require-result}) decides.
     */
    private static boolean isWholeOutcome(JsonNode node) {
        String status = node.get("status").asText();
        return "ERROR".equals(status) || "COMPLETED".equals(status) && node.path("submissionDetails").isObject()
                && !node.path("result").asText("").isBlank();
    }

    private static boolean optionalText(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() || v.isTextual();
    }

    private ObjectNode error(String code, String message) {
        return json.createObjectNode().put("error", code).put("message", message);
    }

    /** An ERROR callback's reason code, "" when it gave none; null for any other callback. */
    private static String errorReason(JsonNode node) {
        if (!"ERROR".equals(node.get("status").asText())) {
            return null;
        }
        return node.hasNonNull("reasonCode") ? node.get("reasonCode").asText() : "";
    }

    private static void answer(Exchange exchange, int status, ObjectNode body) {
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, status);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json");
        exchange.getMessage().setBody(body.toString());
    }
}

package id.ktpbridge.result;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerException;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ops.BridgeMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns an outcome into a result document, stores it in the ledger and queues it in the
 * {@link Outbox} for every configured target. Callers own the outcome (a claim or a local
 * rejection), so each input is published once.
 */
public class ResultPublisher {

    /** Header naming the result (without extension) for the targets. */
    public static final String RESULT_NAME = "KtpResultName";
    /** Header with the result's status, for targets that route on it. */
    public static final String RESULT_STATUS = "KtpResultStatus";
    /** Header with the ledger id of the result. */
    public static final String LEDGER_ID = "KtpLedgerId";

    private static final Logger LOG = LoggerFactory.getLogger(ResultPublisher.class);

    private final Ledger ledger;
    private final ObjectMapper json;
    private final Outbox outbox;
    private volatile BridgeMetrics metrics;
    private volatile boolean keepImageUrls;
    /**
     * Writes whose commit may have been made though it failed (its reply lost in a database
     * failover), or may be lost though it was made (H2 failed to write its file before the flush),
     * by ledger id: a try again that finds this very document stored knows it its own.
     * Each is looked at by the next publish of its row; bounded for those never tried again.
     */
    private final Map<String, Unsure> unsure = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Unsure> eldest) {
            return size() > 1000;
        }
    };

    /** A write in doubt, which queued its deliveries: the document's digest and what it queued, and when. */
    private record Unsure(byte[] digest, ResultStatus status, String reasonCode, List<String> queued, long queuedAt) {
    }

    public ResultPublisher(Ledger ledger, ObjectMapper json, Outbox outbox) {
        this.ledger = ledger;
        this.json = json;
        this.outbox = outbox;
    }

    public void metrics(BridgeMetrics metrics) {
        this.metrics = metrics;
    }

    /**
     * Whether OneKYC's {@code submissionDetails.imageUrls} go into the result ({@code
     * ktp.results.image-urls=keep}). They are presigned download links to the card images, valid for
     * days: a credential, left out by default.
     */
    public void keepImageUrls(boolean keep) {
        this.keepImageUrls = keep;
    }

    /** Publishes OneKYC's final outcome from the details response. */
    public void publishOutcome(LedgerRecord r, JsonNode details, String receivedVia) {
        ResultStatus status = "ERROR".equals(details.path("status").asText()) ? ResultStatus.ERROR : ResultStatus.COMPLETED;
        String result = details.hasNonNull("result") ? details.get("result").asText() : null;
        String reason = details.hasNonNull("reasonCode") ? details.get("reasonCode").asText() : null;
        Long completedAt = parseInstant(details.path("processedAt").asText(null));
        if (!keepImageUrls && details.path("submissionDetails").has("imageUrls")) {
            details = details.deepCopy();
            ((ObjectNode) details.get("submissionDetails")).remove("imageUrls");
        }
        publish(r, ResultDocument.build(json, r, status, result, reason, details, receivedVia,
                completedAt != null ? completedAt : System.currentTimeMillis(), null), status, result, reason);
    }

    /**
     * Publishes the ERROR an ERROR callback announced ({@code reasonCode} its reason, "" for none)
     * when the submission's details could not be had: the outcome OneKYC stated, without its record.
     * Only while the claim {@code claimToken} holds the row.
     */
    public void publishCallbackError(LedgerRecord r, String reasonCode, String message, long claimToken) {
        String reason = reasonCode == null || reasonCode.isEmpty() ? null : reasonCode;
        publish(r, ResultDocument.build(json, r, ResultStatus.ERROR, null, reason, null, "callback",
                System.currentTimeMillis(), message), ResultStatus.ERROR, null, reason, claimToken, Guard.CLAIM);
    }

    /** Publishes an outcome decided by the bundle itself (REJECTED, FAILED, TIMED_OUT). */
    public void publishLocal(LedgerRecord r, ResultStatus status, String reasonCode, String message) {
        publishLocal(r, status, reasonCode, message, null);
    }

    /**
     * As above, by a collector holding the claim {@code claimToken} on the row: published only while
     * that claim still holds it (see {@link Ledger#recordResult(String, String, String, String, Long,
     * String, Long, Ledger.InTransaction)}).
     */
    public void publishLocal(LedgerRecord r, ResultStatus status, String reasonCode, String message, Long claimToken) {
        publish(r, localDocument(r, status, reasonCode, message), status, null, reasonCode, claimToken, Guard.CLAIM);
    }

    /**
     * A collector's own verdict (FAILED, TIMED_OUT) on an outcome whose details it could not have,
     * by the holder of the claim {@code claimToken}: published only while that claim holds and no
     * ERROR callback is noted (see {@link Ledger#recordUnlessErrorCallback}).
     *
     * @return false, with nothing published, when either no longer holds
     */
    public boolean publishUnlessErrorCallback(LedgerRecord r, ResultStatus status, String reasonCode, String message,
                                              long claimToken) {
        return publish(r, localDocument(r, status, reasonCode, message), status, null, reasonCode, claimToken,
                Guard.CLAIM_AND_NO_ERROR_CALLBACK);
    }

    /**
     * The poller's own verdict on a row it holds the claim {@code claimToken} of: published only
     * while that claim holds and no callback has been noted for the row (see
     * {@link Ledger#recordVerdict}).
     *
     * @return false, with nothing published, when either no longer holds
     */
    public boolean publishVerdict(LedgerRecord r, ResultStatus status, String reasonCode, String message,
                                  long claimToken) {
        return publish(r, localDocument(r, status, reasonCode, message), status, null, reasonCode, claimToken,
                Guard.CLAIM_AND_NO_CALLBACK);
    }

    /** A result decided here, not received from OneKYC: no receivedVia, whichever path came to it. */
    private ObjectNode localDocument(LedgerRecord r, ResultStatus status, String reasonCode, String message) {
        return ResultDocument.build(json, r, status, null, reasonCode, null, null, System.currentTimeMillis(), message);
    }

    /** What a result's write holds besides "no result yet". */
    private enum Guard { NONE, CLAIM, CLAIM_AND_NO_CALLBACK, CLAIM_AND_NO_ERROR_CALLBACK }

    private void publish(LedgerRecord r, ObjectNode doc, ResultStatus status, String result, String reasonCode) {
        publish(r, doc, status, result, reasonCode, null, Guard.NONE);
    }

    private boolean publish(LedgerRecord r, ObjectNode doc, ResultStatus status, String result, String reasonCode,
                            Long claimToken, Guard guard) {
        // stored and queued in one transaction: if it fails the claim stays open, so it is published again
        String body = doc.toPrettyString();
        List<String> queued = new ArrayList<>();
        long[] queuedAt = {0};
        Ledger.InTransaction enqueue = c -> {
            queued.addAll(outbox.enqueue(c, r.id()));
            queuedAt[0] = System.currentTimeMillis();
        };
        Long completedAt = parseInstant(doc.path("completedAt").asText(null));
        // the ledger's columns hold what fits, without a NUL (the document keeps OneKYC's values whole)
        boolean stored;
        try {
            stored = switch (guard) {
                case CLAIM_AND_NO_CALLBACK -> ledger.recordVerdict(r.id(), status.name(),
                        Ledger.fitText(reasonCode, 64), completedAt, body, claimToken, enqueue);
                case CLAIM_AND_NO_ERROR_CALLBACK -> ledger.recordUnlessErrorCallback(r.id(), status.name(),
                        Ledger.fitText(reasonCode, 64), completedAt, body, claimToken, enqueue);
                case NONE, CLAIM -> ledger.recordResult(r.id(), status.name(), Ledger.fitText(result, 16),
                        Ledger.fitText(reasonCode, 64), completedAt, body, claimToken, enqueue);
            };
        } catch (LedgerException e) {
            if (queuedAt[0] != 0) {
                // failed at its commit: made or not, only the row can tell once the ledger answers again
                synchronized (unsure) {
                    unsure.put(r.id(), new Unsure(digest(body), status, reasonCode, List.copyOf(queued), queuedAt[0]));
                }
            }
            throw e;
        }
        Unsure earlier;
        synchronized (unsure) {
            earlier = unsure.remove(r.id());
        }
        String own = stored || earlier == null ? null : storedBy(r, earlier);
        if (own != null) {
            // an earlier try's commit was made and its reply lost: its result, never counted and its
            // deliveries leased to it, is this call's to finish, not left to the retry schedule
            LOG.info("Result of ledger {} submission {} was stored by an earlier try whose reply was lost or whose"
                    + " flush failed", r.id(), r.submissionId());
            finish(r, earlier, () -> outbox.deliverStillLeased(r.id(), ResultDocument.name(r),
                    earlier.status().name(), own, earlier.queued(), earlier.queuedAt()));
            return true;
        }
        if (!stored) {
            LOG.warn("Ledger {} submission {} already has a result{}; this {} one is not published", r.id(),
                    r.submissionId(), switch (guard) {
                        case NONE -> "";
                        case CLAIM -> " or another collector holds it";
                        case CLAIM_AND_NO_CALLBACK -> ", another collector holds it or a callback came";
                        case CLAIM_AND_NO_ERROR_CALLBACK -> ", another collector holds it or an ERROR callback came";
                    }, status);
            return false;
        }
        finish(r, new Unsure(digest(body), status, reasonCode, List.copyOf(queued), queuedAt[0]), () ->
                outbox.deliverNow(r.id(), ResultDocument.name(r), status.name(), body, queued, queuedAt[0]));
        return true;
    }

    /**
     * What follows a stored result: flushed, counted, and attempted at each target it was queued
     * for. {@code stored} is the write, noted for the next try when the ledger's file failed.
     */
    private void finish(LedgerRecord r, Unsure stored, Runnable deliver) {
        // durable before any target sees it: a restart must not collect and deliver it again
        try {
            ledger.flush();
        } catch (LedgerException e) {
            if (e.isStoreFailure()) {
                // H2 could not write its file (a full disk) and drops, or has dropped, the commits it
                // holds: this one may be gone once the file is open again, and a target must not have
                // a result the ledger has not. The caller tries again (the source keeps the input; a
                // claim goes stale); a try that finds this very write stored finishes it then
                synchronized (unsure) {
                    unsure.put(r.id(), stored);
                }
                LOG.warn("Result of ledger {} submission {} is not delivered: the ledger's file could not be written"
                        + " and the result may be lost ({})", r.id(), r.submissionId(), e.getMessage());
                throw e;
            }
            // committed and the database still open, so stored and queued for good; only its write
            // to disk waits (H2 writes its commits in the background too). Its delivery rows are
            // leased to this call: kept back, they would wait out the lease, and the caller would
            // take a stored result for one not stored. Delivered now, a crash before that write
            // could have it collected and delivered twice
            LOG.warn("Result of ledger {} submission {} is stored, but the ledger could not flush it to disk yet"
                    + " ({}): delivered all the same", r.id(), r.submissionId(), e.getMessage());
        }
        // counted once: a later call finds it stored and does not store it again
        if (metrics != null) {
            metrics.inputFinished(r.sourceType(), stored.status().name());
        }
        LOG.info("Result ready: ledger {} submission {} status {} reason {}", r.id(), r.submissionId(),
                stored.status(), stored.reasonCode() == null || stored.reasonCode().isEmpty() ? "-"
                        : id.ktpbridge.LogSafe.text(stored.reasonCode(), 64));
        deliver.run();
    }

    /** The row's stored document when it is the one {@code earlier} wrote, else null. */
    private String storedBy(LedgerRecord r, Unsure earlier) {
        String held;
        try {
            held = ledger.resultJson(r.id()).orElse(null);
        } catch (LedgerException e) {
            synchronized (unsure) {
                unsure.putIfAbsent(r.id(), earlier); // for the next try
            }
            throw e;
        }
        return held != null && Arrays.equals(earlier.digest(), digest(held)) ? held : null;
    }

    private static byte[] digest(String body) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(body.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    private static Long parseInstant(String iso) {
        if (iso == null || iso.isBlank()) {
            return null;
        }
        try {
            return java.time.Instant.parse(iso).toEpochMilli();
        } catch (java.time.format.DateTimeParseException e) {
            return null;
        }
    }
}

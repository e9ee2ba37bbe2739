package id.ktpbridge.gtf;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import id.ktpbridge.LogSafe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OneKYC KTP Scan API as this bundle uses it: tokens, presign, upload, confirm, status and
 * details. Every call that carries a token is retried once with a fresh token after a 401 (or a
 * 403 with code 110).
 */
public class GtfClient {

    private static final Logger LOG = LoggerFactory.getLogger(GtfClient.class);
    /** The endpoints OneKYC calls are made, observed and paused by (the upload to the storage aside). */
    public static final List<String> ENDPOINTS = List.of("user-token", "partner-token", "presign", "confirm",
            "status", "details");
    private static final Pattern S3_ERROR_CODE = Pattern.compile("<Code>([^<]{1,64})</Code>");
    private static final Pattern S3_ERROR_MESSAGE = Pattern.compile("<Message>([^<]{1,512})</Message>");

    private final GtfSettings settings;
    private final GtfHttp http;
    private final ObjectMapper json;
    private final TokenCache tokens;
    private final java.util.concurrent.atomic.AtomicBoolean detailsWithPartnerToken;
    private final java.util.concurrent.atomic.AtomicBoolean partnerSessionPerCall;
    /** See {@link #detailsUserHeaders}. */
    private volatile String detailsUserHeaders = "never";
    /** {@code detect}, {@code none} or a type sent as it is: see {@link #uploadContentType(String)}. */
    private volatile String uploadContentType = "detect";
    /** See {@link #uploadMethod(String)}. */
    private volatile String uploadMethod = "PUT";
    private final java.util.concurrent.atomic.AtomicBoolean detailsWithUserHeaders =
            new java.util.concurrent.atomic.AtomicBoolean();

    public GtfClient(GtfSettings settings, GtfHttp http, ObjectMapper json) {
        this.settings = settings;
        this.http = http;
        this.json = json;
        this.tokens = new TokenCache(this::fetchToken, settings.tokenRefreshSkew().toSeconds(),
                settings.tokenCacheMaxEntries(), java.time.Clock.systemUTC());
        this.detailsWithPartnerToken = new java.util.concurrent.atomic.AtomicBoolean(settings.detailsUsePartnerToken());
        this.partnerSessionPerCall = new java.util.concurrent.atomic.AtomicBoolean(settings.partnerSessionPerCall());
    }

    /** Whether every call gets an {@code x-partner-session-id} of its own (set, or learned: see {@link #withSessionIds}). */
    public boolean partnerSessionPerCall() {
        return partnerSessionPerCall.get();
    }

    /**
     * Makes one call that carries session ids: {@code call} gets the ids to send, drawn once for the
     * whole call (its retries and its token refresh send the same ones, so a server that takes them
     * as an idempotency key knows them for one request). The reference leaves open whether
     * {@code x-partner-session-id} is one per submission (the CoE details lookup key: the default)
     * or unique per call (ESIGN's idempotency id, a repeat refused as
     * {@code DUPLICATE_PARTNER_SESSION_ID}). Such a refusal of a call's first sending switches to
     * one per call from then on, and the call is made once more with a new one: the refused call
     * was not applied. The same refusal of a retry after an attempt whose answer was lost is no such
     * evidence: the retry repeated that attempt's id, so it only says that attempt reached OneKYC.
     * The mode stays; {@code afterLostAnswer} gives the ids the call is made once more with, or is
     * null for the refusal to go to the caller (see {@link GtfApiException#earlierAttemptArrived()}).
     */
    private <T> T withSessionIds(CallContext ctx, Function<CallContext, T> call,
                                 java.util.function.UnaryOperator<CallContext> afterLostAnswer) {
        try {
            return call.apply(idsToSend(ctx));
        } catch (GtfApiException e) {
            if (!e.refusesRepeatedSessionId()) {
                throw e;
            }
            CallContext next = ctx;
            if (e.afterUnansweredAttempt()) {
                if (afterLostAnswer == null) {
                    throw e;
                }
                next = afterLostAnswer.apply(ctx);
            } else if (partnerSessionPerCall.compareAndSet(false, true)) {
                LOG.warn("{} refused a repeated x-partner-session-id (DUPLICATE_PARTNER_SESSION_ID): every call gets"
                        + " one of its own from now on (gtf.partner-session-id.mode=per-call starts so)", e.endpoint());
            }
            try {
                return call.apply(idsToSend(next));
            } catch (GtfApiException again) {
                throw e.afterUnansweredAttempt() ? again.followingUnansweredAttempt() : again;
            }
        }
    }

    /** The session ids one call sends: the submission's, or, for each id that is one per call, a new one. */
    private CallContext idsToSend(CallContext ctx) {
        boolean partner = partnerSessionPerCall.get();
        boolean sdk = settings.sdkSessionPerCall();
        if (!partner && !sdk) {
            return ctx;
        }
        return ctx.withSessions(partner ? java.util.UUID.randomUUID().toString() : ctx.partnerSessionId(),
                sdk ? java.util.UUID.randomUUID().toString() : ctx.sdkSessionId());
    }

    public TokenCache tokens() {
        return tokens;
    }

    public GtfSettings settings() {
        return settings;
    }

    public GtfHttp http() {
        return http;
    }

    /** See {@link #upload(Presigned.DocumentSlot, Path, String, long)}. */
    static final java.time.Duration UPLOAD_URL_MARGIN = java.time.Duration.ofSeconds(1);

    /** A token server whose clock is behind hands every token out so: one line an hour. */
    private final id.ktpbridge.ThrottledWarning clockBehind = new id.ktpbridge.ThrottledWarning(LOG,
            "{} answered a new token with expires_at {} s from now by this host's clock but expiry_seconds {}:"
                    + " taking the token server's clock to be behind, the token is kept for expiry_seconds from now",
            3_600_000);

    /** How long a token is kept whose answer gives no usable end (no or a past expires_at, no expiry_seconds). */
    static final long UNKNOWN_EXPIRY_SECONDS = 300;
    /** A token server that answers so does so for every token: one line an hour. */
    private final id.ktpbridge.ThrottledWarning expiryPassed = new id.ktpbridge.ThrottledWarning(LOG,
            "{} answered a new token with expires_at {} s from now by this host's clock and no usable expiry_seconds:"
                    + " its end is taken as unknown, the token is taken to last {} s",
            3_600_000);

    /** By token endpoint and onboarding partner: see {@link #fetchToken}. */
    private final Map<String, CredentialsRefusal> credentialsRefusals = new java.util.concurrent.ConcurrentHashMap<>();
    /** When the token endpoint last refused the credentials, for a line at most once a minute. */
    private final java.util.concurrent.atomic.AtomicLong lastCredentialsRefusal =
            new java.util.concurrent.atomic.AtomicLong(Long.MIN_VALUE / 2);

    /**
     * What a submission id may look like (OneKYC's are UUIDs): letters, digits, '-' and '_'. Ids
     * name result files and S3 keys and travel in headers, so an answer with another is refused.
     */
    public static final Pattern SUBMISSION_ID_SHAPE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,127}");

    /**
     * Step 2: creates a submission and returns its upload slots, with the session ids of the
     * sending that made it ({@link Presigned#sessions()}): the caller keeps them with the
     * submission. With ids one per call, those drawn for this presign, not the ones it was given:
     * those OneKYC never saw.
     */
    public Presigned presign(CallContext ctx) {
        return presign(ctx, presigned -> { });
    }

    /**
     * As {@link #presign(CallContext)}, with {@code usable} judging the answer too (the caller's
     * check of its upload slots, say), inside the call as its submission id is: a {@link
     * GtfApiException} either throws is that attempt's answer, observed, counted by the circuit
     * breaker and retried by what it counts as (see {@link GtfHttp#call(String, Supplier, long,
     * java.util.function.Consumer)}), not the 2xx it came in. It may be called for several answers
     * of one presign; the one it passes is returned.
     */
    public Presigned presign(CallContext ctx, java.util.function.Consumer<Presigned> usable) {
        String pathAndQuery = settings.presignPath() + "?submissionType=" + settings.submissionType();
        AtomicReference<Presigned> answered = new AtomicReference<>();
        withSessionIds(ctx, sent -> withToken(ctx.tokenKey(), token -> http.call("presign",
                () -> api(pathAndQuery, token.get(), sent).GET().build(), http.maxRetryAfterMillis(), data -> {
                    // with the ids of the sending answered
                    Presigned presigned = presigned(data, sent);
                    usable.accept(presigned);
                    answered.set(presigned);
                })), lost -> {
            // the attempt whose answer was lost made a submission that cannot be known now, and its
            // ids name that one: this input presigns once more under ids of its own (the caller
            // keeps them with the new submission, the details lookup key in per-submission mode)
            LOG.warn("Presign refused its retry as DUPLICATE_PARTNER_SESSION_ID: the attempt whose answer"
                    + " was lost made a submission that stays unknown and unconfirmed; presigning once more"
                    + " under new session ids");
            return lost.withFreshSessions();
        });
        return answered.get();
    }

    /**
     * A presign answer's {@code data}, presigned under {@code sessions}. One without a submission id
     * counts as no answer (see {@link GtfApiException#NO_SUBMISSION_ID}); one whose id is not of
     * {@link #SUBMISSION_ID_SHAPE} is refused.
     */
    private static Presigned presigned(JsonNode data, CallContext sessions) {
        String submissionId = data.path("submissionId").asText(null);
        if (submissionId == null || submissionId.isBlank()) {
            throw new GtfApiException("presign", 200, null, GtfApiException.NO_SUBMISSION_ID);
        }
        if (!SUBMISSION_ID_SHAPE.matcher(submissionId).matches()) {
            // it names result files and S3 keys and goes into headers: nothing else is taken
            throw new GtfApiException("presign", 200, null, "SUBMISSION_ID_NOT_USABLE");
        }
        Map<String, Presigned.DocumentSlot> documents = new LinkedHashMap<>();
        data.path("documents").fields().forEachRemaining(e -> {
            String url = e.getValue().path("documentUrl").asText(null);
            documents.put(e.getKey(), new Presigned.DocumentSlot(url, e.getValue().path("documentReference").asText(null),
                    UrlExpiry.seconds(e.getValue().path("expiryInSeconds"), url, System.currentTimeMillis())));
        });
        // no documents is judged by the caller, after the submission's status (one handed out again past
        // INITIATED has none, and is not this input's to fail on): through usable, see presign
        return new Presigned(submissionId, StatusWord.of(data.path("status").asText(null)), documents, sessions);
    }

    /**
     * Step 3: PUTs the file to the presigned URL exactly as the server returned it (the URI is
     * built from the raw string, so {@code %2F} stays {@code %2F}) with only a Content-Type:
     * storage never sees OneKYC headers.
     */
    public void upload(Presigned.DocumentSlot slot, Path file, String contentType) {
        upload(slot, file, contentType, 0);
    }

    /**
     * As {@link #upload(Presigned.DocumentSlot, Path, String)}, for a URL that lasts until
     * {@code expiresAtMillis} (0: unknown). The first attempt is made unless that has passed: a URL
     * given for a second or two is used at once. A retry is not made within {@link #UPLOAD_URL_MARGIN}
     * of it: storage would refuse it (403), and the caller presigns again either way.
     */
    public void upload(Presigned.DocumentSlot slot, Path file, String contentType, long expiresAtMillis) {
        upload(slot, () -> HttpRequest.BodyPublishers.ofFile(file), contentType, expiresAtMillis);
    }

    /** As {@link #upload(Presigned.DocumentSlot, Path, String, long)}, for bytes held in memory. */
    public void upload(Presigned.DocumentSlot slot, byte[] image, String contentType, long expiresAtMillis) {
        upload(slot, () -> HttpRequest.BodyPublishers.ofByteArray(image), contentType, expiresAtMillis);
    }

    /** The body of one upload attempt. */
    private interface UploadBody {
        HttpRequest.BodyPublisher open() throws FileNotFoundException;
    }

    private void upload(Presigned.DocumentSlot slot, UploadBody image, String contentType, long expiresAtMillis) {
        String sentType = "detect".equals(uploadContentType) ? contentType : uploadContentType;
        if (slot.documentUrl() == null) {
            throw new StorageUploadException("the presign response has no documentUrl", null);
        }
        URI target = presignedUri(slot.documentUrl());
        for (int attempt = 1; ; attempt++) {
            long margin = attempt == 1 ? 0 : UPLOAD_URL_MARGIN.toMillis();
            if (expiresAtMillis > 0 && System.currentTimeMillis() + margin >= expiresAtMillis) {
                throw StorageUploadException.expiredBeforeSending();
            }
            int status;
            String body;
            long retryAfter = -1;
            long start = System.nanoTime();
            try {
                HttpRequest.Builder put = HttpRequest.newBuilder(target)
                        .timeout(settings.uploadTimeout())
                        .method(uploadMethod, image.open());
                if (!"none".equals(sentType)) {
                    put.header("Content-Type", sentType);
                }
                HttpRequest request = put.build();
                HttpResponse<String> response = http.send(request);
                status = response.statusCode();
                body = response.body();
                retryAfter = GtfHttp.retryAfter(response);
                http.observe("upload", status, System.nanoTime() - start);
            } catch (FileNotFoundException e) {
                throw new StorageUploadException("the source file vanished before upload", e);
            } catch (IOException e) {
                status = 0;
                body = e.getClass().getSimpleName();
                http.observe("upload", 0, System.nanoTime() - start);
            } catch (InterruptedException e) {
                // a stop: the upload may or may not have been stored; the input waits in its source
                Thread.currentThread().interrupt();
                http.observe("upload", 0, System.nanoTime() - start);
                throw StorageUploadException.unanswered("interrupted");
            }
            if (status / 100 == 2) {
                return;
            }
            // object storage throttles with 503 SlowDown (sometimes 429), with or without Retry-After,
            // and gives up on a slow body with 408 or S3's 400 RequestTimeout
            boolean transientFailure = status == 0 || status == 408 || status == 400 && "RequestTimeout".equals(s3Code(body))
                    || status == 429 || status >= 500;
            if (!transientFailure || attempt >= settings.retryMaxAttempts()
                    || retryAfter > http.maxRetryAfterMillis()) {
                throw status == 0 ? StorageUploadException.unanswered(body)
                        : new StorageUploadException(status, s3Code(body), s3Message(body));
            }
            long wait = retryAfter >= 0 ? retryAfter : http.backoff(attempt);
            LOG.info("upload attempt {}/{} failed ({}); retrying in {} ms", attempt, settings.retryMaxAttempts(),
                    status == 0 ? body : "HTTP " + status, wait);
            pause(wait);
        }
    }

    /**
     * The presigned URL as a URI, unchanged. One the JDK cannot send as it is (a space, an unknown
     * scheme) fails the upload; the message leaves the URL out, and so does the cause, because its
     * signature is a credential and the parser's message quotes the whole URL.
     */
    private static URI presignedUri(String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new StorageUploadException("the presigned URL is not a valid URI (" + e.getReason()
                    + " at index " + e.getIndex() + ")", null);
        }
        String scheme = uri.getScheme();
        if (!"https".equalsIgnoreCase(scheme) && !"http".equalsIgnoreCase(scheme) || uri.getHost() == null) {
            throw new StorageUploadException("the presigned URL is not an absolute http(s) URL", null);
        }
        return uri;
    }

    /** Step 4: starts processing of the uploaded documents. */
    public void confirm(CallContext ctx, String submissionId, JsonNode metadata) {
        confirm(ctx, submissionId, metadata, http.maxRetryAfterMillis());
    }

    /**
     * As {@link #confirm(CallContext, String, JsonNode)}, waiting out a {@code Retry-After} of at
     * most {@code longestWaitMillis} in place (a confirm made again in a poll tick).
     */
    public void confirm(CallContext ctx, String submissionId, JsonNode metadata, long longestWaitMillis) {
        ObjectNode body = json.createObjectNode().put("submissionId", submissionId);
        if (metadata != null && metadata.isObject() && !metadata.isEmpty()) {
            body.set("metadata", metadata);
        }
        String payload = body.toString();
        // refused as DUPLICATE_PARTNER_SESSION_ID after an attempt whose answer was lost, it was applied
        // (or at least taken): the refusal goes to the caller, which takes it as confirmed
        withSessionIds(ctx, sent -> withToken(ctx.tokenKey(), token -> http.call("confirm",
                () -> api(settings.confirmPath(), token.get(), sent)
                        .header("Content-Type", "application/json")
                        .PUT(HttpRequest.BodyPublishers.ofString(payload)).build(), longestWaitMillis)), null);
    }

    /**
     * Step 5: the submission's processing status ({@code data} of the envelope, its status word
     * trimmed and upper-cased, see {@link StatusWord}). Made in a poll
     * tick, which waits for every status call of its batch: a {@code Retry-After} longer than
     * {@link GtfHttp#POLL_CALL_MAX_RETRY_AFTER} is left to the submission's next poll.
     */
    public JsonNode status(CallContext ctx, String submissionId) {
        // a read: refused as DUPLICATE_PARTNER_SESSION_ID after a lost answer, asked once more with ids of its own
        return StatusWord.normalise(withSessionIds(ctx, sent -> withToken(ctx.tokenKey(), token -> http.call("status",
                () -> api(settings.statusPathFor(submissionId), token.get(), sent).GET().build(),
                GtfHttp.POLL_CALL_MAX_RETRY_AFTER.toMillis())), CallContext::withFreshSessions));
    }

    /**
     * Step 6: the outcome with the OCR data, looked up by submission id and partner session id (its
     * status word as {@link StatusWord} puts it).
     * The reference leaves open which token this endpoint takes (user or partner). The one in use
     * ({@code gtf.details.token-source} at first) is sent; when the details endpoint itself refuses
     * it (401 after a refresh, or 403), the other is tried, and the one that was taken is used from
     * then on. A refusal by the token endpoint (the token could not be had) switches nothing.
     */
    public JsonNode details(CallContext ctx, String submissionId) {
        // whether this call goes with the user's id: one that went without it may ask again
        boolean sentWithUser = detailsWithUserHeaders.get();
        try {
            return StatusWord.normalise(detailsByEitherToken(ctx, submissionId));
        } catch (GtfApiException e) {
            if (sentWithUser || !asksForPartnerUser(e) || !"auto".equals(detailsUserHeaders)) {
                throw e;
            }
            // calls refused alike at the same moment each ask again; one says so
            if (detailsWithUserHeaders.compareAndSet(false, true)) {
                LOG.warn("The details endpoint asked for the partner user id ({} {}), as ESIGN's does: sending"
                        + " x-partner-user-id and x-partner-user-id-type on details calls from now on", e.code(),
                        LogSafe.text(e.errorCause(), 40));
            }
            return StatusWord.normalise(detailsByEitherToken(ctx, submissionId));
        }
    }

    /**
     * Details refused for want of the user's id headers: a 400 saying the partner user id or its
     * type is empty ({@code 1550 PARTNER_USER_ID_CAN_NOT_BE_EMPTY}); the code alone only without a
     * cause, as 1550 also stands for other missing or invalid parameters.
     */
    private static boolean asksForPartnerUser(GtfApiException e) {
        if (!"details".equals(e.endpoint()) || e.httpStatus() != 400) {
            return false;
        }
        String cause = e.errorCause();
        return "PARTNER_USER_ID_CAN_NOT_BE_EMPTY".equals(cause) || "PARTNER_USER_ID_TYPE_CAN_NOT_BE_EMPTY".equals(cause)
                || "1550".equals(e.code()) && (cause == null || cause.isBlank());
    }

    /**
     * {@code gtf.upload.content-type}: the {@code Content-Type} of uploads to presigned URLs. The
     * reference signs only {@code host} (any type is taken) and leaves open whether the type must
     * match anything: {@code detect} (the default) sends the image's own ({@code image/jpeg} or
     * {@code image/png}, as the reference's example); {@code none} sends no {@code Content-Type}
     * (a URL signed without one, as OSS's own signing does); any other value is sent as it is (a
     * URL signed for that type).
     */
    public void uploadContentType(String mode) {
        this.uploadContentType = mode;
    }

    /**
     * {@code gtf.upload.method}: the HTTP method of each upload to a presigned URL, {@code PUT} (the
     * reference's, from ESIGN's guide) or {@code POST}. The reference lists the method among its open
     * questions; a presigned URL is signed for one method, so a storage that signs for another
     * refuses every upload until this says which.
     */
    public void uploadMethod(String method) {
        this.uploadMethod = method;
    }

    /**
     * {@code gtf.details.partner-user-headers}: whether details calls carry {@code x-partner-user-id}
     * and {@code x-partner-user-id-type}, which the reference's COE page does not list and ESIGN's
     * details call requires. {@code never} (the default, as COE documents the call); {@code auto}:
     * not at first, and from the first refusal that asks for them ({@code 1550}) on, that call
     * asked again with them (COE also answers 1550 for other missing or invalid parameters, so this
     * is for a server known to want them); {@code always}.
     */
    public void detailsUserHeaders(String mode) {
        this.detailsUserHeaders = mode;
        detailsWithUserHeaders.set("always".equals(mode));
    }

    private JsonNode detailsByEitherToken(CallContext ctx, String submissionId) {
        boolean partner = detailsWithPartnerToken.get();
        try {
            return details(detailsToken(partner, ctx), ctx, submissionId);
        } catch (GtfApiException e) {
            if (!"details".equals(e.endpoint()) || !e.refusesCredentials()) {
                throw e;
            }
            JsonNode data = details(detailsToken(!partner, ctx), ctx, submissionId);
            if (detailsWithPartnerToken.compareAndSet(partner, !partner)) {
                String refused = partner ? "partner" : "user";
                String taken = partner ? "user" : "partner";
                LOG.warn("The details endpoint refused the {} token and took the {} token: using the {} token from"
                        + " now on", refused, taken, taken);
            }
            return data;
        }
    }

    private TokenKey detailsToken(boolean partner, CallContext ctx) {
        return partner ? TokenKey.partner(settings.onboardingPartner()) : ctx.tokenKey();
    }

    /**
     * Looked up by submission id and, one per submission being the default, partner session id. A
     * submission OneKYC handed out again ("new or existing") may know another session than the one
     * this input presigned with: refused as not belonging ({@code 1553}), it is asked for by its
     * submission id alone, which the reference allows. So it is when the answer names another
     * submission (a server that goes by the session id when both are sent, which an earlier
     * submission left behind under it may carry too), when a retry after a lost answer was refused
     * as {@code DUPLICATE_PARTNER_SESSION_ID}, and when it is not found under the pair ({@code 1552}):
     * ids one per call are learned in memory only, so a restarted or another instance sends the id
     * kept (the presign's), by which OneKYC may look nothing up. The submission id is the
     * unambiguous key.
     */
    private JsonNode details(TokenKey key, CallContext ctx, String submissionId) {
        if (partnerSessionPerCall.get()) {
            return details(key, ctx, submissionId, false);
        }
        JsonNode data;
        try {
            data = details(key, ctx, submissionId, true);
        } catch (GtfApiException e) {
            boolean sessionRefused = "1553".equals(e.code())
                    || "PARTNER_SESSION_ID_DOES_NOT_BELONG_TO_THE_USER".equals(e.errorCause());
            // not found under the pair: with ids one per call (which an instance learns in memory only,
            // so a restarted or other one may send the kept id), OneKYC may look nothing up by it
            boolean notFoundWithSession = "details".equals(e.endpoint()) && e.isSubmissionNotFound();
            if (!sessionRefused && !notFoundWithSession && !e.earlierAttemptArrived()) {
                throw e;
            }
            LOG.info("Details of submission {} refused its partner session id ({}): asking by submission id alone",
                    submissionId, sessionRefused ? "1553" : notFoundWithSession ? "SUBMISSION_DOES_NOT_EXIST"
                            : "DUPLICATE_PARTNER_SESSION_ID after a lost answer");
            return details(key, ctx, submissionId, false);
        }
        String named = data.path("submissionId").asText("");
        if (named.isEmpty() || named.equals(submissionId)) {
            return data;
        }
        LOG.info("Details of submission {} asked with its partner session id named another submission: asking by"
                + " submission id alone", submissionId);
        return details(key, ctx, submissionId, false);
    }

    private JsonNode details(TokenKey key, CallContext ctx, String submissionId, boolean withPartnerSession) {
        return withSessionIds(ctx, sent -> withToken(key, token -> http.call("details", () -> {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(settings.apiUrl() + settings.detailsPath()))
                    .timeout(settings.readTimeout())
                    .header("x-onekyc-token", token.get())
                    .header("x-submission-id", submissionId);
            if (withPartnerSession && !partnerSessionPerCall.get()) {
                b.header("x-partner-session-id", sent.partnerSessionId());
            }
            if (detailsWithUserHeaders.get()) {
                // the submission's user, whichever token is sent
                b.header("x-partner-user-id", ctx.tokenKey().partnerUserId())
                        .header("x-partner-user-id-type", ctx.tokenKey().partnerUserIdType());
            }
            return b.GET().build();
        }, GtfHttp.CLAIMED_CALL_MAX_RETRY_AFTER.toMillis())), null);
    }

    /**
     * Runs a call with the cached token. The call reads the token again for each attempt it makes,
     * so a retry after a back-off never sends one that expired meanwhile. After a 401 (or a 403 with
     * code 110, see {@link GtfApiException#refusesToken()}) the token that got it is dropped and the
     * call made once more. A 401 then too drops that one as well, so the next call does not start
     * with a token already refused; a 403 to a token fetched a moment ago is about what the call
     * asked, not the token, which is kept: dropped, every later take of the input would fetch two
     * tokens only to be refused the same way.
     */
    <T> T withToken(TokenKey key, Function<Supplier<String>, T> call) {
        AtomicReference<UserToken> used = new AtomicReference<>();
        Supplier<String> current = () -> {
            UserToken token = tokens.get(key);
            used.set(token);
            return token.value();
        };
        try {
            return call.apply(current);
        } catch (GtfApiException e) {
            if (!e.refusesToken() || used.get() == null) {
                throw e;
            }
            LOG.info("{} answered {} (token refused): refreshing the token and retrying once", e.endpoint(),
                    e.httpStatus());
            tokens.invalidate(key, used.get());
            try {
                return call.apply(current);
            } catch (GtfApiException again) {
                if (again.refusesToken() && again.isUnauthorized() && used.get() != null) {
                    tokens.invalidate(key, used.get());
                }
                throw e.afterUnansweredAttempt() ? again.followingUnansweredAttempt() : again;
            }
        }
    }

    /** A token endpoint's refusal of the bundle's credentials, answered again without a call until {@code until}. */
    private record CredentialsRefusal(GtfApiException refusal, long until) { }

    /**
     * A wait the token endpoint asked for ({@code Retry-After}) that its call did not wait out, by
     * endpoint and onboarding partner: every token fetch of that kind waits it out, not only the
     * caller whose fetch met it (the next caller, or another user's, would call at once).
     */
    private record TokenEndpointWait(GtfApiException answer, long until) { }

    private final Map<String, TokenEndpointWait> tokenEndpointWaits = new java.util.concurrent.ConcurrentHashMap<>();

    private UserToken fetchToken(TokenKey key) {
        String endpoint = key.isPartnerToken() ? "partner-token" : "user-token";
        String path = key.isPartnerToken() ? settings.partnerTokenPath() : settings.userTokenPath();
        // the user-token request carries the row's onboarding partner too: one kept by inputs from
        // before a change of gtf.onboarding-partner is refused, and must not pause everyone else's
        String refusalKey = endpoint + " " + key.onboardingPartner();
        CredentialsRefusal paused = credentialsRefusals.get(refusalKey);
        if (paused != null && System.currentTimeMillis() < paused.until()) {
            // the same credentials would be refused alike for every user: not asked again for a while.
            // Not the circuit breaker: that would take the instance out of readiness, and tokens
            // already held still serve collection (and callbacks reach it only while it is ready)
            throw paused.refusal();
        }
        TokenEndpointWait waiting = tokenEndpointWaits.get(refusalKey);
        if (waiting != null) {
            long left = waiting.until() - System.currentTimeMillis();
            if (left > 0) {
                throw waiting.answer().stillWaiting(left);
            }
            tokenEndpointWaits.remove(refusalKey, waiting);
        }
        JsonNode data;
        try {
            data = fetchTokenData(endpoint, path, key);
        } catch (GtfApiException e) {
            long now = System.currentTimeMillis();
            if (e.retryAfterMillis() > 0) {
                tokenEndpointWaits.put(refusalKey, new TokenEndpointWait(e, now + e.retryAfterMillis()));
            }
            if (e.isTokenRefusal()) {
                long pause = http.breaker().coolDown().toMillis();
                credentialsRefusals.put(refusalKey, new CredentialsRefusal(e, now + pause));
            }
            long last = lastCredentialsRefusal.get();
            if (e.isTokenRefusal() && now - last >= 60_000
                    && lastCredentialsRefusal.compareAndSet(last, now)) {
                // every image of every user fails the same way: one line that says where to look
                LOG.error("The token endpoint refused the bundle's credentials (HTTP {}): check gtf.client-id and"
                        + " gtf.pass-key{}, and that this host's address is allowed", e.httpStatus(),
                        key.isPartnerToken() ? "" : " and gtf.onboarding-partner");
            }
            throw e;
        }
        credentialsRefusals.remove(refusalKey);
        tokenEndpointWaits.remove(refusalKey);
        String token = usableToken(endpoint, data);
        long now = System.currentTimeMillis() / 1000;
        long expiresAt = parseLong(data.path("expires_at").asText(""));
        if (expiresAt > 100_000_000_000L) {
            expiresAt /= 1000; // documented as epoch seconds; tolerate milliseconds
        }
        long ttl = parseLong(data.path("expiry_seconds").asText(""));
        if (expiresAt > 0 && expiresAt <= now && ttl <= 0) {
            // already past, and no lifetime to go by instead: taken at its word the token would be
            // fetched anew for every call. Its end is taken as unknown
            expiryPassed.warn(endpoint, expiresAt - now, UNKNOWN_EXPIRY_SECONDS);
            expiresAt = 0;
        }
        if (expiresAt <= 0) {
            expiresAt = now + (ttl > 0 ? ttl : UNKNOWN_EXPIRY_SECONDS);
        } else if (ttl > 0) {
            long localEnd = Math.floorDiv(System.currentTimeMillis() + 999, 1000) + ttl;
            if (expiresAt <= now) {
                // a fresh token whose expires_at has passed: the token server's clock is behind ours (a
                // server does not hand out a token it takes as expired), or its value stale. Taken at its
                // word it would never be usable, and every call would mint a new token; expiry_seconds is
                // on no clock. One that ends soon is taken at its word: a server may hand back the same
                // token until it expires (TokenCache then asks again at most every 30 s)
                clockBehind.warn(endpoint, expiresAt - now, ttl);
                expiresAt = localEnd;
            } else {
                // expires_at is on the server's clock: when the two disagree, the earlier end is the safe
                // one (rounded up to the second here, as the server's whole seconds may be)
                expiresAt = Math.min(expiresAt, localEnd);
            }
        }
        return new UserToken(token, expiresAt, ttl > 0 ? ttl : Math.max(0, expiresAt - now));
    }

    /**
     * The token of a token answer. One that is missing, or that cannot go into the {@code
     * x-onekyc-token} header as it is (a control character such as CR/LF, a space, a character
     * outside ASCII), fails as an answer that counts as none (see {@link GtfApiException#countsAs}):
     * kept, it would fail every call of its user with the JDK's refusal of the header, for the
     * token's whole lifetime (60 days by the reference's example), and that failure is not one to
     * retry. Judged inside the call ({@link #fetchTokenData}), so it is asked again with the back-off
     * like an answer cut off on the way, and counted by the token endpoint's circuit breaker: a token
     * server that hands such tokens out does so for every user, as an outage would.
     */
    private static String usableToken(String endpoint, JsonNode data) {
        String token = data.path("token").asText(null);
        if (token == null || token.isBlank()) {
            throw new GtfApiException(endpoint, 200, null, GtfApiException.NO_TOKEN);
        }
        if (!isHeaderValue(token)) {
            // the value stays out of the message: it is a credential
            throw new GtfApiException(endpoint, 200, null, GtfApiException.UNUSABLE_TOKEN);
        }
        return token;
    }

    /**
     * Whether a token can be sent as a header value: visible ASCII only (0x21-0x7E), which a JWT
     * (base64url parts and dots) always is. Stricter than HTTP itself, which allows inner spaces and
     * Latin-1 bytes: a token with those would not survive every proxy unchanged either.
     */
    static boolean isHeaderValue(String token) {
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c < 0x21 || c > 0x7E) {
                return false;
            }
        }
        return true;
    }

    private JsonNode fetchTokenData(String endpoint, String path, TokenKey key) {
        long longestWait = GtfHttp.TOKEN_CALL_MAX_RETRY_AFTER.toMillis();
        return http.call(endpoint, () -> {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(settings.tokenUrl() + path))
                    .timeout(settings.readTimeout())
                    .header("client-id", settings.clientId())
                    .header("pass-key", settings.passKey());
            if (!key.isPartnerToken()) {
                b.header("x-onboarding-partner", key.onboardingPartner())
                        .header("x-partner-user-id", key.partnerUserId())
                        .header("x-partner-user-id-type", key.partnerUserIdType());
            }
            return b.GET().build();
        }, longestWait, data -> usableToken(endpoint, data));
    }

    /** @param sent the session ids of this call, as {@link #idsToSend} drew them for all its attempts */
    private HttpRequest.Builder api(String pathAndQuery, String token, CallContext sent) {
        return HttpRequest.newBuilder(URI.create(settings.apiUrl() + pathAndQuery))
                .timeout(settings.readTimeout())
                .header("x-onekyc-token", token)
                .header("x-partner-session-id", sent.partnerSessionId())
                .header("x-sdk-session-id", sent.sdkSessionId());
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The storage error body's code, fit for logs: it comes from outside, as the body does. */
    private static String s3Code(String body) {
        Matcher m = S3_ERROR_CODE.matcher(body == null ? "" : body);
        return m.find() ? LogSafe.text(m.group(1), 64) : null;
    }

    /** The storage error body's message, only to see whether it says the URL expired: not for logs. */
    private static String s3Message(String body) {
        Matcher m = S3_ERROR_MESSAGE.matcher(body == null ? "" : body);
        return m.find() ? m.group(1) : null;
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw StorageUploadException.unanswered("interrupted while waiting to try again");
        }
    }
}

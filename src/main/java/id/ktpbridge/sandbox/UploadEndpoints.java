package id.ktpbridge.sandbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;

/** {@code GET /coe/v1/submissions/urls} (presign) and {@code PUT /coe/v1/submissions/urls} (confirm). */
final class UploadEndpoints {

    static final String[] SESSION_HEADERS = {"x-onekyc-token", "x-sdk-session-id", "x-partner-session-id"};

    /** Types the presign enum accepts; only KTP_SCAN is modelled in depth. */
    private static final Set<String> SUBMISSION_TYPES =
            Set.of("KTP_SCAN", "STANDALONE_LIVENESS", "FACE_MATCH", "FACE_VERIFICATION", "KYC_LITE");

    private final SandboxCore core;

    UploadEndpoints(SandboxCore core) {
        this.core = core;
    }

    JsonNode presign(HttpExchange ex, Endpoint.Call call) throws ApiError {
        for (String name : SESSION_HEADERS) {
            if (Exchanges.header(ex, name) == null) {
                throw new ApiError(400, 1539, "COE_PARTNER_CAN_NOT_BE_EMPTY");
            }
        }
        UserKey user = core.requireUser(Exchanges.header(ex, "x-onekyc-token"));
        String type = queryParam(ex.getRequestURI().getRawQuery(), "submissionType");
        if (type == null || !SUBMISSION_TYPES.contains(type)) {
            throw new ApiError(400, 1542, "INVALID_SUBMISSION_TYPE");
        }
        List<String> keys = "KTP_SCAN".equals(type) ? core.settings.getDocumentKeys() : List.of("SELFIE");
        Submission submission = core.settings.isPresignHandsOutFinished() ? core.submissions.otherFinished(null)
                : core.settings.isPresignReusesOpenSubmission() ? core.submissions.reuseInitiated(user) : null;
        if (submission == null || !submission.submissionType().equals(type)) {
            submission = new Submission(UUID.randomUUID().toString(), type, user,
                    Exchanges.header(ex, "x-partner-session-id"), Exchanges.header(ex, "x-sdk-session-id"), keys);
            core.submissions.add(submission);
        }
        call.submissionId = submission.id();
        keys = submission.documentKeys();

        long expiry = core.settings.getUrlExpirySeconds();
        ObjectNode data = SandboxCore.JSON.createObjectNode();
        data.put("submissionId", submission.id());
        data.put("status", submission.status().name());
        ObjectNode documents = data.putObject("documents");
        // a submission past INITIATED takes no more uploads: handed out again, it offers none
        for (String key : submission.status() == Submission.Status.INITIATED ? keys : List.<String>of()) {
            ObjectNode doc = documents.putObject(key);
            doc.put("documentUrl", uploadUrl(submission.objectKey(key), expiry));
            doc.put("documentReference", submission.documentReference(key));
            doc.put("expiryInSeconds", String.valueOf(expiry));
        }
        return data;
    }

    JsonNode confirm(HttpExchange ex, Endpoint.Call call) throws ApiError, IOException {
        for (String name : SESSION_HEADERS) {
            if (Exchanges.header(ex, name) == null) {
                throw ApiError.missingHeader(name);
            }
        }
        UserKey user = core.requireUser(Exchanges.header(ex, "x-onekyc-token"));
        String submissionId = readSubmissionId(ex);
        call.submissionId = submissionId;

        Submission submission = core.submissions.get(submissionId);
        if (submission == null) {
            throw new ApiError(404, 404, "SUBMISSION_DOES_NOT_EXIST");
        }
        submission.countConfirmAttempt();
        if (!submission.owner().equals(user)) {
            throw new ApiError(403, 110, "FORBIDDEN");
        }
        switch (submission.tryConfirm()) {
            case STATE_CONFLICT -> throw new ApiError(409, 409, "SUBMISSION_STATE_CONFLICT");
            case MISSING_UPLOAD -> throw new ApiError(422, 422, "INVALID_UPLOAD_ARTIFACT");
            case CONFIRMED -> core.processor.process(submission);
        }

        ObjectNode data = SandboxCore.JSON.createObjectNode();
        data.put("submissionId", submissionId);
        ObjectNode message = data.putObject("uiMessages").putObject("message_1");
        message.put("title", "Processing");
        message.put("message", "Your submission is being processed");
        return data;
    }

    /**
     * Presigned PUT URL; an injected "expired URL" fault signs it as if issued just over
     * {@code expiry} seconds ago (like a client holding a stale URL), so storage answers 403.
     */
    private String uploadUrl(String objectKey, long expiry) {
        Instant signedAt = Instant.now();
        if (core.faults.expireUrl()) {
            signedAt = signedAt.minusSeconds(expiry + 1);
        }
        return core.urls.presign(core.baseUrl(), "PUT", objectKey, expiry, signedAt);
    }

    /** Validates the confirm body; anything malformed is INVALID_CONFIRM_UPLOAD_REQUEST. */
    private static String readSubmissionId(HttpExchange ex) throws ApiError, IOException {
        ApiError invalid = new ApiError(400, 1542, "INVALID_CONFIRM_UPLOAD_REQUEST");
        String contentType = Exchanges.header(ex, "Content-Type");
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            throw invalid;
        }
        byte[] body = Exchanges.readBody(ex, Exchanges.MAX_JSON_BODY);
        if (body == null || body.length == 0) {
            throw invalid;
        }
        JsonNode json;
        try {
            json = SandboxCore.JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw invalid;
        }
        if (json == null || !json.isObject()) {
            throw invalid;
        }
        JsonNode id = json.get("submissionId");
        JsonNode metadata = json.get("metadata");
        if (id == null || !id.isTextual() || id.asText().isBlank()
                || (metadata != null && !metadata.isNull() && !metadata.isObject())) {
            throw invalid;
        }
        return id.asText().trim();
    }

    /** First value of a query parameter, decoded, or null. */
    static String queryParam(String rawQuery, String name) {
        if (rawQuery == null) {
            return null;
        }
        try {
            for (String part : rawQuery.split("&")) {
                int eq = part.indexOf('=');
                String key = eq < 0 ? part : part.substring(0, eq);
                if (URLDecoder.decode(key, StandardCharsets.UTF_8).equals(name)) {
                    return eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
                }
            }
        } catch (IllegalArgumentException malformedEscape) {
            return null; // treated like a missing parameter
        }
        return null;
    }
}

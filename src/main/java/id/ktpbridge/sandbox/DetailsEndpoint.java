package id.ktpbridge.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.time.Instant;

/**
 * {@code GET /coe/v1/submissions}: result and OCR details, looked up by header. Accepts a
 * partner token (as documented) or the owner's user token (as the KTP flow uses elsewhere).
 */
final class DetailsEndpoint {

    /** Download links in the reference examples live for 5 days. */
    private static final long IMAGE_URL_EXPIRY_SECONDS = 432_000L;

    private final SandboxCore core;

    DetailsEndpoint(SandboxCore core) {
        this.core = core;
    }

    JsonNode details(HttpExchange ex, Endpoint.Call call) throws ApiError {
        TokenIssuer.Grant grant = core.tokens.validate(Exchanges.header(ex, "x-onekyc-token"));
        if (grant == null) {
            throw new ApiError(401, 1539, "UNAUTHORIZED", null, true);
        }
        String submissionId = Exchanges.header(ex, "x-submission-id");
        String partnerSessionId = Exchanges.header(ex, "x-partner-session-id");
        if (submissionId == null && partnerSessionId == null) {
            throw new ApiError(400, 1550, "PARTNER_USER_ID_CAN_NOT_BE_EMPTY");
        }
        Submission submission;
        if (submissionId != null) {
            submission = core.submissions.get(submissionId);
            if (submission == null) {
                throw new ApiError(400, 1552, "SUBMISSION_DOES_NOT_EXIST");
            }
            if (partnerSessionId != null && !partnerSessionId.equals(submission.partnerSessionId())) {
                throw new ApiError(400, 1553, "PARTNER_SESSION_ID_DOES_NOT_BELONG_TO_THE_USER");
            }
        } else {
            submission = core.submissions.latestByPartnerSession(partnerSessionId, grant.user());
            if (submission == null) {
                throw new ApiError(400, 1552, "SUBMISSION_DOES_NOT_EXIST");
            }
        }
        call.submissionId = submission.id();
        if (!grant.isPartner() && !core.settings.isDetailsAcceptsUserToken()) {
            // the reading of the reference where only the partner token is taken here
            throw new ApiError(403, 903, "FORBIDDEN", null, true);
        }
        if (!grant.isPartner() && !submission.owner().equals(grant.user())) {
            throw new ApiError(403, 903, "FORBIDDEN", null, true);
        }
        if (core.settings.isDetailsMixedUp()) {
            Submission other = core.submissions.otherFinished(submission.id());
            if (other != null) {
                return render(other);
            }
        }
        return render(submission);
    }

    /** The submission record as the details call returns it in {@code data}. */
    JsonNode render(Submission submission) {
        Outcome outcome;
        Instant completedAt;
        synchronized (submission) {
            outcome = submission.outcome();
            completedAt = submission.completedAt();
        }
        ObjectNode data = SandboxCore.JSON.createObjectNode();
        if (outcome == null) {
            // INITIATED is not in this endpoint's enum; anything unfinished reads as IN_PROGRESS
            data.put("status", "IN_PROGRESS");
            data.put("submissionId", submission.id());
            data.put("partnerSessionId", submission.partnerSessionId());
            return data;
        }
        data.put("status", outcome.status());
        data.put("submissionId", submission.id());
        data.put("flow", submission.submissionType());
        data.put("partnerSessionId", submission.partnerSessionId());
        if (!core.settings.isDetailsWithoutVerdict()) {
            data.put("result", outcome.result());
            data.put("reasonCode", outcome.reasonCode());
        }
        data.put("processedAt", Timestamps.iso(completedAt));
        if (outcome != Outcome.ERROR) {
            ObjectNode details = data.putObject("submissionDetails");
            if (outcome == Outcome.VALID && "KTP_SCAN".equals(submission.submissionType())) {
                ObjectNode ktp = details.putObject("ktpData");
                SyntheticKtp.forUser(submission.owner().partnerUserId()).forEach(ktp::put);
            }
            ObjectNode images = details.putObject("imageUrls");
            for (String key : submission.documentKeys()) {
                images.put(key, core.urls.presign(core.baseUrl(), "GET", submission.objectKey(key),
                        IMAGE_URL_EXPIRY_SECONDS));
            }
        }
        return data;
    }
}

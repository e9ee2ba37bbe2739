package id.ktpbridge.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.util.Map;
import java.util.regex.Pattern;

/** {@code GET /coe/v1/submissions/{id}/status}: progress view without OCR data. */
final class StatusEndpoint {

    private static final Pattern UUID_FORMAT =
            Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private final SandboxCore core;

    StatusEndpoint(SandboxCore core) {
        this.core = core;
    }

    JsonNode status(HttpExchange ex, Endpoint.Call call) throws ApiError {
        for (String name : UploadEndpoints.SESSION_HEADERS) {
            if (Exchanges.header(ex, name) == null) {
                throw new ApiError(400, 1539, "COE_PARTNER_CAN_NOT_BE_EMPTY");
            }
        }
        UserKey user = core.requireUser(Exchanges.header(ex, "x-onekyc-token"));
        String id = call.pathParam;
        if (id == null || !UUID_FORMAT.matcher(id).matches()) {
            throw new ApiError(400, 1541, "INVALID_SUBMISSION_ID");
        }
        call.submissionId = id;
        Submission submission = core.submissions.get(id);
        if (submission == null) {
            throw new ApiError(404, 1543, "SUBMISSION_DOES_NOT_EXIST");
        }
        if (!submission.owner().equals(user)) {
            throw new ApiError(403, 110, "FORBIDDEN");
        }
        return render(submission);
    }

    private static JsonNode render(Submission submission) {
        // read the state once so the fields below are mutually consistent
        Submission.Status status;
        Outcome outcome;
        java.time.Instant completedAt;
        Map<String, String> docStatuses;
        synchronized (submission) {
            status = submission.status();
            outcome = submission.outcome();
            completedAt = submission.completedAt();
            docStatuses = submission.documentStatuses();
        }

        ObjectNode data = SandboxCore.JSON.createObjectNode();
        data.put("submissionId", submission.id());
        data.put("status", status.name());
        data.put("submissionType", submission.submissionType());
        data.put("createdAt", Timestamps.iso(submission.createdAt()));
        data.put("completedAt", Timestamps.iso(completedAt));
        if (outcome == null || outcome == Outcome.ERROR) {
            data.putNull("verificationResult");
        } else {
            ObjectNode verification = data.putObject("verificationResult");
            verification.put("isApproved", outcome == Outcome.VALID);
            verification.put("riskLevel", outcome == Outcome.VALID ? "LOW" : "HIGH");
            verification.put("confidence", "95");
        }
        data.put("errorMessage", outcome == Outcome.ERROR ? Outcome.ERROR_MESSAGE : null);
        ObjectNode documents = data.putObject("documents");
        docStatuses.forEach((key, docStatus) -> {
            ObjectNode doc = documents.putObject(key);
            doc.put("status", docStatus);
            doc.put("documentReference", "PENDING".equals(docStatus) ? null : submission.documentReference(key));
        });
        return data;
    }
}

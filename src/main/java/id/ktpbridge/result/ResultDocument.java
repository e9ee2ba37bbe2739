package id.ktpbridge.result;

import java.time.Instant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import id.ktpbridge.ledger.LedgerRecord;

/** Builds the one JSON document delivered per input; its fields are flat at the top level. */
public final class ResultDocument {

    private ResultDocument() {
    }

    /**
     * @param details the {@code data} of the details response (null when there is none)
     * @param errorMessage why a local outcome happened (REJECTED, FAILED, TIMED_OUT), else null
     */
    public static ObjectNode build(ObjectMapper json, LedgerRecord r, ResultStatus status, String result,
                                   String reasonCode, JsonNode details, String receivedVia, Long completedAt,
                                   String errorMessage) {
        ObjectNode doc = json.createObjectNode();
        // a submission never confirmed may later be another input's (see name): only a confirmed one
        // is this result's, so consumers keyed by submissionId never meet two inputs under one id
        boolean confirmed = r.submissionId() != null && r.submittedAt() != null;
        doc.put("submissionId", confirmed ? r.submissionId() : null);
        if (!confirmed && r.submissionId() != null) {
            doc.put("presignedSubmissionId", r.submissionId());
        }
        doc.put("partnerUserId", r.partnerUserId());
        doc.put("partnerUserIdType", r.partnerUserIdType());
        doc.put("partnerSessionId", r.partnerSessionId());
        doc.put("sourceType", r.sourceType());
        doc.put("sourceFile", r.sourceFile());
        // the full place (bucket and key, host and path): sub-folders may hold files of one name
        doc.put("sourceRef", r.sourceRef());
        doc.put("sourceSha256", r.sourceSha256());
        if (r.sourceSize() == null) {
            doc.putNull("sourceSize");
        } else {
            doc.put("sourceSize", r.sourceSize());
        }
        doc.put("status", status.name());
        doc.put("result", result);
        doc.put("reasonCode", reasonCode);
        JsonNode submissionDetails = details == null ? null : details.get("submissionDetails");
        doc.set("submissionDetails", submissionDetails == null ? json.nullNode() : submissionDetails);
        doc.put("receivedVia", receivedVia);
        doc.put("submittedAt", iso(r.submittedAt()));
        doc.put("completedAt", iso(completedAt));
        if (errorMessage != null) {
            doc.put("errorMessage", errorMessage);
        }
        doc.put("ledgerId", r.id());
        return doc;
    }

    /**
     * The name a result is stored under: the submission id once it was confirmed, else the ledger
     * id. A submission never confirmed may be handed to another input later ("new or existing
     * submission"), whose result must not replace this one.
     */
    public static String name(LedgerRecord r) {
        return r.submissionId() != null && r.submittedAt() != null ? r.submissionId() : "local-" + r.id();
    }

    /** Always with milliseconds ({@code Instant.toString} drops a zero fraction): the text sorts as the times do. */
    private static final java.time.format.DateTimeFormatter ISO_MILLIS =
            java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(java.time.ZoneOffset.UTC);

    static String iso(Long epochMillis) {
        return epochMillis == null ? null : ISO_MILLIS.format(Instant.ofEpochMilli(epochMillis));
    }
}

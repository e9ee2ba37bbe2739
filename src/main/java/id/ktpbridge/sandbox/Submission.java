package id.ktpbridge.sandbox;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * State of one sandbox submission. All mutators and readers are synchronized on the instance:
 * request threads (upload, confirm, status) and the processing scheduler touch it concurrently.
 */
final class Submission {

    enum Status { INITIATED, IN_PROGRESS, COMPLETED, ERROR }

    private static final class Document {
        boolean uploaded;
        long size;
        String sha256;
    }

    private final String id;
    private final String submissionType;
    private final UserKey owner;
    private final String partnerSessionId;
    private final String sdkSessionId;
    private final Instant createdAt = Instant.now();
    private final Map<String, Document> documents = new LinkedHashMap<>();

    private Status status = Status.INITIATED;
    private Outcome outcome;
    private Instant completedAt;
    private int confirmCount;
    private int confirmAttempts;

    Submission(String id, String submissionType, UserKey owner, String partnerSessionId,
               String sdkSessionId, List<String> documentKeys) {
        this.id = id;
        this.submissionType = submissionType;
        this.owner = owner;
        this.partnerSessionId = partnerSessionId;
        this.sdkSessionId = sdkSessionId;
        documentKeys.forEach(key -> documents.put(key, new Document()));
    }

    String id() { return id; }
    String submissionType() { return submissionType; }
    UserKey owner() { return owner; }
    String partnerSessionId() { return partnerSessionId; }
    String sdkSessionId() { return sdkSessionId; }
    Instant createdAt() { return createdAt; }

    String documentReference(String key) {
        return id + "_" + key;
    }

    /** Object key in the storage namespace, e.g. {@code KTP_SCAN/<uuid>_KTP_FRONT}. */
    String objectKey(String key) {
        return submissionType + "/" + documentReference(key);
    }

    synchronized List<String> documentKeys() {
        return List.copyOf(documents.keySet());
    }

    /** False when the key is not a document of this submission. */
    synchronized boolean recordUpload(String key, long size, String sha256) {
        Document doc = documents.get(key);
        if (doc == null) {
            return false;
        }
        doc.uploaded = true;
        doc.size = size;
        doc.sha256 = sha256;
        return true;
    }

    /** SHA-256 of each document's stored upload, by document key (uploaded documents only). */
    synchronized java.util.Map<String, String> uploadedSha256s() {
        java.util.Map<String, String> uploaded = new java.util.TreeMap<>();
        documents.forEach((key, doc) -> {
            if (doc.uploaded) {
                uploaded.put(key, doc.sha256);
            }
        });
        return uploaded;
    }

    synchronized void countConfirmAttempt() {
        confirmAttempts++;
    }

    /** Outcome of a confirm request against the current state. */
    enum ConfirmCheck { CONFIRMED, STATE_CONFLICT, MISSING_UPLOAD }

    /** Checks state and uploads and moves INITIATED → IN_PROGRESS in one atomic step. */
    synchronized ConfirmCheck tryConfirm() {
        if (status != Status.INITIATED) {
            return ConfirmCheck.STATE_CONFLICT;
        }
        // an empty object is stored by the storage but is no usable KTP image
        if (!documents.values().stream().allMatch(d -> d.uploaded && d.size > 0)) {
            return ConfirmCheck.MISSING_UPLOAD;
        }
        status = Status.IN_PROGRESS;
        confirmCount++;
        return ConfirmCheck.CONFIRMED;
    }

    synchronized void finish(Outcome result) {
        outcome = result;
        status = result == Outcome.ERROR ? Status.ERROR : Status.COMPLETED;
        completedAt = Instant.now();
    }

    synchronized Status status() { return status; }
    synchronized Outcome outcome() { return outcome; }
    synchronized Instant completedAt() { return completedAt; }
    synchronized int confirmCount() { return confirmCount; }
    synchronized int confirmAttempts() { return confirmAttempts; }

    /** Per-document status for the status API: PENDING/UPLOADED, then VERIFIED or INVALID once final. */
    synchronized Map<String, String> documentStatuses() {
        Map<String, String> out = new LinkedHashMap<>();
        documents.forEach((key, doc) -> {
            String s;
            if (!doc.uploaded) {
                s = "PENDING";
            } else if (outcome == null) {
                s = "UPLOADED";
            } else {
                s = outcome == Outcome.VALID ? "VERIFIED" : "INVALID";
            }
            out.put(key, s);
        });
        return out;
    }
}

package id.ktpbridge.gtf;

import java.util.Map;

/** A presigned submission: its id and one upload slot per document key, in the server's order. */
public record Presigned(String submissionId, String status, Map<String, DocumentSlot> documents) {

    /** Where one document goes. The URL is a secret (it carries a signature): never log it. */
    public record DocumentSlot(String documentUrl, String documentReference, long expiryInSeconds) {

        @Override
        public String toString() {
            return "DocumentSlot[reference=" + documentReference + ", expiryInSeconds=" + expiryInSeconds + "]";
        }
    }
}

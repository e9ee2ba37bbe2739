package id.ktpbridge.gtf;

import java.util.Map;

/**
 * A presigned submission: its id and one upload slot per document key, in the server's order.
 *
 * @param sessions the session ids it was presigned with, to keep with it: those the answered presign
 *                 sent (see {@link GtfClient#presign}), which are not those asked with when ids are one
 *                 per call or the presign had to be made once more under new ones; null when not known
 *                 (a submission taken from the ledger)
 */
public record Presigned(String submissionId, String status, Map<String, DocumentSlot> documents,
                        CallContext sessions) {

    /** One whose session ids are not known here. */
    public Presigned(String submissionId, String status, Map<String, DocumentSlot> documents) {
        this(submissionId, status, documents, null);
    }

    /** Where one document goes. The URL is a secret (it carries a signature): never log it. */
    public record DocumentSlot(String documentUrl, String documentReference, long expiryInSeconds) {

        @Override
        public String toString() {
            return "DocumentSlot[reference=" + documentReference + ", expiryInSeconds=" + expiryInSeconds + "]";
        }
    }
}

package id.ktpbridge.gtf;

import java.util.Map;

/**
 * A presigned submission: its id and one upload slot per document key, in the server's order.
 *
 * @param sessions the session ids it was presigned with, to keep with it: those asked with, unless
 *                 the presign had to be made once more under new ones (see {@link GtfClient#presign});
 *                 null when not known (a submission taken from the ledger)
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

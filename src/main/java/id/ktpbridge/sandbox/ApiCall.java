package id.ktpbridge.sandbox;

/**
 * One OneKYC API call as seen by the sandbox; lets tests check that a client keeps its
 * session ids constant for one submission.
 *
 * @param endpoint         logical endpoint name: token, partner-token, presign, confirm, status, details, unknown
 * @param httpStatus       status the sandbox answered with
 * @param partnerSessionId the x-partner-session-id header, or null
 * @param sdkSessionId     the x-sdk-session-id header, or null
 * @param submissionId     the submission the call concerned, when known, else null
 */
public record ApiCall(String endpoint, int httpStatus, String partnerSessionId,
                      String sdkSessionId, String submissionId) {
}

package id.ktpbridge.gtf;

/** Who a call is about: the token owner and the session ids kept for that one submission. */
public record CallContext(TokenKey tokenKey, String partnerSessionId, String sdkSessionId) {
}

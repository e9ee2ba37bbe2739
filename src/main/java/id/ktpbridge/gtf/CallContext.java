package id.ktpbridge.gtf;

import java.util.UUID;

/** Who a call is about: the token owner and the session ids kept for that one submission. */
public record CallContext(TokenKey tokenKey, String partnerSessionId, String sdkSessionId) {

    /** The same user with new session ids, for a new submission of the same input. */
    public CallContext withFreshSessions() {
        return new CallContext(tokenKey, UUID.randomUUID().toString(), UUID.randomUUID().toString());
    }
}

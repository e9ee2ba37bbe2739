package id.ktpbridge.gtf;

import java.util.UUID;

/** Who a call is about: the token owner and the session ids kept for that one submission. */
public record CallContext(TokenKey tokenKey, String partnerSessionId, String sdkSessionId) {

    /** The same user with new session ids, for a new submission of the same input. */
    public CallContext withFreshSessions() {
        return withSessions(UUID.randomUUID().toString(), UUID.randomUUID().toString());
    }

    /** The same user with the given session ids (this one when they are the same). */
    public CallContext withSessions(String partnerSession, String sdkSession) {
        return partnerSession.equals(partnerSessionId) && sdkSession.equals(sdkSessionId) ? this
                : new CallContext(tokenKey, partnerSession, sdkSession);
    }

    /** The session ids and the token owner without its partner user id, which may be a NIK. */
    @Override
    public String toString() {
        return "CallContext[" + tokenKey + ", partnerSessionId=" + partnerSessionId + ", sdkSessionId=" + sdkSessionId
                + "]";
    }
}

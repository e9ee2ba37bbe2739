package id.ktpbridge.gtf;

/**
 * Whom a token belongs to. User tokens are scoped to (onboarding partner, partner user id, user
 * id type); the partner token has no user.
 */
public record TokenKey(String onboardingPartner, String partnerUserId, String partnerUserIdType) {

    public static TokenKey partner(String onboardingPartner) {
        return new TokenKey(onboardingPartner, null, null);
    }

    public boolean isPartnerToken() {
        return partnerUserId == null;
    }

    /** Without the partner user id, which may be a NIK. */
    @Override
    public String toString() {
        return isPartnerToken() ? "TokenKey[partner, onboardingPartner=" + onboardingPartner + "]"
                : "TokenKey[user, onboardingPartner=" + onboardingPartner + ", partnerUserIdType=" + partnerUserIdType + "]";
    }
}

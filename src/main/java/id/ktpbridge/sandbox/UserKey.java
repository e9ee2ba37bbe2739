package id.ktpbridge.sandbox;

/** Identity a user token is bound to; a submission belongs to exactly one of these. */
record UserKey(String onboardingPartner, String partnerUserId, String partnerUserIdType) {

    /** Without the partner user id, which may be a NIK. */
    @Override
    public String toString() {
        return "UserKey[onboardingPartner=" + onboardingPartner + ", partnerUserIdType=" + partnerUserIdType + "]";
    }
}

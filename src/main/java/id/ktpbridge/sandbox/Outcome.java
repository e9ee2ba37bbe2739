package id.ktpbridge.sandbox;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Final result of a processed submission. Chosen deterministically from the partner user id
 * so demos and tests can steer a scenario just by naming the user.
 */
enum Outcome {
    VALID("COMPLETED", "VALID", ""),
    NOT_EKTP("COMPLETED", "INVALID", "NOT_EKTP"),
    ERROR("ERROR", null, "VERIFICATION_FAILED");

    static final String ERROR_MESSAGE = "KTP image could not be processed";

    private final String status;
    private final String result;
    private final String reasonCode;

    Outcome(String status, String result, String reasonCode) {
        this.status = status;
        this.result = result;
        this.reasonCode = reasonCode;
    }

    String status() { return status; }

    /** VALID / INVALID, null for ERROR. */
    String result() { return result; }

    /** "" when valid (as in the details API). */
    String reasonCode() { return reasonCode; }

    /** Error pattern wins over the not-e-KTP pattern; anything else is valid. */
    static Outcome forUser(String partnerUserId, SandboxSettings settings) {
        if (matches(settings.getErrorUserPattern(), partnerUserId)) {
            return ERROR;
        }
        if (matches(settings.getNotEktpUserPattern(), partnerUserId)) {
            return NOT_EKTP;
        }
        return VALID;
    }

    private static boolean matches(String regex, String value) {
        if (regex == null || regex.isEmpty() || value == null) {
            return false;
        }
        try {
            return Pattern.compile(regex).matcher(value).matches();
        } catch (PatternSyntaxException e) {
            return false; // a broken pattern simply never selects its scenario
        }
    }
}

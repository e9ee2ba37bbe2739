package id.ktpbridge.sandbox;

import java.util.List;
import java.util.Objects;

/**
 * Live, mutable knobs of the embedded GTF sandbox. Fields are volatile because tests flip
 * them on a running sandbox (e.g. disable callbacks) while server threads read them.
 * Plain JavaBean setters so the settings can be bound from configuration properties.
 */
public class SandboxSettings {

    private volatile String host = "127.0.0.1";
    private volatile int port = 0;
    /** Base URL put into presigned URLs; null = derived from host/port (set it when behind NAT/Docker). */
    private volatile String publicBaseUrl;

    private volatile String clientId = "sandbox-client";
    private volatile String passKey = "sandbox-pass-key";
    private volatile String onboardingPartner = "KTPBRIDGE-BE-KTP_SCAN";

    private volatile long tokenTtlSeconds = 5_184_000L;
    private volatile long partnerTokenTtlSeconds = 3_600L;
    private volatile long urlExpirySeconds = 600L;
    private volatile List<String> documentKeys = List.of("KTP_FRONT");
    private volatile long processingDelayMillis = 1_500L;

    private volatile boolean callbackEnabled = true;
    private volatile String callbackUrl;
    private volatile String callbackAuthorization;
    private volatile int callbackDuplicates = 1;
    private volatile int callbackMaxAttempts = 5;

    private volatile String errorUserPattern = "(?i).*error.*";
    private volatile String notEktpUserPattern = "(?i).*notektp.*";

    private volatile boolean numericErrorCodes = false;
    private volatile long maxUploadBytes = 15L * 1024 * 1024;

    public String getHost() { return host; }
    public void setHost(String host) { this.host = Objects.requireNonNull(host, "host"); }

    public int getPort() { return port; }
    public void setPort(int port) { this.port = port; }

    public String getPublicBaseUrl() { return publicBaseUrl; }
    public void setPublicBaseUrl(String publicBaseUrl) { this.publicBaseUrl = publicBaseUrl; }

    public String getClientId() { return clientId; }
    public void setClientId(String clientId) { this.clientId = clientId; }

    public String getPassKey() { return passKey; }
    public void setPassKey(String passKey) { this.passKey = passKey; }

    public String getOnboardingPartner() { return onboardingPartner; }
    public void setOnboardingPartner(String onboardingPartner) { this.onboardingPartner = onboardingPartner; }

    public long getTokenTtlSeconds() { return tokenTtlSeconds; }
    public void setTokenTtlSeconds(long tokenTtlSeconds) { this.tokenTtlSeconds = tokenTtlSeconds; }

    public long getPartnerTokenTtlSeconds() { return partnerTokenTtlSeconds; }
    public void setPartnerTokenTtlSeconds(long partnerTokenTtlSeconds) { this.partnerTokenTtlSeconds = partnerTokenTtlSeconds; }

    public long getUrlExpirySeconds() { return urlExpirySeconds; }
    public void setUrlExpirySeconds(long urlExpirySeconds) { this.urlExpirySeconds = urlExpirySeconds; }

    public List<String> getDocumentKeys() { return documentKeys; }
    public void setDocumentKeys(List<String> documentKeys) {
        if (documentKeys == null || documentKeys.isEmpty()) {
            throw new IllegalArgumentException("documentKeys must not be empty");
        }
        this.documentKeys = List.copyOf(documentKeys);
    }

    public long getProcessingDelayMillis() { return processingDelayMillis; }
    public void setProcessingDelayMillis(long processingDelayMillis) { this.processingDelayMillis = processingDelayMillis; }

    public boolean isCallbackEnabled() { return callbackEnabled; }
    public void setCallbackEnabled(boolean callbackEnabled) { this.callbackEnabled = callbackEnabled; }

    public String getCallbackUrl() { return callbackUrl; }
    public void setCallbackUrl(String callbackUrl) { this.callbackUrl = callbackUrl; }

    public String getCallbackAuthorization() { return callbackAuthorization; }
    public void setCallbackAuthorization(String callbackAuthorization) { this.callbackAuthorization = callbackAuthorization; }

    public int getCallbackDuplicates() { return callbackDuplicates; }
    public void setCallbackDuplicates(int callbackDuplicates) { this.callbackDuplicates = Math.max(1, callbackDuplicates); }

    public int getCallbackMaxAttempts() { return callbackMaxAttempts; }
    public void setCallbackMaxAttempts(int callbackMaxAttempts) { this.callbackMaxAttempts = Math.max(1, callbackMaxAttempts); }

    public String getErrorUserPattern() { return errorUserPattern; }
    public void setErrorUserPattern(String errorUserPattern) { this.errorUserPattern = errorUserPattern; }

    public String getNotEktpUserPattern() { return notEktpUserPattern; }
    public void setNotEktpUserPattern(String notEktpUserPattern) { this.notEktpUserPattern = notEktpUserPattern; }

    public boolean isNumericErrorCodes() { return numericErrorCodes; }
    public void setNumericErrorCodes(boolean numericErrorCodes) { this.numericErrorCodes = numericErrorCodes; }

    public long getMaxUploadBytes() { return maxUploadBytes; }
    public void setMaxUploadBytes(long maxUploadBytes) { this.maxUploadBytes = maxUploadBytes; }
}

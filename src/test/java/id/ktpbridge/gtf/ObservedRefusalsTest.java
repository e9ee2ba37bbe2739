package id.ktpbridge.gtf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

import id.ktpbridge.sandbox.ApiCall;
import id.ktpbridge.sandbox.GtfSandbox;
import id.ktpbridge.sandbox.SandboxSettings;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Refusals of the partner-token and status endpoints reach the call observer (the metrics' {@code
 * ktp_onekyc_calls_seconds}) once per attempt, under their status, as the sandbox's fault injection
 * made them: ObservabilityTest's run of the bundle meets neither endpoint refusing.
 */
class ObservedRefusalsTest {

    private static final String PARTNER = "KTPBRIDGE-BE-KTP_SCAN";

    private GtfSandbox sandbox;
    private GtfClient client;
    /** Each observed call, as "endpoint status", in order. */
    private final List<String> observed = new java.util.concurrent.CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        SandboxSettings settings = new SandboxSettings();
        settings.setOnboardingPartner(PARTNER);
        settings.setCallbackEnabled(false);
        settings.setProcessingDelayMillis(100);
        sandbox = new GtfSandbox(settings).start();
        GtfSettings s = GtfClientTest.settings(sandbox.baseUrl(), Duration.ofMinutes(5), false);
        // details with the partner token, so the partner-token endpoint is called
        GtfSettings partnerDetails = new GtfSettings(s.tokenUrl(), s.apiUrl(), s.clientId(), s.passKey(),
                s.onboardingPartner(), s.userTokenPath(), s.partnerTokenPath(), s.presignPath(), s.confirmPath(),
                s.statusPath(), s.detailsPath(), s.submissionType(), s.primaryDocumentKey(), "partner",
                s.connectTimeout(), s.readTimeout(), s.uploadTimeout(), s.tokenRefreshSkew(), s.tokenCacheMaxEntries(),
                s.retryMaxAttempts(), s.retryInitialDelay(), s.retryMaxDelay(), false, false);
        client = GtfClientTest.client(partnerDetails);
        client.http().observer((endpoint, status, nanos) -> observed.add(endpoint + " " + status));
    }

    @AfterEach
    void stop() {
        sandbox.stop();
    }

    @Test
    void refusalsOfThePartnerTokenAndStatusEndpointsAreObservedUnderTheirStatusOncePerAttempt() throws Exception {
        CallContext ctx = new CallContext(new TokenKey(PARTNER, "obs-1", "PARTNER_USER_ID"),
                UUID.randomUUID().toString(), UUID.randomUUID().toString());
        Presigned p = client.presign(ctx);
        client.upload(p.documents().get("KTP_FRONT"), SampleImages.card("obs-1", "png"), "image/png", 0);
        client.confirm(ctx, p.submissionId(), null);
        SandboxSettings faults = sandbox.settings();

        // status refused: a 503 on each of its 3 attempts, then a 400 (INVALID_SUBMISSION_ID), not retried
        faults.setFailureStatuses(List.of(503));
        faults.setFailureRate("status", 1.0);
        assertEquals(503, assertThrows(GtfApiException.class, () -> client.status(ctx, p.submissionId())).httpStatus());
        faults.setFailureStatuses(List.of(400));
        assertEquals(400, assertThrows(GtfApiException.class, () -> client.status(ctx, p.submissionId())).httpStatus());
        faults.setFailureRate("status", 0.0);
        client.status(ctx, p.submissionId());

        // the partner token refused alike, for the details call that needs it: that call is never sent
        faults.setFailureStatuses(List.of(503));
        faults.setFailureRate("partner-token", 1.0);
        GtfApiException unavailable = assertThrows(GtfApiException.class, () -> client.details(ctx, p.submissionId()));
        assertEquals("partner-token", unavailable.endpoint());
        assertEquals(503, unavailable.httpStatus());
        faults.setFailureStatuses(List.of(400));
        assertEquals(400, assertThrows(GtfApiException.class, () -> client.details(ctx, p.submissionId())).httpStatus());
        faults.setFailureRate("partner-token", 0.0);
        client.details(ctx, p.submissionId());

        Map<String, Long> expected = new TreeMap<>(Map.of("user-token 200", 1L, "presign 200", 1L, "upload 200", 1L,
                "confirm 200", 1L, "status 503", 3L, "status 400", 1L, "status 200", 1L, "partner-token 503", 3L,
                "partner-token 400", 1L, "partner-token 200", 1L));
        expected.put("details 200", 1L);
        assertEquals(expected, counts(observed));
        // and as the sandbox saw them: each call it answered, observed once under the status it answered
        Map<String, Long> answered = new TreeMap<>();
        for (ApiCall c : sandbox.requestLog()) {
            answered.merge((c.endpoint().equals("token") ? "user-token" : c.endpoint()) + " " + c.httpStatus(), 1L,
                    Long::sum);
        }
        sandbox.storageRequests().stream().filter(r -> r.method().equals("PUT"))
                .forEach(r -> answered.merge("upload " + r.httpStatus(), 1L, Long::sum));
        assertEquals(answered, counts(observed));
        assertEquals(4, sandbox.injectedFailures("status"));
        assertEquals(4, sandbox.injectedFailures("partner-token"));
    }

    private static Map<String, Long> counts(List<String> calls) {
        Map<String, Long> counts = new TreeMap<>();
        calls.forEach(c -> counts.merge(c, 1L, Long::sum));
        return counts;
    }
}

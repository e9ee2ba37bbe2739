package id.ktpbridge.sandbox;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.function.Supplier;

/** Services shared by the endpoint handlers of one sandbox instance. */
final class SandboxCore {

    static final ObjectMapper JSON = new ObjectMapper();

    final SandboxSettings settings;
    final TokenIssuer tokens = new TokenIssuer();
    final SubmissionStore submissions = new SubmissionStore();
    final PresignedUrls urls = new PresignedUrls();
    final SubmissionProcessor processor;
    final FaultInjector faults;
    private final Supplier<String> baseUrl;

    SandboxCore(SandboxSettings settings, SubmissionProcessor processor, FaultInjector faults,
                Supplier<String> baseUrl) {
        this.settings = settings;
        this.processor = processor;
        this.faults = faults;
        this.baseUrl = baseUrl;
    }

    /** Base URL that clients use to reach this sandbox (also used inside presigned URLs). */
    String baseUrl() {
        return baseUrl.get();
    }

    /** The user behind a user token; partner tokens and bad tokens → 401 "110". */
    UserKey requireUser(String token) throws ApiError {
        TokenIssuer.Grant grant = tokens.validate(token);
        if (grant == null || grant.isPartner()) {
            throw new ApiError(401, 110, "UNAUTHORIZED");
        }
        return grant.user();
    }
}

package id.ktpbridge.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;

/** Token gateway: {@code GET /v2/coe/authentication} (user) and {@code GET /v1/coe/partner/authentication}. */
final class TokenEndpoints {

    private static final String[] USER_HEADERS = {"x-onboarding-partner", "x-partner-user-id", "x-partner-user-id-type"};

    private final SandboxCore core;

    TokenEndpoints(SandboxCore core) {
        this.core = core;
    }

    JsonNode userToken(HttpExchange ex, Endpoint.Call call) throws ApiError {
        String clientId = Exchanges.header(ex, "client-id");
        String passKey = Exchanges.header(ex, "pass-key");
        if (clientId == null || passKey == null) {
            throw tokenError(400, 1539, "MISSING_CLIENT_ID_OR_PASS_KEY");
        }
        for (String name : USER_HEADERS) {
            if (Exchanges.header(ex, name) == null) {
                throw tokenError(400, 1539, ApiError.upperSnake(name) + "_CAN_NOT_BE_EMPTY");
            }
        }
        String partner = Exchanges.header(ex, "x-onboarding-partner");
        if (!credentialsMatch(clientId, passKey) || !partner.equals(core.settings.getOnboardingPartner())) {
            throw unauthorized();
        }
        UserKey user = new UserKey(partner, Exchanges.header(ex, "x-partner-user-id"),
                Exchanges.header(ex, "x-partner-user-id-type"));
        return body(core.tokens.mintUserToken(user, core.settings.getTokenTtlSeconds()));
    }

    JsonNode partnerToken(HttpExchange ex, Endpoint.Call call) throws ApiError {
        String clientId = Exchanges.header(ex, "client-id");
        String passKey = Exchanges.header(ex, "pass-key");
        if (clientId == null) {
            throw tokenError(400, 1539, "CLIENT_ID_CAN_NOT_BE_EMPTY");
        }
        if (passKey == null) {
            throw tokenError(400, 1539, "PASS_KEY_CAN_NOT_BE_EMPTY");
        }
        if (!credentialsMatch(clientId, passKey)) {
            throw unauthorized();
        }
        return body(core.tokens.mintPartnerToken(core.settings.getPartnerTokenTtlSeconds()));
    }

    private boolean credentialsMatch(String clientId, String passKey) {
        return clientId.equals(core.settings.getClientId()) && passKey.equals(core.settings.getPassKey());
    }

    private static JsonNode body(TokenIssuer.Minted minted) {
        ObjectNode data = SandboxCore.JSON.createObjectNode();
        data.put("token", minted.token());
        // numbers as strings, as the real gateway does
        data.put("expiry_seconds", String.valueOf(minted.ttlSeconds()));
        data.put("expires_at", String.valueOf(minted.expiresAtEpochSecond()));
        return data;
    }

    private static ApiError tokenError(int status, int code, String cause) {
        return new ApiError(status, code, cause, ApiError.TOKEN_SERVICE, false);
    }

    private static ApiError unauthorized() {
        return new ApiError(401, 110, "UNAUTHORIZED", ApiError.TOKEN_SERVICE, true);
    }
}

package id.ktpbridge.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Single HttpServer handler: dispatches storage requests, matches API routes, wraps results
 * in the OneKYC envelope, maps failures to 404/405/500 and keeps the request log. Also the
 * place where API faults are applied (latency, refused calls, token revocation, lost
 * responses), so endpoint code stays free of them.
 */
final class ApiRouter implements HttpHandler {

    private static final Logger LOG = LoggerFactory.getLogger(ApiRouter.class);

    /**
     * @param integerCodes the reference shows integer {@code errors[].code} for this endpoint
     * @param genericCause cause used for an unexpected 500 on this endpoint
     */
    private record Route(String name, String method, Pattern path, boolean integerCodes,
                         String genericCause, Endpoint endpoint) { }

    private final SandboxCore core;
    private final SandboxSettings settings;
    private final StorageEndpoint storage;
    private final List<Route> routes = new ArrayList<>();
    private final Queue<ApiCall> log = new ConcurrentLinkedQueue<>();

    ApiRouter(SandboxCore core, StorageEndpoint storage) {
        this.core = core;
        this.settings = core.settings;
        this.storage = storage;
    }

    /** Registers a route; {@code path} may contain one capture group, passed on as the path parameter. */
    ApiRouter route(String name, String method, String path, boolean integerCodes, String genericCause,
                    Endpoint endpoint) {
        routes.add(new Route(name, method, Pattern.compile(path), integerCodes, genericCause, endpoint));
        return this;
    }

    List<ApiCall> requestLog() {
        return List.copyOf(log);
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        try {
            delay();
            String path = ex.getRequestURI().getPath();
            if (path.startsWith(StorageEndpoint.PREFIX)) {
                storage.handle(ex);
            } else {
                dispatch(ex, path);
            }
        } catch (IOException | RuntimeException e) {
            // the client most likely went away mid-response; nothing sensible left to send
            LOG.debug("Sandbox request failed while responding: {}", e.toString());
        } finally {
            ex.close();
        }
    }

    private void dispatch(HttpExchange ex, String path) throws IOException {
        Route route = null;
        Matcher matcher = null;
        boolean pathKnown = false;
        for (Route r : routes) {
            Matcher m = r.path().matcher(path);
            if (m.matches()) {
                pathKnown = true;
                if (r.method().equalsIgnoreCase(ex.getRequestMethod())) {
                    route = r;
                    matcher = m;
                    break;
                }
            }
        }
        if (route == null) {
            int status = pathKnown ? 405 : 404;
            ApiError error = pathKnown
                    ? new ApiError(405, 405, "METHOD_NOT_ALLOWED")
                    : new ApiError(404, 404, "NOT_FOUND");
            respond(ex, new Endpoint.Call(null), "unknown", error, false);
            LOG.debug("Sandbox {} {} -> {}", ex.getRequestMethod(), path, status);
            return;
        }

        Endpoint.Call call = new Endpoint.Call(matcher.groupCount() > 0 ? matcher.group(1) : null);
        // refused before anything is read or changed, like an overloaded gateway in front of the service
        int injected = core.faults.failureFor(route.name());
        if (injected != 0) {
            if (injected == 429) {
                ex.getResponseHeaders().set("Retry-After", String.valueOf(settings.getRetryAfterSeconds()));
            }
            LOG.debug("Sandbox {} refused with injected {}", route.name(), injected);
            respond(ex, call, route.name(), injectedError(route, injected), route.integerCodes());
            return;
        }
        revokePresentedToken(ex, route.name());
        JsonNode data;
        try {
            data = route.endpoint().handle(ex, call);
        } catch (ApiError error) {
            respond(ex, call, route.name(), error, route.integerCodes());
            return;
        } catch (RuntimeException e) {
            LOG.warn("Sandbox endpoint {} failed unexpectedly", route.name(), e);
            respond(ex, call, route.name(), new ApiError(500, 900, route.genericCause()), route.integerCodes());
            return;
        }
        if (core.faults.loseResponse(route.name())) {
            // the call took effect, only the answer is lost: the client's retry meets the new state
            LOG.debug("Sandbox {} applied, response replaced by injected 500", route.name());
            respond(ex, call, route.name(), new ApiError(500, 900, route.genericCause()), route.integerCodes());
            return;
        }
        ObjectNode body = SandboxCore.JSON.createObjectNode();
        body.put("success", true);
        body.set("data", data);
        record(ex, call, route.name(), 200);
        Exchanges.send(ex, 200, "application/json", body.toString());
    }

    private void respond(HttpExchange ex, Endpoint.Call call, String endpoint, ApiError error,
                         boolean integerCodes) throws IOException {
        ObjectNode body = SandboxCore.JSON.createObjectNode();
        body.put("success", false);
        ObjectNode entry = body.putArray("errors").addObject();
        if (settings.isNumericErrorCodes() || integerCodes) {
            entry.put("code", error.code());
        } else {
            entry.put("code", String.valueOf(error.code()));
        }
        if (error.entity() != null) {
            entry.put("entity", error.entity());
        }
        entry.put("cause", error.errorCause());
        if (error.nullData()) {
            body.putNull("data");
        }
        record(ex, call, endpoint, error.httpStatus());
        LOG.debug("Sandbox {} -> {} {}", endpoint, error.httpStatus(), error.errorCause());
        Exchanges.send(ex, error.httpStatus(), "application/json", body.toString());
    }

    /** Injected refusal in the endpoint's documented shape (500 uses the endpoint's own cause). */
    private static ApiError injectedError(Route route, int status) {
        return switch (status) {
            case 503 -> new ApiError(503, 903, "SERVICE_UNAVAILABLE");
            case 429 -> new ApiError(429, 429,
                    "presign".equals(route.name()) ? "SUBMISSION_QUOTA_EXCEEDED" : "TOO_MANY_REQUESTS");
            // a refusal a client does not retry, as the endpoint documents one
            case 400 -> switch (route.name()) {
                case "status" -> new ApiError(400, 1541, "INVALID_SUBMISSION_ID");
                case "details" -> new ApiError(400, 1550, "PARTNER_USER_ID_CAN_NOT_BE_EMPTY");
                case "presign" -> new ApiError(400, 1542, "INVALID_SUBMISSION_TYPE");
                case "confirm" -> new ApiError(400, 1542, "INVALID_CONFIRM_UPLOAD_REQUEST");
                default -> new ApiError(400, 1539, "MISSING_CLIENT_ID_OR_PASS_KEY");
            };
            default -> new ApiError(500, 900, route.genericCause());
        };
    }

    /** Token revocation fault: the endpoint's own token check then answers 401, now and later. */
    private void revokePresentedToken(HttpExchange ex, String endpoint) {
        String token = Exchanges.header(ex, "x-onekyc-token");
        if (token != null && core.faults.revokeToken() && core.tokens.revoke(token)) {
            core.faults.tokenRevoked();
            LOG.debug("Sandbox {}: presented token revoked by fault injection", endpoint);
        }
    }

    /** Latency fault, applied to every request (API and storage) before it is handled. */
    private void delay() {
        long millis = core.faults.latencyMillis();
        if (millis > 0) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // sandbox stopping; answer without the rest of the delay
            }
        }
    }

    private void record(HttpExchange ex, Endpoint.Call call, String endpoint, int status) {
        log.add(new ApiCall(endpoint, status, Exchanges.header(ex, "x-partner-session-id"),
                Exchanges.header(ex, "x-sdk-session-id"), call.submissionId));
    }
}

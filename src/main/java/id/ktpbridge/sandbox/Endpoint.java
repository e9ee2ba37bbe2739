package id.ktpbridge.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;

/** One OneKYC JSON endpoint: returns the {@code data} of a success envelope or throws {@link ApiError}. */
@FunctionalInterface
interface Endpoint {

    /** Per-call scratch data the router records in the request log. */
    final class Call {
        final String pathParam;
        String submissionId;

        Call(String pathParam) {
            this.pathParam = pathParam;
        }
    }

    JsonNode handle(HttpExchange exchange, Call call) throws ApiError, IOException;
}

package id.ktpbridge.collect;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import id.ktpbridge.ThrottledWarning;

import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP server listens before the callback route takes requests and goes on listening while the
 * route stops. A callback arriving then would get 404, which a sender may take as "wrong URL" and
 * give up on; it gets 503 with {@code Retry-After} instead, so OneKYC sends it again. Installed as
 * the path's last handler: while the route runs, the route answers. It is installed when the
 * context is about to start its routes. Camel Main starts the server a moment earlier, and no
 * earlier hook was found that sees its router, so that first moment still answers 404. The refusals
 * the server makes before the route (a method not taken, a body too large) are logged here.
 */
public final class CallbackNotReady {

    private static final Logger LOG = LoggerFactory.getLogger(CallbackNotReady.class);
    static final String RETRY_AFTER_SECONDS = "5";
    /** The methods a callback may come with (reference 9, [ESIGN]). */
    private static final List<String> CALLBACK_METHODS = List.of("POST", "PUT", "PATCH");
    private static final String BODY = "{\"error\":\"NOT_READY\",\"message\":\"the callback endpoint is starting or"
            + " stopping; send the callback again\"}";

    private CallbackNotReady() {
    }

    /**
     * @param methods the callback's methods ({@code ktp.callback.methods}): other methods keep their 405
     * @return whether the handler was installed (there is a main HTTP server)
     */
    public static boolean install(CamelContext context, String path, String methods) {
        VertxPlatformHttpRouter router = context.getRegistry().findByType(VertxPlatformHttpRouter.class).stream()
                .filter(VertxPlatformHttpRouter::isMainServer).findFirst().orElse(null);
        if (router == null) {
            LOG.debug("No main HTTP server: no not-ready answer for {}", path);
            return false;
        }
        List<String> taken = Arrays.stream(methods.split(",")).map(String::trim).filter(m -> !m.isEmpty())
                .map(m -> m.toUpperCase(Locale.ROOT)).toList();
        Route route = router.route(path).last();
        taken.forEach(m -> route.method(HttpMethod.valueOf(m)));
        route.handler(rc -> rc.response().setStatusCode(503)
                .putHeader("Retry-After", RETRY_AFTER_SECONDS)
                .putHeader("Content-Type", "application/json")
                .end(BODY));
        refuseOtherCallbackMethods(router, path, taken);
        logOversizedBodies(router, path);
        return true;
    }

    /**
     * A body over {@code camel.server.max-body-size} (set from {@code ktp.callback.max-body-size})
     * is refused with 413 by the server's body handler before the route sees it: the log says so,
     * at most once a minute, as for the route's own refusals. The answer stays the server's.
     */
    private static void logOversizedBodies(VertxPlatformHttpRouter router, String path) {
        ThrottledWarning warning = new ThrottledWarning(LOG, "Callback refused with 413: its body is larger than"
                + " camel.server.max-body-size (ktp.callback.max-body-size)", 60_000);
        router.route(path).failureHandler(rc -> {
            if (rc.statusCode() == 413) {
                warning.warn();
            }
            rc.next();
        });
    }

    /**
     * A callback sent with a method the route does not take (OneKYC's callback method is set at
     * onboarding: POST, PUT or PATCH) gets 405 as before, and the log says so: otherwise every
     * callback would be refused without a trace, and results would come only from polling.
     */
    private static void refuseOtherCallbackMethods(VertxPlatformHttpRouter router, String path, List<String> taken) {
        List<String> others = CALLBACK_METHODS.stream().filter(m -> !taken.contains(m)).toList();
        if (others.isEmpty()) {
            return;
        }
        String allow = String.join(", ", taken);
        ThrottledWarning warning = new ThrottledWarning(LOG, "A callback came with method {}, which"
                + " ktp.callback.methods ({}) does not name: answered 405. If OneKYC sends its callbacks so, add"
                + " the method to ktp.callback.methods", 60_000);
        Route route = router.route(path);
        others.forEach(m -> route.method(HttpMethod.valueOf(m)));
        route.handler(rc -> {
            warning.warn(rc.request().method().name(), allow);
            rc.response().setStatusCode(405).putHeader("Allow", allow).end();
        });
    }
}

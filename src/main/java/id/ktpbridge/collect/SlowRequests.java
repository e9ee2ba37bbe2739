package id.ktpbridge.collect;

import java.time.Duration;

import id.ktpbridge.ThrottledWarning;

import io.vertx.core.http.HttpServerRequest;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ktp.callback.request-timeout}: the callback port's HTTP server has no timeout of its own
 * (Camel Main gives no way to set its idle timeout), so a client that sends a request's headers
 * and then nothing, or its body a byte at a time, held its connection for ever, and on the
 * callback path a body buffer of up to {@code ktp.callback.max-body-size} with it. A request whose
 * body has not all come within the timeout of its headers has its connection closed (on HTTP/2, its
 * stream reset), on any path.
 * Installed on the main server's router, first of its handlers, once the context is about to
 * start its routes (as {@link CallbackNotReady}); a connection that has not sent its headers yet,
 * or sends nothing between requests, is not timed.
 */
public final class SlowRequests {

    private static final Logger LOG = LoggerFactory.getLogger(SlowRequests.class);
    /** Before the routes the server and Camel add, whose orders count up from 0. */
    private static final int FIRST = -1_000;
    /** Marks a request whose connection was closed here. */
    private static final String CLOSED_HERE = "ktp.closedAsSlow";

    private SlowRequests() {
    }

    /** @return whether the timeout was installed (there is a main HTTP server, and the timeout is not 0) */
    public static boolean install(CamelContext context, Duration timeout) {
        VertxPlatformHttpRouter router = context.getRegistry().findByType(VertxPlatformHttpRouter.class).stream()
                .filter(VertxPlatformHttpRouter::isMainServer).findFirst().orElse(null);
        if (router == null || timeout.isZero()) {
            return false;
        }
        long millis = Math.max(1, timeout.toMillis());
        // anyone who can reach the port can cause this: one line a minute; nothing of the request
        ThrottledWarning closed = new ThrottledWarning(LOG, "A request to the callback port did not send its whole"
                + " body within ktp.callback.request-timeout ({} ms) of its headers: its connection was closed", 60_000);
        router.route().order(FIRST).handler(rc -> {
            HttpServerRequest request = rc.request();
            if (!request.isEnded()) {
                long timer = rc.vertx().setTimer(millis, id -> {
                    if (!request.isEnded()) {
                        closed.warn(millis);
                        rc.put(CLOSED_HERE, Boolean.TRUE);
                        if (request.version() == io.vertx.core.http.HttpVersion.HTTP_2) {
                            // its stream only: other requests share the connection (a proxy's h2c)
                            request.response().reset();
                        } else {
                            request.connection().close();
                        }
                    }
                });
                // end() is a future of its own: the body handler's end handler stays in place
                request.end().onComplete(done -> rc.vertx().cancelTimer(timer));
            }
            rc.next();
        }).failureHandler(rc -> {
            // the body handler fails the request it was reading: logged above, not again as an
            // ERROR with a stack trace for each such request
            if (rc.get(CLOSED_HERE) == null) {
                rc.next();
            }
        });
        return true;
    }
}

package id.ktpbridge.target;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.apache.camel.component.http.HttpClientConfigurer;
import org.apache.hc.client5.http.classic.ExecChain;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.core5.concurrent.Cancellable;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpException;

/**
 * Bounds every exchange of the HTTP target's client in time and in size. The client's timeouts
 * bound each wait for the next byte, not their sum: a receiver answering a byte at a time would
 * hold an attempt past its delivery lease, and the retry schedule would send the result again
 * meanwhile. So the whole exchange, from taking a connection to the end of the answer, is cut off
 * at a deadline and fails like a timeout. And Camel reads a whole answer into memory (an error's
 * into its exception), so only its first {@link #MAX_RESPONSE_BYTES} are let through: the status
 * decides, and that much holds an error message.
 */
public final class HttpTargetLimits implements HttpClientConfigurer {

    /** Enough for the start of an error message (the outbox keeps 500 characters of it). */
    public static final int MAX_RESPONSE_BYTES = 8 * 1024;
    /** One daemon thread for the deadlines of every exchange; a deadline leaves its queue once its exchange ends. */
    private static final ScheduledExecutorService TIMER = timer();

    private final long deadlineMillis;

    public HttpTargetLimits(Duration deadline) {
        this.deadlineMillis = deadline.toMillis();
    }

    @Override
    public void configureHttpClient(HttpClientBuilder builder) {
        // first: outside the client's own steps, so its deadline covers them all and its cap
        // applies to the answer as decompressed
        builder.addExecInterceptorFirst("ktp-exchange-limits", this::execute);
    }

    private ClassicHttpResponse execute(ClassicHttpRequest request, ExecChain.Scope scope, ExecChain chain)
            throws IOException, HttpException {
        Deadline deadline = Deadline.start(scope, deadlineMillis);
        ClassicHttpResponse response;
        try {
            response = chain.proceed(request, scope);
        } catch (IOException e) {
            deadline.end();
            throw deadline.passed() ? deadline.exceeded() : e;
        } catch (HttpException | RuntimeException e) {
            deadline.end();
            throw e;
        }
        HttpEntity entity = response.getEntity();
        if (entity == null) {
            deadline.end();
        } else {
            // the deadline runs on until the answer is read or closed
            response.setEntity(new CappedResponseEntity(entity, MAX_RESPONSE_BYTES, deadline));
        }
        return response;
    }

    /** The deadline of one exchange: when it passes, the exchange's connection is closed under it. */
    static final class Deadline {

        private final ExecChain.Scope scope;
        private final long millis;
        private volatile boolean passed;
        private ScheduledFuture<?> timer;

        private Deadline(ExecChain.Scope scope, long millis) {
            this.scope = scope;
            this.millis = millis;
        }

        static Deadline start(ExecChain.Scope scope, long millis) {
            Deadline deadline = new Deadline(scope, millis);
            deadline.timer = TIMER.schedule(deadline::cutOff, millis, TimeUnit.MILLISECONDS);
            return deadline;
        }

        private void cutOff() {
            passed = true;
            // cancelling the request also stops a wait for a pooled connection; the connection itself
            // is closed either way, which ends a read blocked on it
            if (scope.originalRequest instanceof Cancellable request) {
                request.cancel();
            }
            discardConnection();
        }

        boolean passed() {
            return passed;
        }

        void end() {
            timer.cancel(false);
        }

        /** Closes the connection at once, instead of reading the rest of an answer to keep it for the next request. */
        void discardConnection() {
            scope.execRuntime.discardEndpoint();
        }

        /** Without the cause: what the closed connection made of the read (a "Socket closed") would be taken for the reason. */
        IOException exceeded() {
            return new SocketTimeoutException("no whole answer within " + millis + " ms (ktp.results.http.deadline)");
        }
    }

    private static ScheduledExecutorService timer() {
        var timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "ktp-http-target-deadline");
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }
}

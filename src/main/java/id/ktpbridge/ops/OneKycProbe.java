package id.ktpbridge.ops;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import id.ktpbridge.gtf.CircuitBreaker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether OneKYC's hosts can be reached while no call tells: the circuit breaker learns only from
 * calls, so an instance without work (between batches, or just started) would be taken as ready
 * on a network path to OneKYC that is broken. Once no call has been answered or has failed for
 * {@code ktp.health.onekyc.probe-interval}, a probe opens a TCP connection to each distinct
 * host:port of the token and API base URLs and closes it at once: no request, no credentials.
 * Probes run in the background, started by a readiness call when one is due and at most once
 * per interval (every 10 s while the last one failed); readiness reports the last one that ended. A call answered since that probe began
 * outweighs it.
 */
public final class OneKycProbe {

    private static final Logger LOG = LoggerFactory.getLogger(OneKycProbe.class);

    /** The spacing of probes while the last one could not connect. */
    static final long AFTER_FAILURE_MILLIS = 10_000;

    private final CircuitBreaker breaker;
    private final List<Target> targets;
    private final Duration interval;
    private final Duration connectTimeout;
    private final AtomicBoolean underWay = new AtomicBoolean();
    /** When the last probe began (the breaker's clock); 0: none yet. */
    private volatile long startedAt;
    private volatile Outcome last;

    /**
     * @param baseUrls       the token and API base URLs (scheme, host, port)
     * @param interval       how long calls must have been quiet before a probe, and the least time
     *                       between two; zero: no probes
     * @param connectTimeout how long a connection may take to open
     */
    public OneKycProbe(CircuitBreaker breaker, List<String> baseUrls, Duration interval, Duration connectTimeout) {
        this.breaker = breaker;
        this.targets = targets(baseUrls);
        this.interval = interval;
        this.connectTimeout = connectTimeout;
    }

    /**
     * Starts a probe in the background when one is due, and returns the host:port (with why) the
     * last finished probe could not connect to; empty when it reached them all, when none has
     * finished yet, or when a call has been answered since it began.
     */
    public List<String> unreachable() {
        startIfDue();
        Outcome outcome = last;
        if (outcome == null || outcome.unreachable().isEmpty() || breaker.answeredSince(outcome.startedAt())) {
            return List.of();
        }
        return outcome.unreachable();
    }

    /** Starts a probe in the background if calls have been quiet and none ran for an interval. */
    public void startIfDue() {
        if (interval.isZero() || interval.isNegative() || targets.isEmpty() || !breaker.idleFor(interval)) {
            return;
        }
        long now = breaker.clock().millis();
        long previous = startedAt;
        // after a failed probe the next comes sooner: a start-up race (a sidecar proxy or DNS not
        // ready yet) or one lost connection would otherwise keep the pod out for a whole interval
        Outcome outcome = last;
        long spacing = outcome != null && !outcome.unreachable().isEmpty()
                ? Math.min(interval.toMillis(), AFTER_FAILURE_MILLIS) : interval.toMillis();
        if (previous != 0 && now - previous < spacing || !underWay.compareAndSet(false, true)) {
            return;
        }
        startedAt = Math.max(1, now);
        Thread probe = new Thread(() -> {
            try {
                finished(new Outcome(Math.max(1, now), connectAll()));
            } finally {
                underWay.set(false);
            }
        }, "ktp-onekyc-probe");
        probe.setDaemon(true);
        probe.start();
    }

    private List<String> connectAll() {
        List<String> unreachable = new ArrayList<>();
        for (Target target : targets) {
            String failure = connect(target);
            if (failure != null) {
                unreachable.add(target + " (" + failure + ")");
            }
        }
        return List.copyOf(unreachable);
    }

    /** Null when a connection opened; else why not, in a few words (no exception text: it may name more). */
    private String connect(Target target) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(target.host(), target.port()), (int) Math.max(1,
                    Math.min(Integer.MAX_VALUE, connectTimeout.toMillis())));
            return null;
        } catch (SocketTimeoutException e) {
            return "no connection within " + connectTimeout.toMillis() + " ms";
        } catch (ConnectException e) {
            return "connection refused";
        } catch (UnknownHostException e) {
            return "host name not resolved";
        } catch (NoRouteToHostException e) {
            return "no route to host";
        } catch (IOException | RuntimeException e) {
            return e.getClass().getSimpleName();
        }
    }

    private void finished(Outcome outcome) {
        Outcome before = last;
        last = outcome;
        List<String> failedBefore = before == null ? List.of() : before.unreachable();
        // said once while it lasts; again after an answer had made it up
        boolean said = !failedBefore.isEmpty() && !breaker.answeredSince(before.startedAt());
        if (!outcome.unreachable().isEmpty() && !(said && outcome.unreachable().equals(failedBefore))) {
            LOG.warn("OneKYC cannot be reached, and no call has told otherwise for a while: {}",
                    String.join(", ", outcome.unreachable()));
        } else if (outcome.unreachable().isEmpty() && !failedBefore.isEmpty()) {
            LOG.info("OneKYC can be reached again: {}", targets);
        }
    }

    /** The distinct host:port of the base URLs, in their order, as the JVM's default proxy selector routes them. */
    static List<Target> targets(List<String> baseUrls) {
        return targets(baseUrls, ProxySelector.getDefault());
    }

    /**
     * The distinct host:port of the base URLs, in their order; the port by the scheme when none is
     * given. A URL the selector sends through an HTTP proxy is probed at that proxy, as the OneKYC
     * client (the JDK's, on the same default selector) reaches it: a direct connection from a
     * network that only lets the proxy out would always fail.
     */
    static List<Target> targets(List<String> baseUrls, ProxySelector proxies) {
        Set<Target> targets = new LinkedHashSet<>();
        for (String url : baseUrls) {
            if (url == null || url.isBlank()) {
                continue;
            }
            URI uri = URI.create(url.trim());
            if (uri.getHost() == null) {
                continue;
            }
            int port = uri.getPort() >= 0 ? uri.getPort() : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
            targets.add(proxyOf(uri, proxies).orElse(new Target(uri.getHost(), port, false)));
        }
        return List.copyOf(targets);
    }

    private static java.util.Optional<Target> proxyOf(URI uri, ProxySelector proxies) {
        if (proxies == null) {
            return java.util.Optional.empty();
        }
        List<Proxy> chosen;
        try {
            chosen = proxies.select(uri);
        } catch (RuntimeException e) {
            return java.util.Optional.empty();
        }
        // the JDK's client takes the first; a direct one (or none) means no proxy
        return chosen == null || chosen.isEmpty() || chosen.get(0).type() != Proxy.Type.HTTP
                || !(chosen.get(0).address() instanceof InetSocketAddress address) ? java.util.Optional.empty()
                : java.util.Optional.of(new Target(address.getHostString(), address.getPort(), true));
    }

    /** A host and port (an HTTP proxy's, or OneKYC's own): what a probe names, never a path or query. */
    record Target(String host, int port, boolean proxy) {
        @Override
        public String toString() {
            return (proxy ? "proxy " : "") + (host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host)
                    + ":" + port;
        }
    }

    private record Outcome(long startedAt, List<String> unreachable) {
    }
}

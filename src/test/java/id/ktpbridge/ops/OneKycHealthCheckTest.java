package id.ktpbridge.ops;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import id.ktpbridge.gtf.CircuitBreaker;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.ManualClock;
import org.apache.camel.health.HealthCheck;
import org.junit.jupiter.api.Test;

/** Readiness while OneKYC's circuit breaker has paused calls, and while no call tells (the idle probe). */
class OneKycHealthCheckTest {

    private static final Duration INTERVAL = Duration.ofMinutes(1);
    /** Long enough for a probe on a loaded machine; the manual clock keeps the interval from passing meanwhile. */
    private static final Duration PROBE_WAIT = Duration.ofSeconds(30);

    @Test
    void notReadyWhileAnyEndpointsCircuitIsOpenAndReadyOnceAllAnswerAgain() {
        // a cool-down far longer than the test: the circuits stay open until an answer closes them
        CircuitBreaker breaker = new CircuitBreaker(2, Duration.ofHours(1));
        OneKycHealthCheck check = new OneKycHealthCheck(breaker);
        assertTrue(check.isReadiness() && !check.isLiveness(), "readiness only: a restart does not bring OneKYC back");
        assertEquals(HealthCheck.State.UP, check.call().getState());

        breaker.onTransientFailure("status");
        assertEquals(HealthCheck.State.UP, check.call().getState(), "one failure does not open the circuit");
        breaker.onTransientFailure("status");
        HealthCheck.Result down = check.call();
        assertEquals(HealthCheck.State.DOWN, down.getState());
        assertTrue(down.getMessage().orElse("").endsWith(": status"), down.getMessage().toString());

        breaker.onTransientFailure("user-token");
        breaker.onTransientFailure("user-token");
        down = check.call();
        assertEquals(HealthCheck.State.DOWN, down.getState());
        assertTrue(down.getMessage().orElse("").endsWith(": status, user-token"), down.getMessage().toString());

        breaker.onSuccess("status");
        down = check.call();
        assertEquals(HealthCheck.State.DOWN, down.getState(), "still paused at user-token");
        assertFalse(down.getMessage().orElse("").contains("status"), down.getMessage().toString());

        breaker.onSuccess("user-token");
        assertEquals(HealthCheck.State.UP, check.call().getState());
    }

    @Test
    void aThrottlingOneKycKeepsTheReplicaReadyAndAFailureAfterItDoesNot() {
        CircuitBreaker breaker = new CircuitBreaker(2, Duration.ofHours(1));
        OneKycHealthCheck check = new OneKycHealthCheck(breaker);
        breaker.onThrottled("confirm");
        breaker.onThrottled("confirm");
        assertTrue(breaker.isOpen("confirm"), "calls are paused");
        HealthCheck.Result throttled = check.call();
        assertEquals(HealthCheck.State.UP, throttled.getState(),
                "answered 429: taken out of its Service, the replica would get no callbacks");
        assertTrue(throttled.getMessage().orElse("").endsWith("paused after repeated 429 answers (throttled, not down):"
                + " confirm"), throttled.getMessage().toString());
        breaker.onTransientFailure("confirm");
        assertEquals(HealthCheck.State.DOWN, check.call().getState(), "the last call got no answer");
        breaker.onThrottled("confirm");
        assertEquals(HealthCheck.State.UP, check.call().getState(), "it answers again, if only to say wait");
    }

    @Test
    void withLedgerOnlyReadinessPausedCallsAreToldButKeepTheReplicaReady() {
        CircuitBreaker breaker = new CircuitBreaker(1, Duration.ofHours(1));
        OneKycHealthCheck check = new OneKycHealthCheck(breaker, false);
        breaker.onTransientFailure("presign");
        HealthCheck.Result told = check.call();
        assertEquals(HealthCheck.State.UP, told.getState());
        assertTrue(told.getMessage().orElse("").contains("paused after repeated failures: presign"),
                told.getMessage().toString());
    }

    @Test
    void readyAgainOnceAnAnswerComesNotWhenThePauseEnds() {
        ManualClock clock = new ManualClock(1_000_000);
        CircuitBreaker breaker = new CircuitBreaker(1, Duration.ofSeconds(30), clock);
        OneKycHealthCheck check = new OneKycHealthCheck(breaker);
        breaker.onTransientFailure("presign");
        assertEquals(HealthCheck.State.DOWN, check.call().getState());
        // the pause is over and calls flow again, but none has been answered: still down (a call to
        // a OneKYC that hangs takes its whole timeout to fail)
        clock.advance(Duration.ofSeconds(31));
        assertFalse(breaker.isOpen("presign"));
        assertEquals(HealthCheck.State.DOWN, check.call().getState(), "calls after the pause not answered yet");
        breaker.onTransientFailure("presign"); // one of them failed: paused again
        clock.advance(Duration.ofSeconds(45));
        assertEquals(HealthCheck.State.DOWN, check.call().getState());
        breaker.onSuccess("presign");
        assertEquals(HealthCheck.State.UP, check.call().getState(), "an answer closes it");
    }

    @Test
    void withoutAnyCallFailingForAPauseAndACallsLongestNothingSaysItIsStillDown() {
        ManualClock clock = new ManualClock(1_000_000);
        CircuitBreaker breaker = new CircuitBreaker(1, Duration.ofSeconds(30), clock);
        // a call after the pause to a OneKYC that hangs takes this long to fail
        breaker.callsTakeUpTo(Duration.ofSeconds(45));
        OneKycHealthCheck check = new OneKycHealthCheck(breaker);
        breaker.onTransientFailure("status");
        clock.advance(Duration.ofSeconds(74));
        assertEquals(HealthCheck.State.DOWN, check.call().getState(), "a call after the pause may still be hanging");
        // no work, no calls: a replica must not stay unready for ever on an old failure
        clock.advance(Duration.ofSeconds(2));
        assertEquals(HealthCheck.State.UP, check.call().getState());
    }

    @Test
    void idleAndOneKycsPortRefusingConnectionsNotReadyNamingOnlyItsHostAndPort() throws Exception {
        int closed = BridgeApp.freePort();
        try (Listener api = new Listener()) {
            CircuitBreaker breaker = new CircuitBreaker(10, Duration.ofSeconds(30), new ManualClock(1_000_000));
            // nothing called yet (a fresh pod): the breaker knows nothing; the token host refuses
            OneKycHealthCheck check = new OneKycHealthCheck(breaker, true, new OneKycProbe(breaker,
                    List.of("http://127.0.0.1:" + closed + "/", api.url()), INTERVAL, Duration.ofSeconds(5)));
            await().atMost(PROBE_WAIT).until(() -> check.call().getState() == HealthCheck.State.DOWN);
            String message = check.call().getMessage().orElse("");
            assertTrue(message.endsWith(": 127.0.0.1:" + closed + " (connection refused)"), message);
            // the API host was probed too, and answers: not named
            await().atMost(PROBE_WAIT).until(() -> api.accepted() == 1);
        }
    }

    @Test
    void idleAndOneKycAcceptingConnectionsReadyAndProbedOncePerDistinctHostAndInterval() throws Exception {
        try (Listener gateway = new Listener()) {
            ManualClock clock = new ManualClock(1_000_000);
            CircuitBreaker breaker = new CircuitBreaker(10, Duration.ofSeconds(30), clock);
            // token and API on one host and port: one connection per probe
            OneKycHealthCheck check = new OneKycHealthCheck(breaker, true, new OneKycProbe(breaker,
                    List.of(gateway.url(), gateway.url() + "/"), INTERVAL, Duration.ofSeconds(5)));
            assertEquals(HealthCheck.State.UP, check.call().getState());
            await().atMost(PROBE_WAIT).until(() -> gateway.accepted() == 1);
            // kubelet asks every few seconds: no probe again within the interval
            for (int i = 0; i < 5; i++) {
                assertEquals(HealthCheck.State.UP, check.call().getState());
                clock.advance(Duration.ofSeconds(10));
            }
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(12)).until(() -> gateway.accepted() == 1);
            assertEquals(1, gateway.accepted(), "probed again within the interval");
            clock.advance(Duration.ofSeconds(11));
            assertEquals(HealthCheck.State.UP, check.call().getState());
            await().atMost(PROBE_WAIT).until(() -> gateway.accepted() == 2);
            // an interval since the last probe, but a call answered a moment ago: it tells, no probe
            clock.advance(Duration.ofSeconds(50));
            breaker.onSuccess("status");
            clock.advance(Duration.ofSeconds(20));
            assertEquals(HealthCheck.State.UP, check.call().getState());
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(12)).until(() -> gateway.accepted() == 2);
            assertEquals(2, gateway.accepted(), "probed while calls told");
        }
    }

    @Test
    void anIntervalOfZeroProbesNothing() throws Exception {
        int closed = BridgeApp.freePort();
        try (Listener api = new Listener()) {
            CircuitBreaker breaker = new CircuitBreaker(10, Duration.ofSeconds(30), new ManualClock(1_000_000));
            OneKycProbe off = new OneKycProbe(breaker, List.of("http://127.0.0.1:" + closed, api.url()), Duration.ZERO,
                    Duration.ofSeconds(5));
            OneKycHealthCheck check = new OneKycHealthCheck(breaker, true, off);
            off.startIfDue();
            // readiness asked again and again for 3 s: up throughout, and no connection made
            // (failFast: a long atMost must not let the window start over after a moment not ready)
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(13)).pollInterval(Duration.ofMillis(200))
                    .failFast("not ready, or probed", () -> check.call().getState() != HealthCheck.State.UP
                            || api.accepted() != 0)
                    .until(() -> check.call().getState() == HealthCheck.State.UP && api.accepted() == 0);
            assertEquals(0, api.accepted());
        }
    }

    @Test
    void aCallAnsweredAfterAFailedProbeMakesItReadyAgainAndAFailedCallDoesNot() {
        int closed = BridgeApp.freePort();
        ManualClock clock = new ManualClock(1_000_000);
        CircuitBreaker breaker = new CircuitBreaker(10, Duration.ofSeconds(30), clock);
        OneKycHealthCheck check = new OneKycHealthCheck(breaker, true, new OneKycProbe(breaker,
                List.of("http://127.0.0.1:" + closed), INTERVAL, Duration.ofSeconds(5)));
        await().atMost(PROBE_WAIT).until(() -> check.call().getState() == HealthCheck.State.DOWN);
        clock.advance(Duration.ofSeconds(1));
        breaker.onTransientFailure("presign");
        assertEquals(HealthCheck.State.DOWN, check.call().getState(), "a failure says nothing against the probe");
        breaker.onSuccess("presign");
        assertEquals(HealthCheck.State.UP, check.call().getState(), "traffic wins");
        // quiet again for an interval: probed again, and down again
        clock.advance(INTERVAL);
        await().atMost(PROBE_WAIT).until(() -> check.call().getState() == HealthCheck.State.DOWN);
    }

    @Test
    void afterAFailedProbeTheNextComesWithinSecondsNotAWholeInterval() throws Exception {
        int port = BridgeApp.freePort();
        ManualClock clock = new ManualClock(1_000_000);
        CircuitBreaker breaker = new CircuitBreaker(10, Duration.ofSeconds(30), clock);
        OneKycHealthCheck check = new OneKycHealthCheck(breaker, true, new OneKycProbe(breaker,
                List.of("http://127.0.0.1:" + port), INTERVAL, Duration.ofSeconds(5)));
        await().atMost(PROBE_WAIT).until(() -> check.call().getState() == HealthCheck.State.DOWN);
        // the port opens a moment later (a proxy or the network was not ready at start)
        try (ServerSocket opened = new ServerSocket(port, 50, InetAddress.getLoopbackAddress())) {
            clock.advance(Duration.ofMillis(OneKycProbe.AFTER_FAILURE_MILLIS));
            await().atMost(PROBE_WAIT).until(() -> check.call().getState() == HealthCheck.State.UP);
        }
    }

    @Test
    void withLedgerOnlyReadinessAnUnreachableHostIsToldButKeepsTheReplicaReady() {
        int closed = BridgeApp.freePort();
        CircuitBreaker breaker = new CircuitBreaker(10, Duration.ofSeconds(30), new ManualClock(1_000_000));
        OneKycHealthCheck check = new OneKycHealthCheck(breaker, false, new OneKycProbe(breaker,
                List.of("http://127.0.0.1:" + closed), INTERVAL, Duration.ofSeconds(5)));
        await().atMost(PROBE_WAIT).until(() -> check.call().getMessage().orElse("").contains("127.0.0.1:" + closed));
        HealthCheck.Result told = check.call();
        assertEquals(HealthCheck.State.UP, told.getState());
        assertTrue(told.getMessage().orElse("").endsWith("(not counted for readiness: ktp.health.readiness=ledger)"),
                told.getMessage().toString());
    }

    @Test
    void theProbedAddressesAreTheDistinctHostsAndPortsOfTheBaseUrls() {
        assertEquals("[onekyc-token.example.com:443, onekyc.example.com:8443, [::1]:80]", OneKycProbe.targets(List.of(
                "https://onekyc-token.example.com", "https://onekyc.example.com:8443/", "https://onekyc.example.com:8443",
                "http://[::1]")).toString());
    }

    @Test
    void aBaseUrlRoutedThroughAnHttpProxyIsProbedAtTheProxy() {
        java.net.ProxySelector proxies = new java.net.ProxySelector() {
            @Override
            public List<java.net.Proxy> select(java.net.URI uri) {
                return uri.getHost().startsWith("onekyc-token") ? List.of(java.net.Proxy.NO_PROXY)
                        : List.of(new java.net.Proxy(java.net.Proxy.Type.HTTP,
                        java.net.InetSocketAddress.createUnresolved("egress.internal", 3128)));
            }

            @Override
            public void connectFailed(java.net.URI uri, java.net.SocketAddress address, IOException e) {
            }
        };
        assertEquals("[onekyc-token.example.com:443, proxy egress.internal:3128]", OneKycProbe.targets(List.of(
                "https://onekyc-token.example.com", "https://onekyc.example.com:8443", "https://api2.example.com"),
                proxies).toString());
    }

    /** A port on the loopback that accepts connections, counting them. */
    private static final class Listener implements AutoCloseable {

        private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final AtomicInteger accepted = new AtomicInteger();

        Listener() throws IOException {
            Thread acceptor = new Thread(() -> {
                while (!server.isClosed()) {
                    try (Socket ignored = server.accept()) {
                        accepted.incrementAndGet();
                    } catch (IOException closed) {
                        return;
                    }
                }
            }, "probe-listener");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        String url() {
            return "http://" + ((InetSocketAddress) server.getLocalSocketAddress()).getHostString() + ":"
                    + server.getLocalPort();
        }

        int accepted() {
            return accepted.get();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}

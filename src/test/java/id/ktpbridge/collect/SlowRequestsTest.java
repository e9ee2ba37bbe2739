package id.ktpbridge.collect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ktp.callback.request-timeout}: a connection that sends a request's headers and then
 * nothing is closed once the timeout has passed, instead of being held for ever.
 */
class SlowRequestsTest {

    private static final String CALLBACK = "/coe/submissions-callback";

    @TempDir
    Path dataDir;

    @Test
    void aRequestThatSendsItsHeadersAndNothingElseHasItsConnectionClosed() throws Exception {
        try (LogCapture log = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, Map.of(
                "ktp.callback.auth-token", "slow-test-token", "ktp.callback.request-timeout", "1s"))) {
            for (String path : new String[] {CALLBACK, "/nowhere"}) {
                try (Socket socket = connect(app)) {
                    long start = System.nanoTime();
                    send(socket, "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                            + "Content-Length: 65536\r\n\r\n{\"submissionId\":");
                    // a connection left open fails the read at the socket's timeout, not here
                    readUntilClosed(socket);
                    long millis = (System.nanoTime() - start) / 1_000_000;
                    assertTrue(millis >= 900, path + ": closed after " + millis + " ms");
                    // closed by the request timeout: the line is written once a minute, for the first
                    assertEquals(1, log.count("did not send its whole body within ktp.callback.request-timeout"
                            + " (1000 ms)"), log.text());
                }
            }
            assertEquals(0, log.count("Unhandled exception in router"), "the closed request is not logged again");
        }
    }

    @Test
    void aConnectionWhoseRequestsCameWholeIsLeftOpen() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of(
                "ktp.callback.auth-token", "slow-test-token", "ktp.callback.request-timeout", "1s"))) {
            try (Socket socket = connect(app)) {
                String body = "{\"submissionId\":\"00000000-0000-0000-0000-000000000000\",\"status\":\"ERROR\"}";
                String request = "POST " + CALLBACK + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Authorization: Bearer slow-test-token\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
                send(socket, request);
                assertTrue(readResponse(socket).startsWith("HTTP/1.1 200"));
                Thread.sleep(2_000);
                send(socket, request);
                assertTrue(readResponse(socket).startsWith("HTTP/1.1 200"), "the same connection, after the timeout");
            }
        }
    }

    @Test
    void atZeroNoRequestIsTimed() throws Exception {
        int timedRoutes;
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of(
                "ktp.callback.auth-token", "slow-test-token", "ktp.callback.request-timeout", "1s"))) {
            timedRoutes = mainServerRoutes(app);
        }
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of(
                "ktp.callback.auth-token", "slow-test-token", "ktp.callback.request-timeout", "0"))) {
            // the timer is a route of its own ahead of the others: at 0 there is none (a 0 read as the
            // 30 s default would have one, and keep a connection 2 s as well)
            assertEquals(timedRoutes - 1, mainServerRoutes(app), "the request timeout's route at 0");
            try (Socket socket = connect(app)) {
                send(socket, "POST " + CALLBACK + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n");
                socket.setSoTimeout(2_000);
                assertThrows(java.net.SocketTimeoutException.class, () -> socket.getInputStream().read(),
                        "still open after 2 s");
            }
        }
    }

    /** The routes of the callback port's HTTP server. */
    private static int mainServerRoutes(BridgeApp app) {
        return app.context().getRegistry().findByType(VertxPlatformHttpRouter.class).stream()
                .filter(VertxPlatformHttpRouter::isMainServer).findFirst().orElseThrow().getRoutes().size();
    }

    private static Socket connect(BridgeApp app) throws IOException {
        URI uri = URI.create(app.callbackUrl());
        Socket socket = new Socket(uri.getHost(), uri.getPort());
        socket.setSoTimeout(10_000);
        return socket;
    }

    private static void send(Socket socket, String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        socket.getOutputStream().flush();
    }

    /** Reads whatever comes until the server closes the connection; a read timeout fails the test. */
    private static void readUntilClosed(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[4096];
        try {
            while (in.read(buffer) >= 0) {
                // a 404 for an unknown path comes first
            }
        } catch (SocketException e) {
            // reset by the server: closed too
        }
    }

    /** One response, its head and its chunked body. */
    private static String readResponse(Socket socket) throws IOException {
        String head = readUntil(socket.getInputStream(), "\r\n\r\n");
        assertTrue(head.toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked"), head);
        readUntil(socket.getInputStream(), "\r\n0\r\n\r\n");
        return head;
    }

    private static String readUntil(InputStream in, String end) throws IOException {
        ByteArrayOutputStream read = new ByteArrayOutputStream();
        while (!read.toString(StandardCharsets.ISO_8859_1).endsWith(end)) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after: " + read.toString(StandardCharsets.ISO_8859_1));
            }
            read.write(b);
        }
        return read.toString(StandardCharsets.ISO_8859_1);
    }
}

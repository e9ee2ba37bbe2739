package id.ktpbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;

import org.junit.jupiter.api.Test;

class HttpClientThreadsTest {

    @Test
    void theSelectorThreadOfAClientThatHasBeenUsedEnds() throws Exception {
        // only this test's client is stopped: other tests in this JVM keep theirs
        List<Thread> before = HttpClientThreads.selectors();
        HttpClient client = HttpClient.newHttpClient();
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        try {
            client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + closedPort + "/")).build(),
                    HttpResponse.BodyHandlers.discarding());
        } catch (java.io.IOException expected) {
            // connection refused: the client and its selector thread are started all the same
        }
        List<Thread> mine = new java.util.ArrayList<>(HttpClientThreads.selectors());
        mine.removeAll(before);
        assertEquals(1, mine.size(), "a used client has a selector thread");

        assertEquals(0, HttpClientThreads.stop(mine, 2_000));

        assertFalse(mine.get(0).isAlive(), "its selector thread has ended");
        assertTrue(HttpClientThreads.selectors().containsAll(before.stream().filter(Thread::isAlive).toList()));
    }
}

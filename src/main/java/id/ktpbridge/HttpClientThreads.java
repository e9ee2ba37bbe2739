package id.ktpbridge;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Ends the selector threads of the JDK's {@code HttpClient}s before the process exits. JDK 17's
 * client cannot be closed, and its selector thread waits in native code; the JVM's exit waits up
 * to 300 ms for such threads, at the end of every batch run. Interrupting the thread makes the
 * client shut itself down (it closes its connections and the thread ends).
 */
final class HttpClientThreads {

    private static final Pattern SELECTOR = Pattern.compile("HttpClient-\\d+-SelectorManager");

    private HttpClientThreads() {
    }

    /** The selector threads of every JDK HTTP client in this process. */
    static List<Thread> selectors() {
        List<Thread> selectors = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (SELECTOR.matcher(t.getName()).matches() && t.isAlive()) {
                selectors.add(t);
            }
        }
        return selectors;
    }

    /** @return how many of the selector threads were still running after {@code waitMillis} */
    static int stop(List<Thread> selectors, long waitMillis) throws InterruptedException {
        selectors.forEach(Thread::interrupt);
        long deadline = System.currentTimeMillis() + waitMillis;
        int running = 0;
        for (Thread t : selectors) {
            t.join(Math.max(1, deadline - System.currentTimeMillis()));
            if (t.isAlive()) {
                running++;
            }
        }
        return running;
    }
}

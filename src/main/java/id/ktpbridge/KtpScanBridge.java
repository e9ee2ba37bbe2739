package id.ktpbridge;

/** Command-line entry point: starts the bundle and exits with its exit code. */
public final class KtpScanBridge {

    /**
     * pgjdbc's own warnings (java.util.logging, straight to stderr) quote a URL it cannot parse
     * whole, password parameter and all; its errors reach us as exceptions, told apart below.
     * Held here: java.util.logging keeps its loggers weakly, and a level set on one collected is lost.
     */
    private static final java.util.logging.Logger POSTGRES_DRIVER = java.util.logging.Logger.getLogger("org.postgresql");

    private KtpScanBridge() {
    }

    public static void main(String[] args) throws InterruptedException {
        POSTGRES_DRIVER.setLevel(java.util.logging.Level.SEVERE);
        int exitCode;
        try {
            exitCode = new BridgeMain().run(args);
        } catch (Exception e) {
            // a setting refused at start: its message, not a stack trace, and an exit even though
            // something started before the check (the embedded sandbox) still holds a thread. Its
            // code is not batch mode's 1 (inputs left without a result), which a caller may run
            // again as it is: this one needs the setting changed first
            System.err.println("KTP Scan Bridge did not start: " + reasons(e));
            System.exit(2);
            return;
        }
        // Camel has stopped: nothing uses the HTTP clients any more
        HttpClientThreads.stop(HttpClientThreads.selectors(), 200);
        System.exit(exitCode);
    }

    /**
     * The messages of an exception and its causes, each once, without the secrets a driver or
     * parser quotes from a setting (pgjdbc's "Unable to parse URL" gives the whole URL, password
     * parameter and all): this goes to stderr, a pod's log.
     */
    static String reasons(Throwable e) {
        StringBuilder out = new StringBuilder();
        for (Throwable t = e; t != null && t != t.getCause(); t = t.getCause()) {
            String m = LogSafe.credentials(t.getMessage());
            if (m != null && !m.isBlank() && out.indexOf(m) < 0) {
                out.append(out.length() == 0 ? "" : " <- ").append(m);
            }
        }
        return out.length() == 0 ? e.getClass().getSimpleName() : out.toString();
    }
}

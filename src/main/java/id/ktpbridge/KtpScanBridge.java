package id.ktpbridge;

/** Command-line entry point: starts the bundle and exits with its exit code. */
public final class KtpScanBridge {

    private KtpScanBridge() {
    }

    public static void main(String[] args) throws InterruptedException {
        int exitCode;
        try {
            exitCode = new BridgeMain().run(args);
        } catch (Exception e) {
            // a setting refused at start: its message, not a stack trace, and an exit even though
            // something started before the check (the embedded sandbox) still holds a thread
            System.err.println("KTP Scan Bridge did not start: " + reasons(e));
            System.exit(1);
            return;
        }
        // Camel has stopped: nothing uses the HTTP clients any more
        HttpClientThreads.stop(HttpClientThreads.selectors(), 200);
        System.exit(exitCode);
    }

    /** The messages of an exception and its causes, each once. */
    static String reasons(Throwable e) {
        StringBuilder out = new StringBuilder();
        for (Throwable t = e; t != null && t != t.getCause(); t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && !m.isBlank() && out.indexOf(m) < 0) {
                out.append(out.length() == 0 ? "" : " <- ").append(m);
            }
        }
        return out.length() == 0 ? e.getClass().getSimpleName() : out.toString();
    }
}

package id.ktpbridge;

/** Command-line entry point: starts the bundle and exits with its exit code. */
public final class KtpScanBridge {

    private KtpScanBridge() {
    }

    public static void main(String[] args) throws Exception {
        int exitCode = new BridgeMain().run(args);
        // Camel has stopped: nothing uses the HTTP clients any more
        HttpClientThreads.stop(HttpClientThreads.selectors(), 200);
        System.exit(exitCode);
    }
}

package id.ktpbridge.testkit;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The application in a JVM of its own (the same main class as {@code java -jar}), so a test can
 * kill it with SIGKILL at any moment and start it again.
 */
public final class BridgeProcess {

    private final Process process;

    private BridgeProcess(Process process) {
        this.process = process;
    }

    /**
     * The environment of an instance against an OneKYC sandbox of the test's own (its embedded one
     * off), with its data folder, callback port and callback token and a free management port:
     * a mutable map, for the test's own additions.
     */
    public static Map<String, String> againstSandbox(String sandboxUrl, Path dataDir, int callbackPort,
                                                     String callbackToken) {
        Map<String, String> env = new java.util.HashMap<>();
        env.put("GTF_SANDBOX_ENABLED", "false");
        env.put("GTF_TOKEN_URL", sandboxUrl);
        env.put("GTF_API_URL", sandboxUrl);
        env.put("KTP_DATA_DIR", dataDir.toString());
        env.put("KTP_CALLBACK_PORT", String.valueOf(callbackPort));
        env.put("KTP_MANAGEMENT_PORT", String.valueOf(BridgeApp.freePort()));
        env.put("KTP_CALLBACK_AUTH_TOKEN", callbackToken);
        return env;
    }

    /**
     * @param env        environment variables (the documented configuration contract)
     * @param properties extra {@code -Dkey=value} settings
     * @param log        where stdout and stderr go (appended)
     */
    public static BridgeProcess start(Path workDir, Map<String, String> env, Map<String, String> properties, Path log)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx512m");
        properties.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("id.ktpbridge.KtpScanBridge");
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        Process process = pb.start();
        // a test that fails half-way must not leave bundle JVMs running into the classes after it
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly));
        return new BridgeProcess(process);
    }

    /** SIGKILL: no shutdown hook, no graceful stop. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** Waits for the process to end by itself; returns its exit code, or -1 (and kills it) on timeout. */
    public int awaitExit(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            kill();
            return -1;
        }
        return process.exitValue();
    }

    public boolean isAlive() {
        return process.isAlive();
    }
}

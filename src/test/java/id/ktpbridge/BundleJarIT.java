package id.ktpbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar, run the way the README's demo runs it: from another working directory, on the
 * sample images, in batch mode. Catches what in-process tests cannot, such as a component the
 * routes use that only the test classpath had.
 */
class BundleJarIT {

    @TempDir
    Path work;

    @Test
    void theJarProcessesTheSamplesAndExitsZero() throws Exception {
        Path jar = Path.of(System.getProperty("ktp.bundle.jar", "target/ktp-scan-bridge.jar")).toAbsolutePath();
        Path inbox = Files.createDirectories(work.resolve("data/inbox"));
        List<Path> samples;
        try (Stream<Path> files = Files.list(Path.of("samples"))) {
            samples = files.toList();
        }
        for (Path sample : samples) {
            Files.copy(sample, inbox.resolve(sample.getFileName()));
        }
        long images = samples.stream().filter(p -> p.toString().matches(".*\\.(png|jpe?g)")).count();
        Path log = Files.createDirectories(Path.of(System.getProperty("ktp.test.output", "target/test-output")))
                .resolve("bundle-jar-it.log");
        // settings in the working directory's config/application.properties win over the jar's own
        // (there batch mode is off and results go to data/results)
        Files.createDirectories(work.resolve("config"));
        Files.writeString(work.resolve("config/application.properties"), "ktp.exit-when-done = true\n"
                + "ktp.results.dir = " + work.resolve("out") + "\n"
                + "ktp.callback.port = " + BridgeApp.freePort() + "\n"
                + "ktp.management.port = " + BridgeApp.freePort() + "\n");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toString())
                .directory(work.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = pb.start();
        boolean ended = p.waitFor(180, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        assertTrue(ended, "the demo run ends by itself");
        String output = Files.readString(log);
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.contains("Every input has a result record."), output);
        assertEquals(images, Results.count(work.resolve("out")), output);
        assertTrue(Files.exists(work.resolve("data/failed/u00007-not-an-image.jpg.error.json")));
    }

    @Test
    void aSettingRefusedAtStartEndsTheProcessWithItsMessage() throws Exception {
        Path jar = Path.of(System.getProperty("ktp.bundle.jar", "target/ktp-scan-bridge.jar")).toAbsolutePath();
        Path log = Files.createDirectories(Path.of(System.getProperty("ktp.test.output", "target/test-output")))
                .resolve("bundle-jar-it-refused.log");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toString())
                .directory(work.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        // checked after the embedded sandbox has started, which keeps a thread of its own
        pb.environment().put("KTP_RESULTS_TARGETS", "file,ftp");
        pb.environment().put("KTP_CALLBACK_PORT", String.valueOf(BridgeApp.freePort()));
        pb.environment().put("KTP_MANAGEMENT_PORT", String.valueOf(BridgeApp.freePort()));
        Process p = pb.start();
        boolean ended = p.waitFor(60, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        String output = Files.readString(log);
        assertTrue(ended, "the process ends: " + output);
        assertEquals(2, p.exitValue(), output);
        assertTrue(output.contains("KTP Scan Bridge did not start:") && output.contains("ftp"), output);
        assertFalse(output.contains("Exception in thread"), output);
    }
}

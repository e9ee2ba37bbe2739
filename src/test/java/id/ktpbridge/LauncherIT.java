package id.ktpbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/ktp-scan-bridge}, the launcher the README and the demo use: its class-data archive is
 * made once per jar, is really used by the next start (the bundle's classes are loaded from it),
 * is made anew for a rebuilt jar, and its absence never stops the bundle.
 */
class LauncherIT {

    private static final Path LAUNCHER = Path.of("bin/ktp-scan-bridge").toAbsolutePath();

    @TempDir
    Path work;

    @Test
    void theArchiveIsMadeOnceUsedByTheNextStartAndRenewedForANewJar() throws Exception {
        Path jar = Files.copy(bundleJar(), work.resolve("ktp-scan-bridge.jar"));
        // a folder with a space, as a home directory can have; three archives of earlier jars in it
        Path cds = Files.createDirectories(work.resolve("class data"));
        for (int i = 1; i <= 3; i++) {
            Path stale = Files.writeString(cds.resolve("ktp-scan-bridge-stale" + i + ".jsa"), "old");
            Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minusSeconds(3600L * i)));
        }

        Run prepared = launch(Map.of("KTP_JAR", jar.toString(), "KTP_CDS_DIR", cds.toString(), "KTP_CDS", "prepare"),
                work);
        assertEquals(0, prepared.exit(), prepared.output());
        List<Path> archives = archives(cds).stream()
                .filter(a -> !a.getFileName().toString().contains("-stale")).toList();
        assertEquals(1, archives.size(), prepared.output());
        assertTrue(prepared.output().contains(archives.get(0).toString()), prepared.output());
        assertEquals(3, archives(cds).size(), "the three newest kept");
        assertFalse(Files.exists(cds.resolve("ktp-scan-bridge-stale3.jsa")), "the oldest removed");

        Path data = samplesIn(work.resolve("data"));
        Run batch = launch(Map.of("KTP_JAR", jar.toString(), "KTP_CDS_DIR", cds.toString(),
                "KTP_DATA_DIR", data.toString(), "KTP_EXIT_WHEN_DONE", "true",
                "JAVA_OPTS", "-Xshare:on -Xlog:class+load=info"), work);
        assertEquals(0, batch.exit(), batch.output());
        // the bundle's own classes come from the archive's top layer, not from the jar
        assertTrue(batch.output().contains("id.ktpbridge.KtpScanBridge source: shared objects file (top)"),
                "main class not loaded from the archive");
        assertFalse(batch.output().contains("making the class-data archive"), "the archive of the first start is reused");
        assertTrue(batch.output().contains("Every input has a result record."), batch.output());
        assertEquals(imageCount(), Results.count(data.resolve("results")), batch.output());

        // a rebuilt jar (same path, another time stamp) gets its own archive instead of a refused one
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now().plusSeconds(60)));
        Run again = launch(Map.of("KTP_JAR", jar.toString(), "KTP_CDS_DIR", cds.toString(), "KTP_CDS", "prepare"),
                work);
        assertEquals(0, again.exit(), again.output());
        assertTrue(again.output().contains("making the class-data archive"), again.output());
        assertEquals(3, archives(cds).size());
        assertFalse(Files.exists(cds.resolve("ktp-scan-bridge-stale2.jsa")), "the oldest removed");
        assertTrue(Files.exists(archives.get(0)), "the first jar's archive is among the three newest");
    }

    @Test
    void anArchiveThatCannotBeMadeDoesNotStopTheBundle() throws Exception {
        Path readOnly = Files.createDirectories(work.resolve("not-writable"));
        Path blocker = Files.writeString(readOnly.resolve("cds"), "a file where the archive folder should be");
        Path data = samplesIn(work.resolve("data"));
        Run batch = launch(Map.of("KTP_JAR", bundleJar().toString(), "KTP_CDS_DIR", blocker.toString(),
                "KTP_DATA_DIR", data.toString(), "KTP_EXIT_WHEN_DONE", "true"), work);
        assertEquals(0, batch.exit(), batch.output());
        assertTrue(batch.output().contains("starting without a class-data archive"), batch.output());
        assertEquals(imageCount(), Results.count(data.resolve("results")), batch.output());
    }

    @Test
    void settingsWithAnUnknownValueAreRefusedByName() throws Exception {
        Run jit = launch(Map.of("KTP_JAR", bundleJar().toString(), "KTP_JIT", "fastest"), work);
        assertEquals(2, jit.exit());
        assertTrue(jit.output().contains("KTP_JIT must be quick or full"), jit.output());
        Run cds = launch(Map.of("KTP_JAR", bundleJar().toString(), "KTP_CDS", "sometimes"), work);
        assertEquals(2, cds.exit());
        assertTrue(cds.output().contains("KTP_CDS must be auto, prepare or off"), cds.output());
    }

    private record Run(int exit, String output) {
    }

    private Run launch(Map<String, String> env, Path dir) throws IOException, InterruptedException {
        Path log = Files.createTempFile(work, "launcher", ".log");
        ProcessBuilder pb = new ProcessBuilder(LAUNCHER.toString()).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        // only what this test sets: no KTP_* or GTF_* of the machine running the build
        pb.environment().keySet().removeIf(k -> k.startsWith("KTP_") || k.startsWith("GTF_") || k.equals("JAVA_OPTS"));
        pb.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":" + System.getenv("PATH"));
        pb.environment().put("KTP_CALLBACK_PORT", String.valueOf(BridgeApp.freePort()));
        pb.environment().put("KTP_MANAGEMENT_PORT", String.valueOf(BridgeApp.freePort()));
        pb.environment().putAll(env);
        Process p = pb.start();
        boolean ended = p.waitFor(180, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        assertTrue(ended, "the launcher ends by itself");
        return new Run(p.exitValue(), Files.readString(log));
    }

    private static Path bundleJar() {
        return Path.of(System.getProperty("ktp.bundle.jar", "target/ktp-scan-bridge.jar")).toAbsolutePath();
    }

    private static Path samplesIn(Path data) throws IOException {
        Path inbox = Files.createDirectories(data.resolve("inbox"));
        try (Stream<Path> files = Files.list(Path.of("samples"))) {
            for (Path sample : files.toList()) {
                Files.copy(sample, inbox.resolve(sample.getFileName()));
            }
        }
        return data;
    }

    private static long imageCount() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("samples"))) {
            return files.filter(p -> p.toString().matches(".*\\.(png|jpe?g)")).count();
        }
    }

    private static List<Path> archives(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".jsa")).toList();
        }
    }
}

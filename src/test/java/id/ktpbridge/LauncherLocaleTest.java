package id.ktpbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/ktp-scan-bridge} under the locale cron, systemd and slim images give a process (C or
 * POSIX): the JVM decodes file names with the locale's character set, which no -D option changes,
 * and a drop folder's non-ASCII names would never be taken. Runs the launcher on an empty jar with
 * {@code -version}, which starts the JVM and prints its settings without running the bundle.
 */
class LauncherLocaleTest {

    private static final Path LAUNCHER = Path.of("bin/ktp-scan-bridge").toAbsolutePath();

    @TempDir
    Path work;

    @Test
    void fileNamesAreDecodedAsUtf8UnderACOrPosixLocale() throws Exception {
        Path jar = work.resolve("empty.jar");
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        try (OutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            // a manifest only: -version reads it and runs nothing
        }
        // C and POSIX set, none set at all, and a UTF-8 one (kept)
        for (Map<String, String> locale : List.of(Map.of("LC_ALL", "C"), Map.of("LANG", "POSIX"),
                Map.<String, String>of(), Map.of("LANG", "C.UTF-8"))) {
            // the output goes to a file, read once the launcher has ended or been ended, so a hang is
            // bounded by the wait below
            Path out = work.resolve("launcher.out");
            ProcessBuilder pb = new ProcessBuilder("bash", LAUNCHER.toString()).directory(work.toFile())
                    .redirectErrorStream(true).redirectOutput(out.toFile());
            pb.environment().clear();
            pb.environment().putAll(Map.of("PATH", System.getenv("PATH"), "HOME", work.toString(), "KTP_JAR",
                    jar.toString(), "KTP_CDS", "off", "KTP_HEAP", "32m",
                    "JAVA_OPTS", "-XshowSettings:properties -version"));
            pb.environment().putAll(locale);
            Process p = pb.start();
            boolean ended = p.waitFor(60, TimeUnit.SECONDS);
            if (!ended) {
                p.destroyForcibly();
            }
            String output = new String(Files.readAllBytes(out), StandardCharsets.UTF_8);
            assertTrue(ended, output);
            assertEquals(0, p.exitValue(), output);
            assertTrue(output.contains("sun.jnu.encoding = UTF-8"), locale + ": " + output);
        }
    }
}

package id.ktpbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

import javax.tools.ToolProvider;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/ktp-scan-bridge} under the locale cron, systemd and slim images give a process (C or
 * POSIX): the JVM decodes file names with the locale's character set, which no -D option changes,
 * and a drop folder's non-ASCII names would never be taken. Runs the launcher on an empty jar with
 * {@code -version}, which starts the JVM and prints its settings without running the bundle. Also
 * the launcher's class-data archive in a folder given relative to the caller's, made on a jar whose
 * main method does nothing (seconds; {@code LauncherIT} makes it on the bundle).
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
        // C and POSIX set, none set at all, a UTF-8 one (kept), and one not installed here (as ssh
        // forwards a desktop's LANG): glibc then fails the whole locale, and the JVM falls back to C
        for (Map<String, String> locale : List.of(Map.of("LC_ALL", "C"), Map.of("LANG", "POSIX"),
                Map.<String, String>of(), Map.of("LANG", "C.UTF-8"), Map.of("LANG", "xx_XX.UTF-8"),
                Map.of("LANG", "C.UTF-8", "LC_TIME", "xx_XX.UTF-8"))) {
            Map<String, String> env = new java.util.HashMap<>(Map.of("PATH", System.getenv("PATH"), "HOME",
                    work.toString(), "KTP_JAR", jar.toString(), "KTP_CDS", "off", "KTP_HEAP", "32m",
                    "JAVA_OPTS", "-XshowSettings:properties -version"));
            env.putAll(locale);
            String output = launch(work, env);
            assertTrue(output.contains("sun.jnu.encoding = UTF-8"), locale + ": " + output);
        }
    }

    @Test
    void aRelativeClassDataFolderKeepsTheArchiveThatTheNextStartUses() throws Exception {
        // the training start ran in a folder of its own, wrote its archive under the relative path
        // there and was not found in the caller's: every start trained again and left its folder behind
        Path jar = jarThatDoesNothing();
        Path caller = Files.createDirectories(work.resolve("caller"));
        Path tmp = Files.createDirectories(work.resolve("tmp"));
        Map<String, String> env = Map.of("PATH", Path.of(System.getProperty("java.home"), "bin") + ":"
                + System.getenv("PATH"), "HOME", work.toString(), "TMPDIR", tmp.toString(), "LANG", "C.UTF-8",
                "KTP_JAR", jar.toString(), "KTP_CDS", "prepare", "KTP_CDS_DIR", "cds", "KTP_HEAP", "32m");

        String first = launch(caller, env);
        // KTP_CDS=prepare prints the archive last
        Path archive = Path.of(first.strip().lines().reduce((a, b) -> b).orElseThrow());
        assertTrue(archive.isAbsolute() && archive.startsWith(caller.resolve("cds")), first);
        assertTrue(Files.size(archive) > 0, first);
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of(), left.toList(), "the training start's folder is removed");
        }
        String second = launch(caller, env);
        assertTrue(first.contains("making the class-data archive"), first);
        assertFalse(second.contains("making the class-data archive"), "the archive is reused: " + second);
        assertTrue(second.contains(archive.toString()), second);
    }

    /** Runs the launcher in {@code dir} with only {@code env}; its output, once it ended with 0. */
    private String launch(Path dir, Map<String, String> env) throws Exception {
        Path out = work.resolve("launcher.out");
        ProcessBuilder pb = new ProcessBuilder("bash", LAUNCHER.toString()).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        Process p = pb.start();
        boolean ended = p.waitFor(60, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        String output = new String(Files.readAllBytes(out), StandardCharsets.UTF_8);
        assertTrue(ended, output);
        assertEquals(0, p.exitValue(), output);
        return output;
    }

    /** A jar whose main class returns at once: the training start then takes a second or two. */
    private Path jarThatDoesNothing() throws Exception {
        Path src = Files.writeString(Files.createDirectories(work.resolve("src")).resolve("Idle.java"),
                "public class Idle { public static void main(String[] args) { } }");
        Path classes = Files.createDirectories(work.resolve("classes"));
        assertEquals(0, ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(),
                src.toString()));
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "Idle");
        Path jar = work.resolve("idle.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
            out.putNextEntry(new JarEntry("Idle.class"));
            out.write(Files.readAllBytes(classes.resolve("Idle.class")));
            out.closeEntry();
        }
        return jar;
    }
}

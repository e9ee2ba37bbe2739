package id.ktpbridge.ingest;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files of the drop folder that Camel's read lock can never take (it looks for them under another
 * name, or finds nothing behind them): left out of the listing, so they neither hold a place among
 * the files a scan takes nor hide the files listed after them.
 */
class UntakeableFilesTest {

    /** The files one scan of the drop folder takes ({@code ktp.source.batch-size}, its default). */
    private static final int PER_SCAN = 32;

    @TempDir
    Path dataDir;

    @Test
    void filesWhoseNameTheJvmCannotDecodeDoNotHideTheFilesListedAfterThem() throws Exception {
        Path inbox = Files.createDirectories(dataDir.resolve("inbox"));
        List<String> good = arrangeAfter(inbox, 40, () -> {
            // Latin-1 names (the byte 0xE9), which Java cannot even write under a UTF-8 locale
            Process sh = new ProcessBuilder("sh", "-c", "i=0; while [ $i -lt 40 ]; do i=$((i+1));"
                    + " printf x > \"$(printf 'kartu-%d-\\351.jpg' $i)\"; done").directory(inbox.toFile())
                    .inheritIO().start();
            assertEquals(0, sh.waitFor());
        }, f -> !f.getFileName().toString().startsWith("u"));

        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == good.size());
            assertEquals(Set.copyOf(good), Results.bySourceFile(app.results()).keySet());
        }
    }

    @Test
    void symbolicLinksToNothingAndNamesWithABackslashAreLeftWithAWarningAndHideNothing() throws Exception {
        Path inbox = Files.createDirectories(dataDir.resolve("inbox"));
        List<String> good = arrangeAfter(inbox, 40, () -> {
            for (int i = 1; i <= 40; i++) {
                // a link whose target is gone
                Files.createSymbolicLink(inbox.resolve("k72" + i + ".png"), dataDir.resolve("gone-" + i + ".png"));
            }
            for (int i = 1; i <= 5; i++) {
                // a legal Linux name (an archive made on Windows, unpacked), with its sidecar
                Files.write(inbox.resolve("scans\\k71" + i + ".png"), SampleImages.card("k71" + i, "png"));
                Files.writeString(inbox.resolve("scans\\k71" + i + ".json"), "{\"partnerUserId\":\"k71" + i + "\"}");
            }
        }, Files::isSymbolicLink);

        try (LogCapture log = new LogCapture(); BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == good.size());
            assertEquals(Set.copyOf(good), Results.bySourceFile(app.results()).keySet());
            await().atMost(Duration.ofSeconds(10)).until(() -> log.text().contains("a file whose name has a backslash"
                    + " is left in the drop folder") && log.text().contains("a symbolic link to no file is left in the"
                    + " drop folder"));
            // one line a minute for each kind, not one per file and scan
            assertEquals(1, log.count("whose name has a backslash"), log.text());
            assertEquals(1, log.count("a symbolic link to no file"), log.text());
            // names are partner user ids by default (possibly a NIK)
            assertFalse(log.text().contains("k71") || log.text().contains("k72"), log.text());
            assertEquals(good.size(), app.sandbox().submissionCount(), "only the good images reached OneKYC");
        }
        for (int i = 1; i <= 5; i++) {
            assertTrue(Files.exists(inbox.resolve("scans\\k71" + i + ".png")), "left for an operator to rename");
            assertTrue(Files.exists(inbox.resolve("scans\\k71" + i + ".json")));
        }
        for (int i = 1; i <= 40; i++) {
            assertTrue(Files.isSymbolicLink(inbox.resolve("k72" + i + ".png")));
        }
    }

    @Test
    void aFileThatIsListedButCannotBeLookedAtIsLeftOutWithAWarningWithoutItsName() throws Exception {
        Path inbox = Files.createDirectories(dataDir.resolve("inbox"));
        Path good = Files.write(inbox.resolve("u7401.png"), new byte[] {1});
        Path refused = Files.write(inbox.resolve("k7402.png"), new byte[] {1});
        // a folder without its x bit, or a share refusing stat (EACCES): Camel's listing has it, File.exists
        // says false, and it was left without a word. Root looks at any file, so the refusal is the seam's
        UntakeableFiles filter = new UntakeableFiles("(?is).*\\.(jpe?g|png)", f -> true) {
            @Override
            protected java.nio.file.attribute.BasicFileAttributes attributes(Path file, LinkOption... options)
                    throws IOException {
                if (file.equals(refused)) {
                    throw new java.nio.file.AccessDeniedException(file.toString());
                }
                return super.attributes(file, options);
            }
        };
        try (LogCapture log = new LogCapture()) {
            for (int scan = 0; scan < 3; scan++) {
                assertTrue(filter.accept(listed(inbox, good)));
                assertFalse(filter.accept(listed(inbox, refused)));
            }
            // once a minute, with the reason and without the name (possibly a NIK)
            assertEquals(1, log.count("a file that is listed but cannot be looked at (AccessDeniedException) is left"
                    + " in the drop folder"), log.text());
            assertFalse(log.text().contains("k7402"), log.text());
        }
    }

    /** The file as Camel's file consumer lists it. */
    private static org.apache.camel.component.file.GenericFile<java.io.File> listed(Path inbox, Path file) {
        return org.apache.camel.component.file.FileConsumer.asGenericFile(inbox.toString(), file.toFile(), null,
                false);
    }

    private interface Untakeable {
        void make() throws Exception;
    }

    /**
     * Makes {@code count} untakeable entries with {@code untakeable}, and three good images that the
     * folder lists after at least a scan's worth of them (the order Camel's listing meets them
     * in, which the file system sets: by name hash, or as made). Candidates are written before and
     * after the untakeable ones; those listed too early are removed.
     */
    private static List<String> arrangeAfter(Path inbox, int count, Untakeable untakeable, Predicate<Path> isUntakeable)
            throws Exception {
        List<String> candidates = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            candidates.add(candidate(inbox, i));
        }
        untakeable.make();
        for (int i = 10; i < 80; i++) {
            candidates.add(candidate(inbox, i));
        }
        List<String> kept = new ArrayList<>();
        int before = 0;
        try (Stream<Path> listed = Files.list(inbox)) {
            for (Path entry : (Iterable<Path>) listed::iterator) {
                String name = entry.getFileName().toString();
                if (isUntakeable.test(entry)) {
                    before++;
                } else if (candidates.contains(name)) {
                    if (before >= PER_SCAN && kept.size() < 3) {
                        kept.add(name);
                    } else {
                        Files.delete(entry);
                    }
                }
            }
        }
        assertEquals(count, before, "the untakeable entries");
        assertEquals(3, kept.size(), "good images listed after " + PER_SCAN + " untakeable entries");
        return kept;
    }

    private static String candidate(Path inbox, int i) throws IOException {
        String name = "u73" + String.format("%02d", i) + ".png";
        Files.write(inbox.resolve(name), SampleImages.card(name, "png"));
        assertTrue(Files.isRegularFile(inbox.resolve(name), LinkOption.NOFOLLOW_LINKS));
        return name;
    }
}

package id.ktpbridge.ledger;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * An H2 file left by killed writers whose transactions see different rows, kept as a test resource
 * ({@code h2-unclean-stop/ledger.mv.db.gz}, see the README beside it), so the rebuild of such a file
 * is tested on every run: the kill loop that makes one ({@link H2UncleanStopTest#killWritersUntilViewsDiffer})
 * finds one in most runs only. {@link #main} makes it again; the suite never runs it.
 */
public final class H2UncleanStopFixture {

    static final String RESOURCE = "h2-unclean-stop/ledger.mv.db.gz";
    /** What the saved file's transactions see ({@link H2UncleanStopTest#views}): rows/rows RECEIVED. */
    static final Set<String> VIEWS = Set.of("82/6", "82/5", "81/5", "83/7");
    /** What the last of them sees, numbered above every transaction the writer had open. */
    static final String COMMITTED = "82/6";
    /** A file kept in the repository is small: one from a kill or two after the first, not from ten. */
    private static final long MAX_PACKED = 64 << 10;

    private H2UncleanStopFixture() {
    }

    /** The saved file, as {@code ledger.mv.db} in {@code dir}. */
    static void unpack(Path dir) throws IOException {
        try (InputStream packed = H2UncleanStopFixture.class.getResourceAsStream(RESOURCE)) {
            if (packed == null) {
                throw new IOException("no test resource " + RESOURCE);
            }
            try (InputStream in = new GZIPInputStream(packed)) {
                Files.copy(in, dir.resolve("ledger.mv.db"));
            }
        }
    }

    /**
     * Kills writers (15 at a time on a new file, as the test does) until a file's transactions see
     * different rows and it packs into 64 KB (most do after a few tries), and saves it in the folder
     * given (by default the test resources'). From the project's folder:
     * <pre>
     * mvn -q -o test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/cp.txt
     * java -cp target/test-classes:target/classes:$(cat target/cp.txt) id.ktpbridge.ledger.H2UncleanStopFixture
     * </pre>
     * It prints the views to put in {@link #VIEWS}, {@link #COMMITTED} and the README.
     */
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "src/test/resources/id/ktpbridge/ledger/h2-unclean-stop");
        for (int round = 1; ; round++) {
            Path dir = Files.createTempDirectory("h2-unclean-stop");
            try {
                H2UncleanStopTest.Kills kills = H2UncleanStopTest.killWritersUntilViewsDiffer(dir, 15,
                        new Random(round));
                List<String> views = kills.views();
                Path packed = dir.resolve("ledger.mv.db.gz");
                try (OutputStream to = new GZIPOutputStream(Files.newOutputStream(packed))) {
                    Files.copy(dir.resolve("ledger.mv.db"), to);
                }
                String made = "round " + round + ", kill " + kills.count() + ": "
                        + Files.size(dir.resolve("ledger.mv.db")) + " bytes (" + Files.size(packed) + " packed), views " + views;
                if (Set.copyOf(views).size() < 2 || Files.size(packed) > MAX_PACKED) {
                    System.out.println(made + ": not kept");
                    continue;
                }
                Files.createDirectories(out);
                Files.copy(packed, out.resolve("ledger.mv.db.gz"), StandardCopyOption.REPLACE_EXISTING);
                System.out.println(made + ", the last one committed: kept");
                return;
            } finally {
                delete(dir);
            }
        }
    }

    private static void delete(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}

package id.ktpbridge.ingest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiPredicate;
import java.util.stream.Stream;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.spi.InflightRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The copies of inputs the bundle keeps on its own disk while it works on them: the spool copy
 * of each input ({@code <data-dir>/spool/<id>.img}, written by the intake) and Camel's SFTP
 * downloads ({@code ktp.source.sftp.work-dir}). Each lives until its input's exchange ends, and
 * is deleted then; one left by a process that died (kill -9, out of memory, a lost node) would
 * stay for ever, with a KTP image in it. {@link #removeLeftovers} deletes those.
 *
 * <p>A single instance does so at its start, before its routes run: every copy there is a dead
 * run's. Instances sharing the data folder (cluster mode) cannot tell a dead instance's copy from
 * a live one's by its name, so there only copies untouched for {@code ktp.source.claim-ttl} go,
 * and every live instance refreshes the modification time of the copies its exchanges hold
 * ({@link #touchInUse}) with its claims, every third of that time: an input may be under way
 * for longer than the claim time to live (its claims are renewed), and its copy with it.
 */
public final class LocalCopies {

    /** Exchange property: the spool copy of the exchange's input (set by the intake). */
    public static final String SPOOL_COPY = "KtpSpoolCopy";

    private static final Logger LOG = LoggerFactory.getLogger(LocalCopies.class);

    private final Path spoolDir;
    /** Null when the folder set holds other folders of the bundle (see the constructor). */
    private final Path workDir;
    private final Clock clock;

    /**
     * @param workDir the SFTP work folder; its files are all the bundle's downloads, so it is left
     *     alone when it holds another folder of the bundle ({@code others}: data, drop, done...),
     *     whose files are no copies
     */
    public LocalCopies(Path spoolDir, Path workDir, List<Path> others, Clock clock) {
        this.spoolDir = spoolDir.toAbsolutePath().normalize();
        Path work = workDir.toAbsolutePath().normalize();
        Path inside = others.stream().map(p -> p.toAbsolutePath().normalize()).filter(p -> p.startsWith(work))
                .findFirst().orElse(null);
        if (inside != null) {
            LOG.warn("ktp.source.sftp.work-dir ({}) holds another folder of the bundle ({}): downloads left there by"
                    + " a stopped run are not deleted; give the SFTP downloads a folder of their own", work, inside);
        }
        this.workDir = inside == null ? work : null;
        this.clock = clock;
    }

    /**
     * Deletes the copies left by earlier runs: {@code *.img} in the spool folder, every file in the
     * SFTP work folder (sub-folders included; the folders stay), those modified at least
     * {@code olderThan} ago ({@link Duration#ZERO}: all). Logs the count, never a name (names may hold
     * partner user ids).
     *
     * @return how many were deleted
     */
    public int removeLeftovers(Duration olderThan) {
        long before = olderThan.isZero() ? Long.MAX_VALUE : clock.millis() - olderThan.toMillis();
        AtomicInteger failed = new AtomicInteger();
        int removed = remove(spoolDir, false, (p, a) -> p.getFileName().toString().endsWith(".img"), before, failed);
        if (workDir != null) {
            removed += remove(workDir, true, (p, a) -> true, before, failed);
        }
        if (removed > 0) {
            LOG.info("{} local copies of inputs left by a stopped run deleted (spool and SFTP work folders)", removed);
        }
        if (failed.get() > 0) {
            LOG.warn("{} local copies of inputs left by a stopped run could not be deleted (spool and SFTP work"
                    + " folders); tried again at the next start", failed.get());
        }
        return removed;
    }

    private static int remove(Path dir, boolean below, BiPredicate<Path, BasicFileAttributes> copy, long before,
                              AtomicInteger failed) {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        int removed = 0;
        try (Stream<Path> files = Files.find(dir, below ? Integer.MAX_VALUE : 1, (p, a) -> a.isRegularFile()
                && copy.test(p, a) && a.lastModifiedTime().toMillis() <= before)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                try {
                    if (Files.deleteIfExists(file)) {
                        removed++;
                    }
                } catch (IOException e) {
                    failed.incrementAndGet();
                }
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            // a folder that cannot be listed: what could be deleted is, the rest waits for the next time
            failed.incrementAndGet();
        }
        return removed;
    }

    /**
     * Marks the copies of the inputs this instance's exchanges hold as in use (their modification
     * time set to now), so another instance's {@link #removeLeftovers} leaves them alone. Needs
     * Camel's in-flight browsing ({@link #trackInUse}).
     */
    public void touchInUse(CamelContext context) {
        FileTime now = FileTime.fromMillis(clock.millis());
        for (InflightRepository.InflightExchange inflight : context.getInflightRepository().browse()) {
            Exchange exchange = inflight.getExchange();
            touch(exchange.getProperty(SPOOL_COPY, Path.class), now);
            String work;
            try {
                // read beside the worker that may be setting headers: a miss is made good a third of a ttl later
                work = exchange.getMessage().getHeader(Exchange.FILE_LOCAL_WORK_PATH, String.class);
            } catch (RuntimeException e) {
                continue;
            }
            if (work != null) {
                touch(Path.of(work), now);
            }
        }
    }

    /** Lets {@link #touchInUse} see the exchanges in flight (Camel keeps no list of them otherwise). */
    public static void trackInUse(CamelContext context) {
        context.getInflightRepository().setInflightBrowseEnabled(true);
    }

    private static void touch(Path copy, FileTime now) {
        if (copy == null) {
            return;
        }
        try {
            Files.setLastModifiedTime(copy, now);
        } catch (IOException e) {
            // gone meanwhile (its exchange ended), or not written yet
        }
    }
}

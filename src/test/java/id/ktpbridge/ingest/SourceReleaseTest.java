package id.ktpbridge.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.SQLTransientConnectionException;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerException;
import id.ktpbridge.submit.WorkItem;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.spi.Synchronization;
import org.apache.camel.support.DefaultExchange;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.Test;

/** The note that a source let go of an input, written once the exchange is done. */
class SourceReleaseTest {

    private final AtomicInteger tries = new AtomicInteger();
    private final AtomicInteger failFirst = new AtomicInteger();

    /** Counts the notes; the first {@link #failFirst} fail as if the database were restarting. */
    private final Ledger ledger = new Ledger(
            JdbcConnectionPool.create("jdbc:h2:mem:release-" + UUID.randomUUID(), "sa", "")) {
        @Override
        public void markReleased(String id) {
            tries.incrementAndGet();
            if (failFirst.getAndDecrement() > 0) {
                throw new LedgerException(new SQLTransientConnectionException("connection lost"));
            }
        }
    };

    @Test
    void aNoteTheLedgerRefusesForAMomentIsWrittenOnALaterTry() {
        failFirst.set(2);
        done(new SourceRelease(ledger, 6, 10), true, false);
        assertEquals(3, tries.get(), "two refusals, then written");
    }

    @Test
    void retriesEndAfterTheConfiguredNumber() {
        failFirst.set(100);
        done(new SourceRelease(ledger, 3, 1), true, false);
        assertEquals(4, tries.get(), "one try and three retries");
    }

    @Test
    void nothingIsNotedForAnInputTheSourceStillHolds() {
        // failed, and nobody moved it (it stays in its source for another attempt)
        done(new SourceRelease(ledger, 6, 10), false, true);
        assertEquals(0, tries.get());
    }

    @Test
    void aMovedFileWhoseNameANewFileTookAtOnceIsLetGo(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path inbox = java.nio.file.Files.createDirectories(dir.resolve("inbox"));
        java.nio.file.Path done = java.nio.file.Files.createDirectories(dir.resolve("done"));
        java.nio.file.Path file = java.nio.file.Files.write(inbox.resolve("scan.png"), new byte[] {1, 2, 3});

        // moved to done as the consumer does, and a scanner writes the next image under the name at once
        Exchange moved = fileExchange(file);
        java.nio.file.Files.move(file, done.resolve("scan.png"));
        java.nio.file.Files.write(file, new byte[] {4, 5, 6, 7});
        complete(new SourceRelease(ledger, 6, 10), moved);
        assertEquals(1, tries.get(), "the input's own file was moved: let go");

        // a move the file system refused: the same file stays, not let go
        Exchange refused = fileExchange(file);
        complete(new SourceRelease(ledger, 6, 10), refused);
        assertEquals(1, tries.get(), "still there: not let go");

        // refused, with another file key there now (copied over with the same bytes, a mount's made-up
        // inode numbers): the refusal says it stays
        Exchange refusedOther = fileExchange(file);
        java.nio.file.Path copy = java.nio.file.Files.write(dir.resolve("copy.png"), new byte[] {4, 5, 6, 7});
        java.nio.file.Files.move(copy, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        refusedOther.setProperty(SourceMoveRefusals.KEPT, true);
        complete(new SourceRelease(ledger, 6, 10), refusedOther);
        assertEquals(1, tries.get(), "its move refused: not let go");
    }

    /** A file input taken and read, as the file drop's are: its stamp from the file's attributes. */
    private static Exchange fileExchange(java.nio.file.Path file) throws java.io.IOException {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.getMessage().setHeader(InputHeaders.SOURCE_TYPE, "file");
        exchange.getMessage().setHeader("CamelFileAbsolutePath", file.toString());
        exchange.setProperty(WorkItem.LEDGER_ID, "ledger-1");
        SourceStamp.take(exchange, file, java.nio.file.Files.readAttributes(file,
                java.nio.file.attribute.BasicFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS));
        return exchange;
    }

    private static void complete(SourceRelease release, Exchange exchange) {
        release.track(exchange);
        for (Synchronization s : exchange.getExchangeExtension().handoverCompletions()) {
            s.onComplete(exchange);
        }
    }

    private static void done(SourceRelease release, boolean letGo, boolean failed) {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.getMessage().setHeader(InputHeaders.SOURCE_TYPE, "s3");
        exchange.setProperty(WorkItem.LEDGER_ID, "ledger-1");
        release.track(exchange);
        if (letGo) {
            SourceRelease.letGo(exchange);
        }
        if (failed) {
            exchange.setException(new IllegalStateException("stopping"));
        }
        List<Synchronization> completions = exchange.getExchangeExtension().handoverCompletions();
        for (Synchronization s : completions) {
            if (failed) {
                s.onFailure(exchange);
            } else {
                s.onComplete(exchange);
            }
        }
    }
}

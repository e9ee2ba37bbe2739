package id.ktpbridge.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DurableFlushTest {

    @TempDir
    Path dir;

    @Test
    void aFlushWithNothingNewWritesNothing() throws Exception {
        DataSources.Pool pool = DataSources.create("jdbc:h2:file:" + dir.resolve("db"), "sa", "", 4, "flush-test");
        try {
            DurableFlush flush = DurableFlush.of(pool.dataSource());
            flush.flush();
            assertEquals(0, flush.checkpoints(), "no write yet, nothing to flush");

            write(pool, 1);
            flush.written();
            flush.flush();
            flush.flush();
            assertEquals(1, flush.checkpoints(), "the second flush found its write already covered");
        } finally {
            pool.closer().close();
        }
    }

    @Test
    void oneCheckpointCoversTheWritesOfEveryThread() throws Exception {
        DataSources.Pool pool = DataSources.create("jdbc:h2:file:" + dir.resolve("db"), "sa", "", 16, "flush-test");
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            DurableFlush flush = DurableFlush.of(pool.dataSource());
            for (int n = 0; n < 8; n++) {
                write(pool, n);
                flush.written();
            }
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                done.add(threads.submit(() -> {
                    start.await();
                    flush.flush();
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get();
            }
            assertEquals(1, flush.checkpoints(), "the first flush covered all eight writes; the others waited for it");
        } finally {
            threads.shutdownNow();
            pool.closer().close();
        }
    }

    private static void write(DataSources.Pool pool, int n) throws Exception {
        try (Connection c = pool.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS t (n INT PRIMARY KEY)");
            st.execute("MERGE INTO t KEY (n) VALUES (" + n + ")");
        }
    }
}

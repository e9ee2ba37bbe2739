package id.ktpbridge.submit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;

class SubmissionWorkersTest {

    @Test
    void runsExactlyTheConfiguredNumberAtOnceAndMakesTheSourceWaitForRoom() throws Exception {
        try (DefaultCamelContext context = new DefaultCamelContext()) {
            context.start();
            ExecutorService workers = SubmissionWorkers.create(context, 2, 1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicInteger running = new AtomicInteger();
            AtomicInteger mostAtOnce = new AtomicInteger();
            AtomicInteger done = new AtomicInteger();
            Runnable task = () -> {
                mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    running.decrementAndGet();
                    done.incrementAndGet();
                }
            };
            // a "source" hands over five inputs: two run, one waits in the queue, the fourth must block
            AtomicInteger handedOver = new AtomicInteger();
            Thread source = new Thread(() -> {
                for (int i = 0; i < 5; i++) {
                    workers.execute(task);
                    handedOver.incrementAndGet();
                }
            });
            source.start();
            // no fixed pause: on a loaded machine the workers may take long to start; wait until both run
            // and the source has parked, then check it parked on the fourth input and not later
            await().atMost(Duration.ofSeconds(30)).until(() -> running.get() == 2 && handedOver.get() >= 3
                    && source.getState() == Thread.State.WAITING);
            assertTrue(source.isAlive(), "the source waits while both workers are busy and the queue is full");
            assertEquals(3, handedOver.get());
            assertEquals(2, running.get());

            release.countDown();
            source.join(5_000);
            assertFalse(source.isAlive());
            workers.shutdown();
            assertTrue(workers.awaitTermination(5, TimeUnit.SECONDS));
            assertEquals(5, done.get(), "every input handed over ran");
            assertEquals(2, mostAtOnce.get(), "never more than ktp.concurrency at once");
        }
    }

    @Test
    void refusesWorkOnceShutDown() throws Exception {
        try (DefaultCamelContext context = new DefaultCamelContext()) {
            context.start();
            ExecutorService workers = SubmissionWorkers.create(context, 1, 1);
            workers.shutdown();
            assertThrows(RejectedExecutionException.class, () -> workers.execute(() -> { }));
        }
    }

    @Test
    void aConcurrencyBelowOneIsRefusedWithTheSettingsName() throws Exception {
        try (DefaultCamelContext context = new DefaultCamelContext()) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> SubmissionWorkers.create(context, 0, 1));
            assertTrue(e.getMessage().contains("ktp.concurrency"));
        }
    }
}

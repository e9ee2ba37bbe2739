package id.ktpbridge.submit;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.RejectedExecutionHandler;
import java.util.concurrent.ThreadPoolExecutor;

import org.apache.camel.CamelContext;
import org.apache.camel.spi.ThreadPoolProfile;
import org.apache.camel.support.DefaultThreadPoolFactory;

/**
 * The threads every source hands its inputs to ({@code threads} in the ingest routes): exactly
 * {@code ktp.concurrency} submissions run at once, whichever sources the inputs come from, and a
 * few more wait in a short queue. A source that finds the queue full waits for room instead of
 * running the input on its own thread (which would make one more submission than configured) or
 * claiming more inputs than it can start soon (which would keep them from other instances).
 */
public final class SubmissionWorkers {

    private SubmissionWorkers() {
    }

    public static ExecutorService create(CamelContext context, int concurrency, int queueSize) {
        if (concurrency < 1) {
            throw new IllegalStateException("ktp.concurrency must be at least 1, not " + concurrency);
        }
        ThreadPoolProfile profile = new ThreadPoolProfile("ktp-submit");
        profile.setPoolSize(concurrency);
        profile.setMaxPoolSize(concurrency);
        profile.setMaxQueueSize(Math.max(1, queueSize));
        ExecutorService pool = context.getExecutorServiceManager().newThreadPool(SubmissionWorkers.class, "ktp-submit",
                profile);
        if (!(pool instanceof ThreadPoolExecutor executor)) {
            throw new IllegalStateException("Camel's thread pool factory did not return a ThreadPoolExecutor ("
                    + pool.getClass().getName() + "); " + DefaultThreadPoolFactory.class.getSimpleName() + " does");
        }
        executor.setRejectedExecutionHandler(new WaitForRoom());
        return executor;
    }

    /** Blocks the submitting source thread until the queue has room; refuses once the pool shuts down. */
    static final class WaitForRoom implements RejectedExecutionHandler {

        @Override
        public void rejectedExecution(Runnable task, ThreadPoolExecutor executor) {
            if (executor.isShutdown()) {
                throw new RejectedExecutionException("the submission workers are shutting down");
            }
            try {
                executor.getQueue().put(task);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RejectedExecutionException("interrupted while waiting for a free submission worker", e);
            }
        }
    }
}

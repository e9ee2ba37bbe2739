package id.ktpbridge.ledger;

import java.util.function.BiConsumer;

/**
 * Runs a ledger write that is safe to repeat, trying it again while it fails for a passing reason
 * ({@link LedgerException#isTransient}: a restart or failover of the database), the wait doubling
 * from {@code ktp.db.retry-delay} up to {@link LedgerException#MAX_RETRY_DELAY_MILLIS}.
 */
public final class LedgerRetries {

    private LedgerRetries() {
    }

    /**
     * @param retries  tries after the first ({@code ktp.db.retry-attempts})
     * @param onRetry  told of each failure that is tried again, and the wait before the next try
     * @throws LedgerException the failure that ended the tries: one that does not pass, the last one, or
     *                         the one during whose wait the thread was interrupted
     */
    public static void run(Runnable write, int retries, long firstDelayMillis,
                           BiConsumer<LedgerException, Long> onRetry) {
        long wait = firstDelayMillis;
        for (int attempt = 0; ; attempt++) {
            try {
                write.run();
                return;
            } catch (LedgerException e) {
                if (!e.isTransient() || attempt >= retries) {
                    throw e;
                }
                onRetry.accept(e, wait);
                try {
                    Thread.sleep(wait);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                wait = Math.min(wait * 2, LedgerException.MAX_RETRY_DELAY_MILLIS);
            }
        }
    }
}

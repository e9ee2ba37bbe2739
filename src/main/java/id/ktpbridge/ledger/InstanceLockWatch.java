package id.ktpbridge.ledger;

import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.camel.CamelContext;
import org.apache.camel.support.service.ServiceSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds an {@link InstanceLock} while Camel runs: checks it every so often (taking it again after
 * a lost connection) and lets it go at stop. When another instance has taken it meanwhile, that
 * instance has released this one's claims, so this one must stop: {@code onTakenByAnother} runs.
 */
public final class InstanceLockWatch extends ServiceSupport {

    private static final Logger LOG = LoggerFactory.getLogger(InstanceLockWatch.class);

    private final CamelContext context;
    private final InstanceLock lock;
    private final long everyMillis;
    private final Runnable onTakenByAnother;
    private ScheduledExecutorService checks;
    private boolean unchecked;

    public InstanceLockWatch(CamelContext context, InstanceLock lock, Duration every, Runnable onTakenByAnother) {
        this.context = context;
        this.lock = lock;
        this.everyMillis = Math.max(100, every.toMillis());
        this.onTakenByAnother = onTakenByAnother;
    }

    @Override
    protected void doStart() {
        checks = context.getExecutorServiceManager().newSingleThreadScheduledExecutor(this, "ktp-instance-lock");
        checks.scheduleWithFixedDelay(this::check, everyMillis, everyMillis, TimeUnit.MILLISECONDS);
    }

    private void check() {
        try {
            if (!lock.stillHeld()) {
                LOG.error("Stopping: {}", lock.refusal());
                checks.shutdown();
                onTakenByAnother.run();
            } else if (unchecked) {
                unchecked = false;
                LOG.info("The ledger's instance lock is held again");
            }
        } catch (SQLException | RuntimeException e) {
            // once per outage: the ledger's own errors say the rest
            if (!unchecked) {
                unchecked = true;
                LOG.warn("The ledger's instance lock could not be checked ({}); trying again every {} ms",
                        e.getClass().getSimpleName(), everyMillis);
            }
        }
    }

    @Override
    protected void doStop() {
        if (checks != null) {
            context.getExecutorServiceManager().shutdownNow(checks);
            checks = null;
        }
        lock.close();
    }

    @Override
    protected void doShutdown() {
        // also when Camel never started (a setting refused after the lock was taken)
        lock.close();
    }
}

-- The rows Quartz locks before it changes its tables. Quartz inserts a missing one when it first
-- needs it; two instances of a new cluster starting together could both insert it, and on
-- PostgreSQL the loser's transaction is then spoiled for Quartz's own retries. Present from the
-- start, there is nothing to insert. The scheduler name is ClusteredQuartz.SCHEDULER_NAME.
INSERT INTO qrtz_locks (sched_name, lock_name)
    SELECT 'ktp-scan-bridge', 'TRIGGER_ACCESS' WHERE NOT EXISTS
        (SELECT 1 FROM qrtz_locks WHERE sched_name = 'ktp-scan-bridge' AND lock_name = 'TRIGGER_ACCESS');
INSERT INTO qrtz_locks (sched_name, lock_name)
    SELECT 'ktp-scan-bridge', 'STATE_ACCESS' WHERE NOT EXISTS
        (SELECT 1 FROM qrtz_locks WHERE sched_name = 'ktp-scan-bridge' AND lock_name = 'STATE_ACCESS');

-- When the current run of passing failures (outage, throttling) of an input before its confirm
-- began; cleared when the input gets a step further. Kept here rather than in one process's
-- memory, so ktp.submit.retry-window counts on across a restart and across the instances of a
-- cluster that take the input in turn.
ALTER TABLE ktp_submission ADD COLUMN IF NOT EXISTS deferred_since BIGINT;

-- The passing failures (outage, throttling) an input before its confirm was left in its source
-- for: when the current run of them began and when the last one was. Kept here rather than in one
-- process's memory, so ktp.submit.retry-window counts on across a restart and across the
-- instances of a cluster that take the input in turn.
ALTER TABLE ktp_submission ADD COLUMN IF NOT EXISTS deferred_since BIGINT;
ALTER TABLE ktp_submission ADD COLUMN IF NOT EXISTS deferred_at BIGINT;

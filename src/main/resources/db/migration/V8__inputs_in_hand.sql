-- In a cluster, the instance whose worker has an input in hand, and until when (renewed with its
-- input claims). Another instance meeting the same input again (its file or object put again with
-- the same bytes, so listed as a new version under a claim of its own) leaves it while the hold
-- lasts, instead of presigning and confirming a second submission for the same row.
ALTER TABLE ktp_submission ADD COLUMN IF NOT EXISTS worker VARCHAR(200);
ALTER TABLE ktp_submission ADD COLUMN IF NOT EXISTS worker_until BIGINT;

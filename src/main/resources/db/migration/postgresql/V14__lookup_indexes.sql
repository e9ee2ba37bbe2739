-- As ../V14__lookup_indexes.sql (read it for why), in PostgreSQL's syntax: a generated column is
-- STORED there. Adding it rewrites the table once.
ALTER TABLE ktp_submission ADD COLUMN IF NOT EXISTS source_ref_tail VARCHAR(255)
    GENERATED ALWAYS AS (RIGHT(source_ref, 255)) STORED;

CREATE INDEX IF NOT EXISTS ix_ktp_submission_source_ref_tail ON ktp_submission (source_ref_tail);

CREATE INDEX IF NOT EXISTS ix_ktp_processed_input_confirmed ON ktp_processed_input (confirmed_at, created_at);

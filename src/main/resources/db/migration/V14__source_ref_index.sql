-- Looks at the inputs of one source reference: an input rejected before its bytes were read (too
-- large, a link, unreadable) against the row already there, and the sweep's search for inputs
-- whose file was replaced. Without an index each was a scan of the whole table.
CREATE INDEX IF NOT EXISTS ix_ktp_submission_source_ref ON ktp_submission (source_ref);

-- A batch run's summary and the progress line cover the inputs taken since a moment and those of
-- earlier runs that got their result since (delivered_at): the second half needs its own index.
CREATE INDEX IF NOT EXISTS ix_ktp_submission_delivered ON ktp_submission (delivered_at);

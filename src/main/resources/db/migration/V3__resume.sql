-- What a restart needs to resume an upload with the same submission: the presigned URL of the
-- primary document and when it expires (epoch ms). The URL is a credential: it lives here only.
ALTER TABLE ktp_submission ADD COLUMN IF NOT EXISTS upload_url VARCHAR(8192);
ALTER TABLE ktp_submission ADD COLUMN IF NOT EXISTS upload_url_expires_at BIGINT;
CREATE INDEX IF NOT EXISTS ix_ktp_submission_sha ON ktp_submission (source_sha256);

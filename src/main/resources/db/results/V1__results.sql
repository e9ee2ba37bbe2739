-- Results table of the JDBC target: one row per submission, upserted by submission_id.
-- submission_id holds the OneKYC submission id, or local-<ledger id> for inputs that never got one.
CREATE TABLE IF NOT EXISTS ktp_result (
    submission_id        VARCHAR(128)  NOT NULL PRIMARY KEY,
    ledger_id            VARCHAR(36)   NOT NULL,
    partner_user_id      VARCHAR(256),
    partner_user_id_type VARCHAR(128),
    status               VARCHAR(16)   NOT NULL,
    result               VARCHAR(16),
    reason_code          VARCHAR(64),
    source_type          VARCHAR(16),
    source_file          VARCHAR(1024),
    source_sha256        VARCHAR(64),
    received_via         VARCHAR(16),
    submitted_at         VARCHAR(40),
    completed_at         VARCHAR(40),
    document             VARCHAR(1000000) NOT NULL,
    updated_at           BIGINT        NOT NULL
);

CREATE INDEX IF NOT EXISTS ix_ktp_result_partner_user ON ktp_result (partner_user_id);

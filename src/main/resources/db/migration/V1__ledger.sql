-- One row per input the bundle has seen. Times are epoch milliseconds (portable across H2 and PostgreSQL).
CREATE TABLE IF NOT EXISTS ktp_submission (
    id                   VARCHAR(36)   NOT NULL PRIMARY KEY,
    source_type          VARCHAR(16)   NOT NULL,
    source_ref           VARCHAR(2048) NOT NULL,
    source_file          VARCHAR(1024) NOT NULL,
    source_sha256        VARCHAR(64),
    source_size          BIGINT,
    content_type         VARCHAR(32),
    onboarding_partner   VARCHAR(128),
    partner_user_id      VARCHAR(256),
    partner_user_id_type VARCHAR(128),
    partner_session_id   VARCHAR(64)   NOT NULL,
    sdk_session_id       VARCHAR(64)   NOT NULL,
    submission_id        VARCHAR(128),
    state                VARCHAR(16)   NOT NULL,
    reason_code          VARCHAR(64),
    error_message        VARCHAR(2048),
    confirm_metadata     VARCHAR(65536),
    callback_at          BIGINT,
    received_via         VARCHAR(16),
    claimed_at           BIGINT,
    poll_attempts        INT           DEFAULT 0 NOT NULL,
    next_poll_at         BIGINT,
    deadline_at          BIGINT,
    submitted_at         BIGINT,
    completed_at         BIGINT,
    result_status        VARCHAR(16),
    result               VARCHAR(16),
    result_json          VARCHAR(1000000),
    delivered_at         BIGINT,
    created_at           BIGINT        NOT NULL,
    updated_at           BIGINT        NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS ux_ktp_submission_submission_id ON ktp_submission (submission_id);
CREATE INDEX IF NOT EXISTS ix_ktp_submission_poll ON ktp_submission (state, next_poll_at);
CREATE INDEX IF NOT EXISTS ix_ktp_submission_created ON ktp_submission (created_at);

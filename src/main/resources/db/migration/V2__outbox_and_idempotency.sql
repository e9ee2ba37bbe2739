-- Inputs a source has already taken (idempotent consumers), kept across restarts.
CREATE TABLE IF NOT EXISTS ktp_processed_input (
    repository  VARCHAR(64)   NOT NULL,
    input_key   VARCHAR(1024) NOT NULL,
    created_at  BIGINT        NOT NULL,
    PRIMARY KEY (repository, input_key)
);

-- The outbox: one row per result and target, retried until delivered (or refused for good).
CREATE TABLE IF NOT EXISTS ktp_delivery (
    ledger_id        VARCHAR(36)   NOT NULL,
    target           VARCHAR(32)   NOT NULL,
    state            VARCHAR(16)   NOT NULL,
    attempts         INT           DEFAULT 0 NOT NULL,
    next_attempt_at  BIGINT,
    last_error       VARCHAR(2048),
    delivered_at     BIGINT,
    updated_at       BIGINT        NOT NULL,
    PRIMARY KEY (ledger_id, target)
);

CREATE INDEX IF NOT EXISTS ix_ktp_delivery_due ON ktp_delivery (state, next_attempt_at);

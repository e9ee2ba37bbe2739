-- An input key without confirmed_at is a claim in progress: it expires, so a crashed holder's
-- inputs are taken again. With confirmed_at it is remembered for good.
-- The owner is the instance that claimed it: only the owner may drop its claim.
ALTER TABLE ktp_processed_input ADD COLUMN IF NOT EXISTS confirmed_at BIGINT;
ALTER TABLE ktp_processed_input ADD COLUMN IF NOT EXISTS owner VARCHAR(128);

-- Leases: one holder at a time per name (e.g. the poll tick across a cluster).
CREATE TABLE IF NOT EXISTS ktp_lease (
    name        VARCHAR(64)  NOT NULL PRIMARY KEY,
    holder      VARCHAR(128) NOT NULL,
    held_until  BIGINT       NOT NULL
);

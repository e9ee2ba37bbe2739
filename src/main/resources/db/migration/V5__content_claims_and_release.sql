-- When the source let go of the input (moved it to done/failed, or deleted it). Until then the
-- same file met again is the same input, resumed or skipped; after it, the same bytes under the
-- same name are a new drop.
ALTER TABLE ktp_submission ADD COLUMN IF NOT EXISTS source_released_at BIGINT;

-- inputs that ended before this column existed count as let go of: their sources moved them,
-- except the few whose move was refused, which are then taken again as new inputs
UPDATE ktp_submission SET source_released_at = updated_at
WHERE source_released_at IS NULL AND state IN ('DELIVERED', 'REJECTED', 'FAILED');

-- One submission per image content (ktp.source.dedupe=content): the ledger row that holds the
-- content. The primary key makes two inputs with the same bytes taken at the same moment, by
-- two workers or two instances, meet here: only one of them gets the claim.
CREATE TABLE IF NOT EXISTS ktp_content_claim (
    source_sha256  VARCHAR(64)  NOT NULL PRIMARY KEY,
    ledger_id      VARCHAR(36)  NOT NULL,
    claimed_at     BIGINT       NOT NULL
);

-- contents already submitted before this table existed keep their claim
INSERT INTO ktp_content_claim (source_sha256, ledger_id, claimed_at)
SELECT s.source_sha256, MIN(s.id), MIN(s.created_at) FROM ktp_submission s
WHERE s.source_sha256 IS NOT NULL AND s.state NOT IN ('REJECTED', 'FAILED')
  AND NOT EXISTS (SELECT 1 FROM ktp_content_claim c WHERE c.source_sha256 = s.source_sha256)
GROUP BY s.source_sha256;

-- The token of the claim on a submission's outcome (COLLECTING), drawn at random by the claimant:
-- claimed_at stays the claim's time, for the stale-claim sweep, but two instances claiming in the
-- same millisecond had the same token and could each take the other's claim for their own.
ALTER TABLE ktp_submission ADD COLUMN IF NOT EXISTS claim_token BIGINT;

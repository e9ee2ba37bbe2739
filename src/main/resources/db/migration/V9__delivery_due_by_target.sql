-- Each target's retry pass asks for its own due rows: with the index on (state, next_attempt_at)
-- alone, one target's backlog (an HTTP target down for a day) was read through by every other
-- target's pass, several times a second.
CREATE INDEX IF NOT EXISTS ix_ktp_delivery_target_due ON ktp_delivery (target, state, next_attempt_at);

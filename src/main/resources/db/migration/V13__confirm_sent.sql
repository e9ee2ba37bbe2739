-- When a confirm of the row's current submission was last about to be sent, cleared when an answer
-- said it was not applied (refused for now, never sent) or the submission changes. A row resumed
-- UPLOADED with it set may have been confirmed by a process killed before the answer came: a
-- refusal of its next confirm does not fail it, the poller settles it. Rows uploaded before this
-- version have none (taken as not sent, as before).
ALTER TABLE ktp_submission ADD COLUMN IF NOT EXISTS confirm_sent_at BIGINT;

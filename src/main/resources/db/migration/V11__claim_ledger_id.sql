-- The input a confirmed claim settled (its ledger row), where the source names it (SFTP). A process
-- killed between the confirm and the move of the file leaves a confirmed claim on a file still in
-- its folder; the row, not yet let go of by its source, tells a later listing to take the file again
-- and move it, without a second submission.
ALTER TABLE ktp_processed_input ADD COLUMN IF NOT EXISTS ledger_id VARCHAR(36);

-- The last 255 characters of source_ref, indexed: the look-ups of one source reference (the row an
-- input rejected before its bytes were read belongs to, the inputs its new bytes replace, the
-- sweep's search for replaced inputs) read the few rows whose reference ends alike instead of the
-- whole table, and still compare source_ref itself. Not an index on source_ref: it holds 2,048
-- characters, and PostgreSQL refuses an index entry past about 2.7 KB (255 characters are 1,020
-- bytes at most). The code writes it with each new row (Ledger.insert), computed by the database
-- as here: H2 counts characters in UTF-16 units, PostgreSQL in code points, and a row written now
-- must get the tail an earlier row of the same reference got.
ALTER TABLE ktp_submission ADD COLUMN IF NOT EXISTS source_ref_tail VARCHAR(255);

-- only the rows these look-ups can meet: those their source has not let go of, and the others at
-- their references (a replaced input's newer one), found through the index once it is built. An
-- ended, let-go row is looked up by reference no more, and writing every row of a large ledger
-- would hold the start for minutes
UPDATE ktp_submission SET source_ref_tail = RIGHT(source_ref, 255) WHERE source_released_at IS NULL;

CREATE INDEX IF NOT EXISTS ix_ktp_submission_source_ref_tail ON ktp_submission (source_ref_tail);

UPDATE ktp_submission n SET source_ref_tail = RIGHT(source_ref, 255)
WHERE n.source_ref_tail IS NULL AND EXISTS (SELECT 1 FROM ktp_submission u
    WHERE u.source_ref_tail = RIGHT(n.source_ref, 255) AND u.source_ref = n.source_ref
      AND u.source_released_at IS NULL);

-- Ledger retention forgets the source keys confirmed, or claimed and never confirmed, before a
-- cut-off: read through this index, not by a scan of every key the sources remember, each pass.
CREATE INDEX IF NOT EXISTS ix_ktp_processed_input_confirmed ON ktp_processed_input (confirmed_at, created_at);

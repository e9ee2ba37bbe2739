-- a migration that takes a while, as one over a large ledger does
SELECT pg_sleep(2);
CREATE TABLE slow_done (x INT);

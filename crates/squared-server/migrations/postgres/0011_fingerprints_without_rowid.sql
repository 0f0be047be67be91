-- A sync's fingerprints become 64-bit integers (the first 8 bytes of a SHA-256 of the row as
-- read and of where it is written). Fingerprints of the old kind cannot be converted, so they
-- are forgotten: each sync's next run writes every row once more (upserts, so nothing is
-- duplicated).
DELETE FROM sync_fingerprints;
ALTER TABLE sync_fingerprints ALTER COLUMN fingerprint TYPE bigint USING 0;

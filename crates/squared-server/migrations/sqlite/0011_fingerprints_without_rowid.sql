-- A sync's fingerprints become 64-bit integers (the first 8 bytes of a SHA-256 of the row as
-- read and of where it is written), kept without a rowid: each row lives in its primary key's
-- index, so a batch's lookups touch a fraction of the pages they did. Fingerprints of the old
-- kind cannot be converted, so they are forgotten: each sync's next run writes every row once
-- more (upserts, so nothing is duplicated).
DROP TABLE sync_fingerprints;
CREATE TABLE sync_fingerprints (
    sync_id     INTEGER NOT NULL REFERENCES syncs (id) ON DELETE CASCADE,
    primary_key TEXT    NOT NULL,
    fingerprint INTEGER NOT NULL,
    PRIMARY KEY (sync_id, primary_key)
) WITHOUT ROWID;

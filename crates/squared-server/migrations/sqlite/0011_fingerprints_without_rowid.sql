-- A sync's fingerprints, looked up by (sync, key) a batch at a time, in one B-tree: without
-- a rowid, SQLite keeps each row in its primary key's index instead of in a table beside it,
-- which halves the pages a lookup touches.
CREATE TABLE sync_fingerprints_by_key (
    sync_id     INTEGER NOT NULL REFERENCES syncs (id) ON DELETE CASCADE,
    primary_key TEXT   NOT NULL,
    fingerprint TEXT   NOT NULL,
    PRIMARY KEY (sync_id, primary_key)
) WITHOUT ROWID;
INSERT INTO sync_fingerprints_by_key SELECT sync_id, primary_key, fingerprint FROM sync_fingerprints;
DROP TABLE sync_fingerprints;
ALTER TABLE sync_fingerprints_by_key RENAME TO sync_fingerprints;
